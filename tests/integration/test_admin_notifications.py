"""Notification settings in the admin panel, on SQLite and PostgreSQL: reminders and channels,
the mail server and Twilio saved into ``practice.toml`` (comments kept) and followed by the
watcher; invalid, stale and read-only forms change nothing; test messages reach a real SMTP
server on loopback and the real twilio client's loopback Messages API, and a provider's refusal
is shown in the admin's words."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from booking_web import create_app
from caldav_bridge.store import Store
from tests.integration.test_admin_practice import hand_edit
from tests.integration.test_admin_support import Space, admin_panel, logged_in_admin, submit
from tests.support.notify import SENDER, at, close_practices, open_practice
from tests.support.notify import configure as point_at
from tests.support.smtp import SmtpServer
from tests.support.twilio_server import AUTH_TOKEN, TwilioServer
from tests.support.web import WebApp, attribute, configure, element, location, text_of

PAGE = "/admin/notifications"
SMTP = "/admin/notifications/smtp"
TWILIO = "/admin/notifications/twilio"
TEST_EMAIL = "/admin/notifications/test-email"
TEST_SMS = "/admin/notifications/test-sms"
ENVIRON = {"TWILIO_AUTH_TOKEN": AUTH_TOKEN}


def notifications_panel(
    store: Store, practice_toml: Path, environ: Mapping[str, str] = ENVIRON
) -> Space:
    """The admin panel of a process started with ``environ`` (where the secrets are)."""
    web = admin_panel(store, practice_toml).web
    runtime = replace(web.runtime, environ=environ)
    return Space(WebApp(create_app(runtime), store, web.clock, runtime))


@pytest.fixture(autouse=True)
def _closed_stores() -> Iterator[None]:
    yield
    close_practices()


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture
def twilio() -> Iterator[TwilioServer]:
    with TwilioServer() as server:
        yield server


@pytest.fixture
def space(store: Store, practice_toml: Path) -> Space:
    return notifications_panel(store, practice_toml)


@pytest.fixture
def admin(space: Space) -> FlaskClient:
    return logged_in_admin(space)


def section(path: Path, name: str) -> dict[str, object] | None:
    found = tomllib.loads(path.read_text(encoding="utf-8")).get(name)
    assert found is None or isinstance(found, dict)
    return found


def comments(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.lstrip().startswith("#")]


def last_audit(space: Space) -> tuple[str, str, str, str]:
    with space.store.read() as tx:
        entry = tx.audit_entries(1)[0]
    return entry.actor, entry.action, entry.subject, entry.details


def mail_server(smtp: SmtpServer, **changes: str) -> dict[str, str]:
    fields = {
        "smtp_host": smtp.host,
        "smtp_port": str(smtp.port),
        "smtp_security": "none",
        "smtp_username": "",
        "smtp_password_env": "",
        "smtp_from": SENDER,
    }
    return {**fields, **changes}


def test_settings_land_in_the_file_and_move_the_reminder(
    space: Space,
    admin: FlaskClient,
    practice_toml: Path,
    database_url: str,
    smtp: SmtpServer,
    twilio: TwilioServer,
) -> None:
    point_at(practice_toml, smtp, twilio)
    practice = open_practice(practice_toml, database_url)
    practice.runtime.config_source.interval = 0.0  # the watcher reads the file at each pass
    before = practice_toml.read_text(encoding="utf-8")
    fields = {"notifications_reminder_lead_hours": "48", "notifications_email_reminders": "on"}
    answer = submit(admin, admin.get(PAGE), PAGE, fields)
    assert location(answer) == f"{PAGE}#notifications-section"
    after = practice_toml.read_text(encoding="utf-8")
    assert comments(practice_toml) == [
        line for line in before.splitlines() if line.lstrip().startswith("#")
    ]
    changed = [a for a, b in zip(before.splitlines(), after.splitlines(), strict=True) if a != b]
    assert changed == ["reminder_lead_hours = 24", "email_reminders = false"]
    assert section(practice_toml, "notifications") == {
        "reminder_lead_hours": 48,
        "sms_reminders": True,
        "email_reminders": True,
        "sms_notices": False,
    }
    assert last_audit(space) == (
        "admin",
        "settings.notifications",
        "notifications",
        "keys=reminder_lead_hours,email_reminders",
    )
    assert 'id="lead-48" checked' in admin.get(PAGE).get_data(as_text=True)

    start = at("2026-12-04 09:15")
    practice.book(start)
    practice.run()  # the booking's emails
    practice.run(start - timedelta(hours=48, minutes=1))
    assert twilio.messages == []
    assert [m.subject for m in smtp.to("zoe@example.org")] == [
        "Rendez-vous confirmé : vendredi, 4 décembre 2026 à 09:15"
    ]
    practice.run(start - timedelta(hours=48))
    (sms,) = twilio.messages
    assert sms["body"].startswith("Bonjour Zoë, rappel : rendez-vous le ven. 4 déc. à 09:15")
    assert smtp.to("zoe@example.org")[-1].subject == (
        "Rappel : rendez-vous le vendredi, 4 décembre 2026 à 09:15"
    )


@pytest.mark.parametrize(
    ("action", "fields", "field", "message"),
    [
        (
            PAGE,
            {"notifications_reminder_lead_hours": "36"},
            "notifications_reminder_lead_hours",
            "Veuillez choisir 24, 48 ou 72 heures.",
        ),
        (
            SMTP,
            {"smtp_port": "70000"},
            "smtp_port",
            "Veuillez saisir un numéro de port de 1 à 65535, p. ex. 587.",
        ),
        (
            SMTP,
            {"smtp_host": "mail server"},
            "smtp_host",
            "Veuillez saisir le nom du serveur de messagerie, p. ex. mail.exemple.ch.",
        ),
        (
            SMTP,
            {"smtp_username": "cabinet", "smtp_password_env": "hunter2"},
            "smtp_password_env",
            "Veuillez saisir le nom d’une variable d’environnement (majuscules, chiffres et _), "
            "p. ex. SMTP_PASSWORD : le secret lui-même ne va jamais dans le fichier.",
        ),
        (
            SMTP,
            {"smtp_from": "rendez-vous"},
            "smtp_from",
            "Veuillez saisir l’adresse de l’expéditeur, "
            "p. ex. Cabinet du Lac <rendez-vous@exemple.ch>.",
        ),
        (
            SMTP,
            {"smtp_host": "mail.example.ch\r\nBcc: x@example.org"},
            "smtp_host",
            "Veuillez utiliser au plus 200 caractères sur une seule ligne.",
        ),
        (
            TWILIO,
            {"twilio_account_sid": "AC123"},
            "twilio_account_sid",
            "Veuillez saisir l’Account SID de la console Twilio : AC suivi de 32 caractères.",
        ),
        (
            TWILIO,
            {"twilio_from_number": "12"},
            "twilio_from_number",
            "Veuillez saisir le numéro au format international, p. ex. +41 79 000 00 00.",
        ),
        (
            TWILIO,
            {"twilio_from_number": "", "twilio_messaging_service_sid": ""},
            "twilio_from_number",
            "Veuillez saisir un numéro d’envoi ou le SID d’un service de messagerie.",
        ),
    ],
)
def test_an_invalid_value_gets_a_message_next_to_it_and_nothing_is_saved(
    admin: FlaskClient,
    practice_toml: Path,
    smtp: SmtpServer,
    action: str,
    fields: dict[str, str],
    field: str,
    message: str,
) -> None:
    before = practice_toml.read_text(encoding="utf-8")
    valid = {
        PAGE: {},
        SMTP: mail_server(smtp),
        TWILIO: {
            "twilio_account_sid": "AC" + "0" * 32,
            "twilio_auth_token_env": "TWILIO_AUTH_TOKEN",
            "twilio_from_number": "+41790000000",
        },
    }[action]
    answer = submit(admin, admin.get(PAGE), action, {**valid, **fields})
    assert answer.status_code == 422
    assert element(answer, f"{field}-error") == message
    target = "lead-24" if field == "notifications_reminder_lead_hours" else field
    assert attribute(answer, target, "aria-invalid") == "true"
    assert practice_toml.read_text(encoding="utf-8") == before


def test_messages_follow_the_admins_language(space: Space, smtp: SmtpServer) -> None:
    admin = logged_in_admin(space)
    admin.environ_base["HTTP_ACCEPT_LANGUAGE"] = "de"
    answer = submit(admin, admin.get(PAGE), SMTP, mail_server(smtp, smtp_port="x"))
    assert element(answer, "smtp_port-error") == (
        "Bitte geben Sie eine Portnummer von 1 bis 65535 ein, z. B. 587."
    )


def test_a_mail_server_saved_in_the_panel_sends_the_test_email(
    space: Space, admin: FlaskClient, practice_toml: Path, smtp: SmtpServer
) -> None:
    before = comments(practice_toml)
    answer = submit(admin, admin.get(PAGE), SMTP, mail_server(smtp))
    assert location(answer) == f"{PAGE}#smtp-section"
    assert section(practice_toml, "smtp") == {
        "host": "127.0.0.1",
        "port": smtp.port,
        "security": "none",
        "from": SENDER,
    }
    assert comments(practice_toml) == before
    assert last_audit(space)[1:] == ("settings.smtp", "smtp", "keys=host,port,security,from")
    page = admin.get(PAGE)
    assert element(page, "smtp-status") == "Les e-mails sont envoyés par ce serveur de messagerie."
    assert attribute(page, "test_email", "value") == "contact@cabinet-du-lac.example"

    answer = submit(admin, page, TEST_EMAIL, {"test_email": "admin@example.org"})
    assert answer.status_code == 200
    (mail,) = smtp.wait_for(1)
    assert mail.to == "admin@example.org"
    assert mail.message["From"] == SENDER
    assert mail.subject == "Message de test de Cabinet du Lac"
    assert mail.part("text/plain").startswith(
        "Ceci est un e-mail de test envoyé depuis le panneau d’administration de Cabinet du Lac"
    )
    assert "Cabinet du Lac" in mail.part("text/html")
    assert element(answer, "test-email-result").startswith(
        f"Le serveur de messagerie 127.0.0.1:{smtp.port} a accepté l’e-mail de test "
        "pour admin@example.org (sa réponse : "
    )
    assert last_audit(space) == ("admin", "notifications.test_email", "smtp", "outcome=sent")


def test_a_mail_server_that_is_down_or_refuses_is_explained(
    space: Space, admin: FlaskClient, practice_toml: Path, smtp: SmtpServer
) -> None:
    point_at(practice_toml, smtp)
    smtp.refuse("nobody@example.org")
    answer = submit(admin, admin.get(PAGE), TEST_EMAIL, {"test_email": "nobody@example.org"})
    assert answer.status_code == 502
    assert element(answer, "test-email-result") == (
        f"Le serveur de messagerie 127.0.0.1:{smtp.port} a refusé l’adresse du destinataire. "
        "(SMTP 550 5.1.1 Mailbox unavailable)"
    )
    smtp.stop()
    answer = submit(admin, admin.get(PAGE), TEST_EMAIL, {"test_email": "admin@example.org"})
    assert answer.status_code == 502
    result = element(answer, "test-email-result")
    assert result.startswith(
        f"Le serveur de messagerie 127.0.0.1:{smtp.port} a refusé la connexion : vérifiez "
        "le serveur et le port, et que le serveur fonctionne. (SMTP server unreachable:"
    )
    assert "Connection refused" in result
    assert "Traceback" not in answer.get_data(as_text=True)
    assert last_audit(space) == (
        "admin",
        "notifications.test_email",
        "smtp",
        "outcome=failed (smtp unreachable)",
    )
    assert smtp.received == []


def test_secrets_stay_in_the_environment_and_their_state_is_shown(
    space: Space, admin: FlaskClient, practice_toml: Path, smtp: SmtpServer, twilio: TwilioServer
) -> None:
    point_at(practice_toml, twilio=twilio)
    fields = mail_server(smtp, smtp_username="cabinet", smtp_password_env="SMTP_PASSWORD")
    saved = admin.get(location(submit(admin, admin.get(PAGE), SMTP, fields)))
    assert section(practice_toml, "smtp") == {
        "host": "127.0.0.1",
        "port": smtp.port,
        "security": "none",
        "username": "cabinet",
        "password_env": "SMTP_PASSWORD",
        "from": SENDER,
    }
    assert "SMTP_PASSWORD n’est pas définie dans l’environnement de ce serveur" in text_of(saved)
    assert element(saved, "smtp-secret-state") == (
        "SMTP_PASSWORD n’est pas définie dans l’environnement de ce serveur : les e-mails ne "
        "peuvent pas partir tant qu’elle ne l’est pas."
    )
    assert element(saved, "twilio-secret-state") == (
        "TWILIO_AUTH_TOKEN est définie dans l’environnement de ce serveur "
        "(sa valeur n’est jamais affichée)."
    )
    assert AUTH_TOKEN not in saved.get_data(as_text=True)
    answer = submit(admin, saved, TEST_EMAIL, {"test_email": "admin@example.org"})
    assert answer.status_code == 409
    assert element(answer, "test-email-result") == (
        "Rien n’a été envoyé : SMTP_PASSWORD n’est pas définie dans l’environnement de ce serveur."
    )
    assert smtp.received == []


def test_the_mail_servers_login_takes_the_password_from_the_environment(
    store: Store, practice_toml: Path
) -> None:
    environ = {"SMTP_PASSWORD": "not-the-password-9"}  # the process's environment, live
    space = notifications_panel(store, practice_toml, environ)
    admin = logged_in_admin(space)
    with SmtpServer(logins={"cabinet": "the-password-7"}) as server:
        fields = mail_server(server, smtp_username="cabinet", smtp_password_env="SMTP_PASSWORD")
        submit(admin, admin.get(PAGE), SMTP, fields)
        answer = submit(admin, admin.get(PAGE), TEST_EMAIL, {"test_email": "admin@example.org"})
        assert answer.status_code == 502
        assert element(answer, "test-email-result").startswith(
            f"Le serveur de messagerie 127.0.0.1:{server.port} a refusé l’identification : "
            "vérifiez le nom d’utilisateur et le mot de passe dans SMTP_PASSWORD. (SMTP 535"
        )
        environ["SMTP_PASSWORD"] = "the-password-7"
        answer = submit(admin, admin.get(PAGE), TEST_EMAIL, {"test_email": "admin@example.org"})
        assert answer.status_code == 200
        assert [mail.to for mail in server.wait_for(1)] == ["admin@example.org"]
    page = answer.get_data(as_text=True)
    assert "the-password-7" not in page
    assert "the-password-7" not in practice_toml.read_text(encoding="utf-8")


def test_a_test_sms_goes_through_twilio_with_the_settings_of_the_panel(
    space: Space, admin: FlaskClient, practice_toml: Path, twilio: TwilioServer
) -> None:
    point_at(practice_toml, twilio=twilio)
    answer = submit(admin, admin.get(PAGE), TEST_SMS, {"test_phone": "079 123 45 67"})
    assert answer.status_code == 200
    (sms,) = twilio.messages
    assert (sms["to"], sms["from"]) == ("+41791234567", "+41790000000")
    assert sms["body"] == (
        "SMS de test de Cabinet du Lac. Les réglages des SMS fonctionnent, inutile de répondre."
    )
    assert element(answer, "test-sms-result") == (
        f"Twilio a accepté le SMS de test pour +41791234567 (message {sms['sid']})."
    )
    assert last_audit(space) == ("admin", "notifications.test_sms", "twilio", "outcome=sent")

    fields = {"twilio_from_number": "+41 79 111 22 33"}
    assert location(submit(admin, admin.get(PAGE), TWILIO, fields)) == f"{PAGE}#twilio-section"
    twilio_table = section(practice_toml, "twilio")
    assert twilio_table is not None
    assert twilio_table["from_number"] == "+41791112233"
    assert twilio_table["api_base_url"] == twilio.base_url  # keys the form does not show stay
    submit(admin, admin.get(PAGE), TEST_SMS, {"test_phone": "+41 79 123 45 67"})
    assert twilio.messages[-1]["from"] == "+41791112233"


def test_a_twilio_refusal_is_explained(
    space: Space, admin: FlaskClient, practice_toml: Path, twilio: TwilioServer
) -> None:
    point_at(practice_toml, twilio=twilio)
    refusal = "The 'To' number +41791234567 is not a valid phone number."
    twilio.refuse("+41791234567", 21211, refusal)
    answer = submit(admin, admin.get(PAGE), TEST_SMS, {"test_phone": "079 123 45 67"})
    assert answer.status_code == 502
    assert element(answer, "test-sms-result") == (
        "Selon Twilio, ce numéro de téléphone n’est pas valide. "
        f"(Twilio 400 21211: Unable to create record: {refusal})"
    )
    assert attribute(answer, "test_phone", "value") == "079 123 45 67"
    assert last_audit(space)[3] == "outcome=failed (twilio 21211)"
    assert twilio.messages == []


def test_a_wrong_auth_token_is_explained(
    store: Store, practice_toml: Path, twilio: TwilioServer
) -> None:
    point_at(practice_toml, twilio=twilio)
    space = notifications_panel(store, practice_toml, {"TWILIO_AUTH_TOKEN": "wrong"})
    admin = logged_in_admin(space)
    answer = submit(admin, admin.get(PAGE), TEST_SMS, {"test_phone": "079 123 45 67"})
    assert answer.status_code == 502
    assert element(answer, "test-sms-result").startswith(
        "Twilio a refusé l’Account SID ou le jeton d’authentification dans TWILIO_AUTH_TOKEN. "
        "(Twilio 401 20003"
    )


def test_without_a_provider_nothing_is_sent_and_the_page_says_where_messages_go(
    admin: FlaskClient, practice_dir: Path
) -> None:
    outbox = (practice_dir.parent / "var" / "outbox").resolve()
    page = admin.get(PAGE)
    assert element(page, "smtp-status") == (
        f"Aucun serveur de messagerie n’est configuré : les e-mails sont écrits comme fichiers "
        f"dans {outbox}."
    )
    assert 'id="smtp-remove"' not in page.get_data(as_text=True)
    answer = submit(admin, page, TEST_EMAIL, {"test_email": "admin@example.org"})
    assert answer.status_code == 409
    assert element(answer, "test-email-result") == (
        "Rien n’a été envoyé : aucun serveur de messagerie n’est configuré. Tant que vous n’en "
        f"ajoutez pas un ci-dessus, les e-mails sont écrits comme fichiers dans {outbox}."
    )
    answer = submit(admin, page, TEST_SMS, {"test_phone": "079 123 45 67"})
    assert element(answer, "test-sms-result").startswith(
        "Rien n’a été envoyé : Twilio n’est pas configuré."
    )
    assert not outbox.exists() or list(outbox.iterdir()) == []


def test_removing_the_mail_server_goes_back_to_files(
    space: Space, admin: FlaskClient, practice_toml: Path, smtp: SmtpServer
) -> None:
    point_at(practice_toml, smtp)
    before = comments(practice_toml)
    page = admin.get(PAGE)
    answer = submit(admin, page, "/admin/notifications/smtp/remove", {})
    assert location(answer) == f"{PAGE}#smtp-section"
    assert section(practice_toml, "smtp") is None
    assert comments(practice_toml) == before
    assert last_audit(space)[1:] == ("settings.smtp.remove", "smtp", "keys=smtp")
    shown = admin.get(PAGE)
    assert element(shown, "smtp-status").startswith("Aucun serveur de messagerie n’est configuré")
    assert "Le serveur de messagerie est retiré" in text_of(shown)


def test_a_file_changed_since_the_form_was_opened_is_not_overwritten(
    admin: FlaskClient, practice_toml: Path, smtp: SmtpServer
) -> None:
    page = admin.get(PAGE)
    hand_edit(practice_toml, "reminder_lead_hours = 24", "reminder_lead_hours = 72")
    answer = submit(admin, page, SMTP, mail_server(smtp))
    assert answer.status_code == 409
    assert element(answer, "smtp-problem").startswith(
        "Le fichier de configuration a été modifié depuis l’ouverture de ce formulaire"
    )
    assert section(practice_toml, "smtp") is None
    assert section(practice_toml, "notifications") == {
        "reminder_lead_hours": 72,
        "sms_reminders": True,
        "email_reminders": False,
        "sms_notices": False,
    }
    assert attribute(answer, "smtp_host", "value") == "127.0.0.1"  # the admin's entries stay
    again = submit(admin, answer, SMTP, {})
    assert location(again) == f"{PAGE}#smtp-section"
    assert section(practice_toml, "smtp") is not None
    assert (
        tomllib.loads(practice_toml.read_text(encoding="utf-8"))["notifications"][
            "reminder_lead_hours"
        ]
        == 72
    )


def test_a_read_only_configuration_is_shown_but_not_changed(
    space: Space, practice_toml: Path, smtp: SmtpServer
) -> None:
    configure(practice_toml, config_read_only="true")
    space.web.runtime.config_source.interval = 0.0
    admin = logged_in_admin(space)
    page = admin.get(PAGE)
    assert element(page, "read-only").startswith("La configuration est en lecture seule")
    assert 'id="smtp-save"' not in page.get_data(as_text=True)
    before = practice_toml.read_text(encoding="utf-8")
    answer = submit(admin, page, SMTP, mail_server(smtp))
    assert answer.status_code == 403
    assert element(answer, "smtp-problem").startswith(
        "La configuration de cette installation est en lecture seule"
    )
    assert practice_toml.read_text(encoding="utf-8") == before


def test_a_test_message_needs_a_valid_address_or_number(admin: FlaskClient) -> None:
    page = admin.get(PAGE)
    answer = submit(admin, page, TEST_EMAIL, {"test_email": "admin@example.org\r\nBcc: x@y.org"})
    assert answer.status_code == 422
    assert element(answer, "test_email-error") == (
        "Veuillez saisir une adresse e-mail valide, p. ex. nom@exemple.ch."
    )
    answer = submit(admin, page, TEST_SMS, {"test_phone": "call me"})
    assert answer.status_code == 422
    assert element(answer, "test_phone-error") == (
        "Veuillez saisir un numéro de mobile valide, p. ex. +41 79 123 45 67."
    )


def test_the_panel_links_to_the_notifications(admin: FlaskClient) -> None:
    page = admin.get("/admin/practice")
    assert attribute(page, "nav-notifications", "href") == PAGE
    assert element(admin.get(PAGE), "subnav-templates") == "Textes des messages"
