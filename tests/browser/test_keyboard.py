"""A whole booking with the keyboard only (Tab, Enter, Space, typing), at phone and desktop
widths: the first Tab reaches the "skip to main content" link, which skips the header; every
element met on the way shows a focus ring; the confirmation shows the slot chosen."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.support.browser import (
    DESKTOP,
    PHONE,
    LivePractice,
    bookable_day,
    browser_page,
    focused,
    french_day,
    hhmm,
    next_week,
    slot_starts,
    tab_to,
)
from tests.support.calendars import ZURICH


def press_on(page: Page, element_id: str, key: str = "Enter") -> None:
    tab_to(page, element_id)
    page.keyboard.press(key)


def type_into(page: Page, element_id: str, value: str) -> None:
    tab_to(page, element_id)
    page.keyboard.type(value)


@pytest.mark.parametrize("width", [PHONE, DESKTOP])
def test_a_booking_with_the_keyboard_only(browser: Browser, demo: LivePractice, width: int) -> None:
    # A day in a later week than the first one shown: "next week" is pressed at least once.
    day = bookable_day(datetime.now(ZURICH).date() + timedelta(days=7))
    with browser_page(browser, width) as page:
        page.goto(demo.base_url + "/")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.className") == "skip-link"
        assert focused(page)["ring"]
        page.keyboard.press("Enter")  # skips the header: the next Tab is inside the page
        assert focused(page)["id"] == "main"
        assert tab_to(page, "book") == 1
        page.keyboard.press("Enter")
        expect(page.locator("h1")).to_have_text("Prendre rendez-vous")
        press_on(page, "service-seance-75")
        expect(page.locator("h1")).to_have_text("Avec qui ?")
        press_on(page, "therapist-anne")
        expect(page.locator("h1")).to_have_text("Choisir un horaire")

        day_link = page.locator(f"a#day-{day.isoformat()}")
        for _ in range(16):
            if day_link.count():
                break
            next_week(page, lambda: press_on(page, "next-week"))
        press_on(page, f"day-{day.isoformat()}")
        expect(page.locator("#slots legend")).to_have_text(f"Créneaux libres le {french_day(day)}")
        start = slot_starts(page)[0].astimezone(ZURICH)
        press_on(page, f"slot-{start:%H%M}", key="Space")
        expect(page.locator("h1")).to_have_text("Vos coordonnées")

        type_into(page, "first_name", "Zoë")
        type_into(page, "last_name", "Müller-Ødegård")
        type_into(page, "email", "zoe@example.org")
        type_into(page, "phone", "079 123 45 67")
        press_on(page, "consent", key="Space")
        assert page.locator("#consent").is_checked()
        press_on(page, "confirm-booking")
        expect(page.locator("h1")).to_have_text("Votre rendez-vous est réservé")
        assert page.locator("#appointment-date").inner_text() == french_day(day)
        assert page.locator("#appointment-time").inner_text().startswith(hhmm(start))
