"""The admin panel's notification pages in a real browser, at phone and desktop widths: no
axe-core violation, every element reached with Tab shows its focus ring, and a message text is
edited, previewed (the email's HTML in its sandboxed frame), refused when it does not render,
and saved, as an admin does it.

The real `caldav-bridge serve` on loopback (SQLite) over the demo configuration.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.support.browser import DESKTOP, PHONE, LivePractice, browser_page
from tests.support.page_checks import PageChecks


def log_in(page: Page, live: LivePractice) -> None:
    page.goto(f"{live.base_url}/admin/login")
    page.locator("#login").fill("admin")
    page.locator("#password").fill(live.passwords["admin"])
    page.locator("#login-submit").click()
    expect(page.locator("#logged-in-as")).to_be_visible()


def edit_and_preview(pages: PageChecks) -> None:
    page = pages.page
    page.locator("#edit-fr-booked_patient").click()
    pages.check(
        "admin-message-template", "Confirmation de réservation, au patient (e-mail) (Français)"
    )
    page.locator("#text").fill(
        "Votre rendez-vous du {{ when.date }}\n\nBonjour {{ patient.first_name }},\n"
        "à bientôt : {{ manage_url }}\n"
    )
    page.locator("#preview-button").click()
    expect(page.locator("#preview-subject")).to_have_text("Votre rendez-vous du lundi, 4 mars 2030")
    frame = page.frame_locator("#preview-html")
    expect(frame.locator("body")).to_contain_text("Bonjour Zoë,")
    expect(frame.locator("a")).to_have_count(1)
    pages.check(
        "admin-message-template-preview",
        "Confirmation de réservation, au patient (e-mail) (Français)",
    )
    page.locator("#text").fill("Objet\n\n{{ patient.age }}\n")
    page.locator("#save").click()
    expect(page.locator("#form-problem")).to_have_text(
        "Ligne 3 : ce texte ne peut pas être produit ('dict object' has no attribute 'age')."
    )
    pages.check(
        "admin-message-template-refused",
        "Confirmation de réservation, au patient (e-mail) (Français)",
    )


@pytest.mark.parametrize("width", [PHONE, DESKTOP])
def test_the_notification_pages_are_accessible_and_preview_a_text(
    browser: Browser, demo: LivePractice, width: int, tmp_path: Path, practice_dir: Path
) -> None:
    # Axe, reflow and focus rings only: the docs' screenshots come from test_panel_pages.
    with browser_page(browser, width) as page:
        console: list[str] = []
        page.on("console", lambda message: console.append(message.text))
        pages = PageChecks(page, width, tmp_path, (), keyboard=True)
        log_in(page, demo)
        page.locator("#nav-notifications").click()
        pages.check("admin-notifications", "Notifications")
        page.locator("#test-email-send").click()
        expect(page.locator("#test-email-result")).to_contain_text(
            "Rien n’a été envoyé : aucun serveur de messagerie n’est configuré."
        )
        pages.check("admin-notifications-test", "Notifications")
        page.locator("#subnav-templates").click()
        pages.check("admin-message-templates", "Textes des messages")
        edit_and_preview(pages)
        assert not (practice_dir / "templates").exists()  # nothing was saved
    assert [m for m in console if "Content Security Policy" in m] == []  # the frame's styles apply
    print(pages.report() or "axe: no violation")
    assert not pages.report(), f"axe violations at {width} px:\n{pages.report()}"
    assert pages.sideways == [], f"pages wider than {width} px: {pages.sideways}"
    assert pages.no_ring == {}, f"elements focused without a visible focus ring: {pages.no_ring}"
