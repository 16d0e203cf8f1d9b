"""Send a test message: one email through the configured mail server, one SMS through Twilio,
to an address or number the admin types, with the provider's answer in the admin's words.

The message says which practice sent it and nothing else: no patient data. It uses the file
as it is now (settings saved a moment ago apply) and the watcher's senders
(`caldav_bridge.notify.trial_message`); without an [smtp] or [twilio] section nothing is sent
and the page says where messages go instead (the outbox folder). Every try is audited with its
outcome, never the recipient.
"""

from __future__ import annotations

from flask import request
from werkzeug.wrappers import Response as BaseResponse

from booking_web.admin import config_edits
from booking_web.admin.blueprint import bp, current_admin
from booking_web.admin.notification_forms import EMAIL_ADDRESS
from booking_web.admin.notifications import TestState, notifications_page
from booking_web.admin.provider_errors import delivery_text
from booking_web.context import runtime
from booking_web.i18n import _, current_language
from caldav_bridge.config import Config
from caldav_bridge.notify.messages import Email, Sms
from caldav_bridge.notify.sender_factory import MissingSecretError
from caldav_bridge.notify.senders import DeliveryError
from caldav_bridge.notify.template_files import templates_folder
from caldav_bridge.notify.templates import Templates
from caldav_bridge.notify.trial_message import NotConfiguredError, send_test_message
from caldav_bridge.patient_details import EMAIL_MAX, e164

Page = BaseResponse | tuple[str, int]


@bp.post("/notifications/test-email")
def test_email() -> Page:
    recipient = request.form.get("test_email", "").strip()[:EMAIL_MAX]
    state = TestState({"email": recipient, "phone": request.form.get("test_phone", "")})
    if (
        len(recipient) > EMAIL_MAX
        or not recipient.isprintable()
        or not EMAIL_ADDRESS.match(recipient)
    ):
        state.errors["test_email"] = _("Please enter a valid email address, e.g. name@example.ch.")
        return _page(state), 422
    config = config_edits.shown_config(config_edits.current())
    subject = _("Test message from %(practice)s") % {"practice": config.practice.name}
    text = (
        _(
            "This is a test email from the admin panel of %(practice)s, sent to check the "
            "email settings. It contains no patient data; no reply is needed."
        )
        % {"practice": config.practice.name}
        + "\n"
    )
    html = Templates(templates_folder(config.path)).html(current_language(), subject, text)
    return _send(config, state, "email", recipient, Email(subject, text, html))


@bp.post("/notifications/test-sms")
def test_sms() -> Page:
    typed = request.form.get("test_phone", "").strip()[:40]
    state = TestState({"email": request.form.get("test_email", ""), "phone": typed})
    number = e164(typed) if typed.isprintable() else None
    if number is None:
        state.errors["test_phone"] = _(
            "Please enter a valid mobile phone number, e.g. +41 79 123 45 67."
        )
        return _page(state), 422
    config = config_edits.shown_config(config_edits.current())
    body = _("Test SMS from %(practice)s. The SMS settings work, no reply is needed.") % {
        "practice": config.practice.name
    }
    return _send(config, state, "sms", number, Sms(body))


def _send(
    config: Config, state: TestState, channel: str, recipient: str, content: Email | Sms
) -> Page:
    rt = runtime()
    try:
        answer = send_test_message(config, rt.environ, rt.clock, recipient, content)
    except NotConfiguredError:
        return _outcome(state, channel, False, _not_configured(config, channel), "not_configured")
    except MissingSecretError as exc:
        text = _("Nothing was sent: %(variable)s is not set in this server's environment.") % {
            "variable": exc.variable
        }
        return _outcome(state, channel, False, text, "missing_secret")
    except DeliveryError as exc:
        return _outcome(state, channel, False, delivery_text(exc, config), f"failed ({exc.code})")
    return _outcome(state, channel, True, _sent_text(config, channel, recipient, answer), "sent")


def _outcome(state: TestState, channel: str, sent: bool, text: str, audited: str) -> Page:
    with runtime().store.write() as tx:
        provider = "smtp" if channel == "email" else "twilio"
        tx.audit(current_admin(), f"notifications.test_{channel}", provider, f"outcome={audited}")
    state.outcome = (channel, sent, text)
    status = 200 if sent else 409 if audited in ("not_configured", "missing_secret") else 502
    return _page(state), status


def _sent_text(config: Config, channel: str, recipient: str, answer: str) -> str:
    if channel == "email" and config.smtp is not None:
        return _(
            "The mail server %(server)s accepted the test email for %(recipient)s "
            "(its answer: %(answer)s). If it does not arrive, look in the spam folder."
        ) % {
            "server": f"{config.smtp.host}:{config.smtp.port}",
            "recipient": recipient,
            "answer": answer,
        }
    return _("Twilio accepted the test SMS for %(recipient)s (message %(answer)s).") % {
        "recipient": recipient,
        "answer": answer,
    }


def _not_configured(config: Config, channel: str) -> str:
    folder = config.notifications.outbox_dir
    if channel == "email":
        text = _(
            "Nothing was sent: no mail server is configured. Until you add one above, emails "
            "are written as files to %(folder)s."
        )
    else:
        text = _(
            "Nothing was sent: Twilio is not configured. Until you add it above, SMS are "
            "written as files to %(folder)s."
        )
    return text % {"folder": folder}


def _page(state: TestState) -> str:
    return notifications_page(config_edits.current(), test=state)
