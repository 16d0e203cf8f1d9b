"""The main booking and manage pages at phone (375 px) and desktop (1280 px) widths: each has
no serious or critical axe-core violation, and the six pages the docs show are saved as
screenshots (<page>-<width>.png) to $CALDAV_BRIDGE_SCREENSHOTS, or to the test's temporary folder;
`make screenshots` sets it to docs/screenshots, so ordinary test runs leave the docs alone.

One walk per width through the real `caldav-bridge serve`: home, services, therapists, the
week, the week with a day's slots, details, details refused, confirmation, manage page,
reschedule week and its confirmation, the moved appointment, cancel, cancelled, privacy notice,
an unknown page.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.support.browser import (
    DESKTOP,
    PHONE,
    LivePractice,
    axe_violations,
    blocking,
    bookable_day,
    browser_page,
    describe,
    fill_details,
    open_day,
    slot_button,
    slot_starts,
)
from tests.support.calendars import ZURICH
from tests.support.page_checks import PageChecks, screenshot_folder

SHOWN = ("services", "week", "details-error", "confirmation", "manage", "reschedule")


def walk(pages: PageChecks, base_url: str, day: date) -> None:
    page = pages.page
    page.goto(base_url + "/")
    pages.check("home", "Cabinet du Lac")
    page.locator("#book").click()
    pages.check("services", "Prendre rendez-vous")
    page.locator("#service-seance-75").click()
    pages.check("therapists", "Avec qui ?")
    page.locator("#therapist-anne").click()
    pages.check("week-days", "Choisir un horaire")
    open_day(page, day)
    pages.check("week", "Choisir un horaire")
    first, second = slot_starts(page)[:2]
    page.locator(slot_button(page, first)).click()
    pages.check("details", "Vos coordonnées")
    fill_details(page, email="zoe@example", consent="")
    page.locator("#confirm-booking").click()
    expect(page.locator("#error-summary li")).to_have_count(2)
    pages.check("details-error", "Vos coordonnées")
    fill_details(page)
    page.locator("#confirm-booking").click()
    pages.check("confirmation", "Votre rendez-vous est réservé")
    page.locator("#manage-link").click()
    pages.check("manage", "Votre rendez-vous")
    page.locator("#reschedule").click()
    open_day(page, day)
    pages.check("reschedule", "Choisir un autre horaire")
    page.locator(slot_button(page, second)).click()
    pages.check("reschedule-confirm", "Déplacer votre rendez-vous ?")
    page.locator("#confirm-move").click()
    pages.check("moved", "Votre rendez-vous")
    page.locator("#cancel").click()
    pages.check("cancel", "Annuler ce rendez-vous ?")
    page.locator("#confirm-cancel").click()
    pages.check("cancelled", "Ce rendez-vous a été annulé")
    page.goto(base_url + "/privacy")
    pages.check("privacy", "Déclaration de confidentialité")
    page.goto(base_url + "/book/no-such-service/")
    pages.check("not-found", "Page introuvable")


@pytest.mark.parametrize("width", [PHONE, DESKTOP])
def test_main_pages_have_no_serious_axe_violation_and_are_photographed(
    browser: Browser, demo: LivePractice, width: int, tmp_path: Path
) -> None:
    folder = screenshot_folder(tmp_path)
    day = bookable_day(datetime.now(ZURICH).date())
    with browser_page(browser, width) as page:
        pages = PageChecks(page, width, folder, SHOWN)
        walk(pages, demo.base_url, day)
    print(pages.report() or "axe: no violation")  # every impact, for the log

    serious = pages.serious()
    assert not serious, f"serious or critical axe violations at {width} px:\n{serious}"
    assert pages.sideways == [], f"pages wider than {width} px"
    assert pages.shot_names() == pages.expected_shots(SHOWN)
    for path in pages.shots:
        assert path.stat().st_size > 5_000, path  # an image of a page, not an empty one


def test_the_axe_check_reports_what_it_must(browser: Browser) -> None:
    """The check above can fail: on a page with an unlabelled field and an image without a
    text alternative, it reports both as blocking, with their targets."""
    with browser_page(browser, PHONE) as page:
        page.set_content(
            '<html lang="fr"><head><title>t</title></head><body><main><h1>t</h1>'
            '<input id="name" type="text"><img id="photo" src="data:,"></main></body></html>'
        )
        found = blocking(axe_violations(page))
    report = describe("sample", found)
    assert "label (critical)" in report
    assert '["#name"]' in report
    assert "image-alt (critical)" in report
    assert '["#photo"]' in report
