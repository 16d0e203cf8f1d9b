"""The admin panel's services and new-therapist pages in a real browser, at phone and desktop
widths: no axe-core violation, every element reached with Tab shows its focus ring, and an
admin creates a service (refused first for a duration of 0) and a therapist with the forms as
they are, then finds the service offered on the booking page.

The real `caldav-bridge serve` on loopback (SQLite) over the demo configuration.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.support.browser import DESKTOP, PHONE, LivePractice, browser_page
from tests.support.page_checks import PageChecks

NAMES = {
    "fr": "Bilan (60 min)",
    "de": "Standortbestimmung (60 Min.)",
    "it": "Bilancio (60 min)",
    "en": "Assessment (60 min)",
}


def log_in(page: Page, live: LivePractice) -> None:
    page.goto(f"{live.base_url}/admin/login")
    page.locator("#login").fill("admin")
    page.locator("#password").fill(live.passwords["admin"])
    page.locator("#login-submit").click()
    expect(page.locator("#logged-in-as")).to_be_visible()


def create_service(pages: PageChecks) -> None:
    page = pages.page
    page.locator("#nav-services").click()
    pages.check("admin-services", "Prestations")
    page.locator("#new-service").click()
    pages.check("admin-service-new", "Nouvelle prestation")
    page.locator("#id").fill("bilan-60")
    for language, name in NAMES.items():
        page.locator(f"#name-{language}").fill(name)
    page.locator("#duration_minutes").fill("0")
    page.locator("#therapist-anne").check()
    page.locator("#save").click()
    expect(page.locator("#duration_minutes-error")).to_have_text(
        "Veuillez saisir une durée en minutes, de 5 à 600."
    )
    pages.check("admin-service-refused", "Nouvelle prestation")
    page.locator("#duration_minutes").fill("60")
    page.locator("#save").click()
    expect(page.locator(".flash-success")).to_have_text("La prestation est créée.")
    pages.check("admin-service", "Bilan (60 min) (bilan-60)")


def create_therapist(pages: PageChecks) -> None:
    page = pages.page
    page.locator("#nav-therapists").click()
    page.locator("#new-therapist").click()
    pages.check("admin-therapist-new", "Nouveau ou nouvelle thérapeute")
    page.locator("#login").fill("claire")
    page.locator("#name").fill("Claire Dubois")
    page.locator("#email").fill("claire@cabinet-du-lac.example")
    page.locator("#phone").fill("079 555 01 03")
    page.locator("#color").fill("#aa3366")
    page.locator("#save").click()
    pages.check("admin-therapist-created", "Claire Dubois (claire)")
    page.locator("#details-link").click()
    expect(page.locator("#phone")).to_have_value("+41795550103")
    pages.check("admin-therapist-details", "Détails · Claire Dubois")


@pytest.mark.parametrize("width", [PHONE, DESKTOP])
def test_the_services_and_new_therapist_pages_are_accessible_and_work(
    browser: Browser, demo: LivePractice, width: int, tmp_path: Path
) -> None:
    # Axe, reflow and focus rings only: the docs' screenshots come from test_panel_pages.
    with browser_page(browser, width) as page:
        pages = PageChecks(page, width, tmp_path, (), keyboard=True)
        log_in(page, demo)
        create_service(pages)
        create_therapist(pages)
        page.goto(f"{demo.base_url}/book/")
        expect(page.locator("#service-bilan-60")).to_contain_text("Bilan (60 min)")
    print(pages.report() or "axe: no violation")
    assert not pages.report(), f"axe violations at {width} px:\n{pages.report()}"
    assert pages.sideways == [], f"pages wider than {width} px: {pages.sideways}"
    assert pages.no_ring == {}, f"elements focused without a visible focus ring: {pages.no_ring}"
