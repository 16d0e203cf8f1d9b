"""The therapist space's and the admin panel's pages at phone (375 px) and desktop (1280 px)
widths: none has an axe-core violation, of any impact, nor is wider than the window, and every
element reached with Tab shows a focus ring; the pages the docs show are saved as screenshots
(therapist-<page>-<width>.png at both widths, admin-<page>-1280.png: the panel is a desk job)
to $CALDAV_BRIDGE_SCREENSHOTS (`make screenshots`), else to the test's temporary folder.

The real `caldav-bridge serve` on loopback (SQLite), its notices sent to a loopback SMTP
server; Zoë and Hans booked online first, so the agenda, the patients, the delivery log and the
audit log have something to show. In the admin's walk Hans then cancels online (his manage
link), so that his data may be erased: the erasure's confirmation page has its form.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect

from caldav_bridge.store.database import DATABASE_URL_ENV
from tests.support.browser import (
    DESKTOP,
    PHONE,
    LivePractice,
    bookable_day,
    browser_page,
    french_day,
    served_demo,
)
from tests.support.calendars import ZURICH
from tests.support.notify import configure
from tests.support.online_bookings import PATIENTS, free_starts, online_booking
from tests.support.page_checks import PageChecks, screenshot_folder, tab_through
from tests.support.smtp import SmtpServer

THERAPIST_SHOWN = (
    "therapist-login",
    "therapist-agenda-day",
    "therapist-agenda-week",
    "therapist-appointment-new",
    "therapist-patients",
    "therapist-patient",
    "therapist-account",
)
ADMIN_SHOWN = (
    "admin-practice",
    "admin-hours",
    "admin-therapists",
    "admin-therapist-details",
    "admin-therapist-new",
    "admin-services",
    "admin-service",
    "admin-notifications",
    "admin-message-templates",
    "admin-message-template",
    "admin-deliveries",
    "admin-audit",
    "admin-patients",
    "admin-patient",
    "admin-patient-erase",
)
TEMPLATE = "Confirmation de réservation, au patient (e-mail) (Français)"
MAIL_TIMEOUT = 60.0


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture
def live(practice_toml: Path, smtp: SmtpServer) -> Iterator[LivePractice]:
    configure(practice_toml, smtp)
    with served_demo(practice_toml, {DATABASE_URL_ENV: ""}) as served:
        yield served


@dataclass(frozen=True)
class Booked:
    day: date
    manage_paths: dict[str, str]  # by the patient's first name


@pytest.fixture
def booked(live: LivePractice, smtp: SmtpServer) -> Booked:
    """Zoë and Hans booked anne online on the same day; their notices are sent."""
    day = bookable_day(datetime.now(ZURICH).date())
    paths = {}
    for patient, start in zip(PATIENTS, free_starts(live.base_url, day)[1::2], strict=False):
        link = online_booking(live.base_url, patient, start)["manage_url"]
        paths[patient["first_name"]] = urlsplit(link).path  # the link names public_url
    smtp.wait_for(2 * len(PATIENTS), timeout=MAIL_TIMEOUT)
    return Booked(day, paths)


def log_in(page: Page, base_url: str, space: str, login: str, password: str) -> None:
    page.locator("#login").fill(login)
    page.locator("#password").fill(password)
    page.locator("#login-submit").click()
    expect(page.locator("#logged-in-as")).to_be_visible()
    assert page.url.startswith(f"{base_url}/{space}/")


def therapist_walk(pages: PageChecks, live: LivePractice, day: date) -> None:
    page, base = pages.page, live.base_url
    monday = day - timedelta(days=day.weekday())
    page.goto(f"{base}/therapist/login")
    pages.check("therapist-login", "Connexion thérapeute")
    log_in(page, base, "therapist", "anne", live.passwords["anne"])
    page.goto(f"{base}/therapist/agenda?view=week&date={day.isoformat()}")
    pages.check("therapist-agenda-week", f"Semaine du {french_day(monday)}")
    page.locator(f"#day-{day.isoformat()} h2 a").click()
    expect(page.locator(".entry")).to_have_count(len(PATIENTS))
    pages.check("therapist-agenda-day", french_day(day))
    page.locator(".entry a").first.click()
    pages.check("therapist-appointment", "Rendez-vous")
    page.locator("#move").click()
    pages.check("therapist-move", "Déplacer le rendez-vous")
    page.locator("#other-time").get_by_label("Heure", exact=True).fill("12:30")
    page.locator("#other-time-submit").click()
    pages.check("therapist-confirm-time", "Veuillez confirmer cette heure")
    page.locator("#choose-another").click()
    page.locator("#keep").click()
    page.locator("#cancel").click()
    pages.check("therapist-cancel", "Annuler ce rendez-vous ?")
    page.locator("#nav-patients").click()
    pages.check("therapist-patients", "Patients")
    page.get_by_role("link", name="Müller Zoë").click()
    pages.check("therapist-patient", "Zoë Müller")
    page.locator("#book-for-patient").click()
    page.locator("#day").fill(day.isoformat())
    page.locator("#show-free-times").click()
    expect(page.locator("#free-times-title")).to_contain_text(french_day(day))
    pages.check("therapist-appointment-new", "Nouveau rendez-vous")
    page.locator("#nav-new-appointment").click()
    pages.check("therapist-choose-patient", "Nouveau rendez-vous")
    page.locator("#new-patient").click()
    page.locator("#email").fill("zoe@")
    page.locator("#save-patient").click()
    expect(page.locator("#error-summary")).to_be_visible()
    pages.check("therapist-patient-error", "Nouveau patient")
    page.locator("#nav-account").click()
    pages.check("therapist-account", "Mon compte")


def admin_walk(pages: PageChecks, live: LivePractice, day: date) -> None:
    """The practice, hours, therapists, services, notifications and logs."""
    page, base = pages.page, live.base_url
    page.goto(f"{base}/admin/login")
    pages.check("admin-login", "Connexion administrateur")
    log_in(page, base, "admin", "admin", live.passwords["admin"])
    pages.check("admin-practice", "Cabinet")
    page.locator("#nav-hours").click()
    pages.check("admin-hours-index", "Horaires")
    page.goto(f"{base}/admin/hours/anne?day={day.isoformat()}")
    expect(page.locator("#preview-seance-75 .slot")).not_to_have_count(0)
    pages.check("admin-hours", "Horaires · Anne Rochat")
    page.locator("#nav-therapists").click()
    pages.check("admin-therapists", "Thérapeutes")
    page.locator("#therapist-anne a").click()
    pages.check("admin-therapist", "Anne Rochat (anne)")
    page.locator("#details-link").click()
    pages.check("admin-therapist-details", "Détails · Anne Rochat")
    page.locator("#nav-therapists").click()
    page.locator("#new-therapist").click()
    pages.check("admin-therapist-new", "Nouveau ou nouvelle thérapeute")
    page.locator("#nav-services").click()
    expect(page.locator("#services tbody tr")).to_have_count(3)
    pages.check("admin-services", "Prestations")
    page.get_by_role("link", name="Séance (75 min)", exact=True).click()
    pages.check("admin-service", "Séance (75 min) (seance-75)")
    notification_pages(pages)
    # Not a click: at phone width, chromium drops a click on the menu right after the Tab
    # round left this long page scrolled to its foot (no event reaches the page).
    page.goto(f"{base}/admin/deliveries")
    expect(page.locator("#deliveries tbody tr")).to_have_count(2 * len(PATIENTS))
    pages.check("admin-deliveries", "Journal des envois")
    page.locator("#nav-audit").click()
    pages.check("admin-audit", "Journal d’audit")


def notification_pages(pages: PageChecks) -> None:
    """The settings, the message texts, and one text previewed as it stands."""
    page = pages.page
    page.locator("#nav-notifications").click()
    pages.check("admin-notifications", "Notifications")
    page.locator("#subnav-templates").click()
    pages.check("admin-message-templates", "Textes des messages")
    page.locator("#edit-fr-booked_patient").click()
    page.locator("#preview-button").click()
    expect(page.frame_locator("#preview-html").locator("body")).to_contain_text("Zoë")
    # chromium paints a sandboxed frame only once it has been in view: else the screenshot
    # of the whole page shows it empty.
    page.locator("#preview-html").scroll_into_view_if_needed()
    pages.check("admin-message-template", TEMPLATE)


def patient_pages(pages: PageChecks, live: LivePractice, booked: Booked, smtp: SmtpServer) -> None:
    """The patients, Zoë's record, and the erasure: refused for Zoë, whose appointment is to
    come; asked to confirm for Hans once he cancelled his appointment online (and he and anne
    were told)."""
    page = pages.page
    page.locator("#nav-patients").click()
    expect(page.locator("#patients tbody tr")).to_have_count(len(PATIENTS))
    pages.check("admin-patients", "Patients")
    page.get_by_role("link", name="Müller Zoë").click()
    expect(page.locator("#appointments tbody tr")).to_have_count(1)
    pages.check("admin-patient", "Zoë Müller")
    page.locator("#erase-link").click()
    expect(page.locator("#upcoming li")).to_have_count(1)
    pages.check("admin-patient-erase-refused", "Effacer les données de Zoë Müller")
    page.goto(live.base_url + booked.manage_paths["Hans"])
    page.locator("#cancel").click()
    page.locator("#confirm-cancel").click()
    expect(page.locator("h1")).to_have_text("Ce rendez-vous a été annulé")
    smtp.wait_for(2 * len(PATIENTS) + 2, timeout=MAIL_TIMEOUT)
    page.goto(f"{live.base_url}/admin/patients")
    page.get_by_role("link", name="Keller Hans").click()
    page.locator("#erase-link").click()
    expect(page.locator("#erase-form")).to_be_visible()
    pages.check("admin-patient-erase", "Effacer les données de Hans Keller")


def assert_clean(pages: PageChecks, shown: tuple[str, ...]) -> None:
    print(pages.report() or "axe: no violation")
    found = pages.report()
    assert not found, f"axe violations at {pages.width} px:\n{found}"
    assert pages.sideways == [], f"pages wider than {pages.width} px"
    assert pages.no_ring == {}, "elements focused without a visible focus ring"
    assert pages.shot_names() == pages.expected_shots(shown)
    for path in pages.shots:
        assert path.stat().st_size > 5_000, path  # an image of a page, not an empty one


@pytest.mark.parametrize("width", [PHONE, DESKTOP])
def test_the_therapist_spaces_pages_have_no_axe_violation_and_are_photographed(
    browser: Browser, live: LivePractice, booked: Booked, width: int, tmp_path: Path
) -> None:
    with browser_page(browser, width) as page:
        folder = screenshot_folder(tmp_path)
        pages = PageChecks(page, width, folder, THERAPIST_SHOWN, keyboard=True)
        therapist_walk(pages, live, booked.day)
    assert_clean(pages, THERAPIST_SHOWN)


@pytest.mark.parametrize("width", [PHONE, DESKTOP])
def test_the_admin_panels_pages_have_no_axe_violation_and_are_photographed(
    browser: Browser,
    live: LivePractice,
    booked: Booked,
    smtp: SmtpServer,
    width: int,
    tmp_path: Path,
) -> None:
    shown = ADMIN_SHOWN if width == DESKTOP else ()
    with browser_page(browser, width) as page:
        pages = PageChecks(page, width, screenshot_folder(tmp_path), shown, keyboard=True)
        admin_walk(pages, live, booked.day)
        patient_pages(pages, live, booked, smtp)
    assert_clean(pages, shown)


def test_the_keyboard_walk_reports_a_focus_without_a_ring(browser: Browser) -> None:
    """The walk above can fail: Tab reaches every element of a page, and one whose focus
    ring a style removed is reported."""
    with browser_page(browser, DESKTOP) as page:
        page.set_content(
            '<html lang="fr"><head><title>t</title><style>:focus-visible { outline: 3px solid }'
            " #bare:focus-visible { outline: none }</style></head><body><main><h1>t</h1>"
            '<a id="first" href="#a">a</a> <button id="bare">b</button> <input id="last">'
            "</main></body></html>"
        )
        assert tab_through(page) == ["button#bare"]
        assert page.evaluate("document.querySelectorAll('[data-tabbed]').length") == 3
