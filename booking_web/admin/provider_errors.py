"""A mail server's or Twilio's refusal, as the admin reads it: what went wrong in their
language, what to check, and the provider's own words (its technical answer) in brackets."""

from __future__ import annotations

import smtplib
import socket
import ssl

from booking_web.i18n import _
from caldav_bridge.config import Config
from caldav_bridge.notify.senders import SMTP_LOGIN_CODES, DeliveryError

TWILIO_NUMBER_CODES = {
    "21211": "invalid",
    "21614": "not_mobile",
    "21610": "unsubscribed",
    "21408": "region",
    "21612": "region",
}
TWILIO_ORIGIN_CODES = {"21212", "21606", "21659", "21703", "21704"}


def delivery_text(exc: DeliveryError, config: Config) -> str:
    """What to tell the admin about a failed test message."""
    provider, _space, code = exc.code.partition(" ")
    if provider == "smtp":
        text = _smtp_text(exc, code, config)
    elif provider == "twilio":
        text = _twilio_text(code, config)
    else:
        text = _("Sending failed unexpectedly.")
    return f"{text} ({exc.reason})"


def _smtp_text(exc: DeliveryError, code: str, config: Config) -> str:
    server = f"{config.smtp.host}:{config.smtp.port}" if config.smtp else ""
    values = {"server": server, "variable": (config.smtp and config.smtp.password_env) or ""}
    if code == "unreachable":
        return _connection_text(exc.__cause__) % values
    if code == "data":
        return _("The connection was lost while the email was sent: it may or may not arrive.")
    if code == "address":
        return _("The mail server cannot take this address (it needs SMTPUTF8).")
    if code.isdigit() and int(code) in SMTP_LOGIN_CODES:
        if values["variable"]:
            return (
                _(
                    "The mail server %(server)s refused the login: check the username and the "
                    "password in %(variable)s."
                )
                % values
            )
        return _("The mail server %(server)s asks for a login: enter a username.") % values
    if code in ("550", "551", "553"):
        return _("The mail server %(server)s refused the recipient's address.") % values
    return _("The mail server %(server)s refused the message.") % values


def _connection_text(cause: BaseException | None) -> str:
    if isinstance(cause, ConnectionRefusedError):
        return _(
            "The mail server %(server)s refused the connection: check the host and the port, "
            "and that the server is running."
        )
    if isinstance(cause, socket.gaierror):
        return _("The mail server's name in %(server)s could not be found: check the host.")
    if isinstance(cause, TimeoutError | socket.timeout):
        return _("The mail server %(server)s did not answer in time.")
    if isinstance(cause, ssl.SSLError):
        return _(
            "The secure connection to %(server)s failed: check the security setting (STARTTLS "
            "or TLS) and the port."
        )
    if isinstance(cause, smtplib.SMTPNotSupportedError):
        return _(
            "The mail server %(server)s offers no login on this connection: check the security "
            "setting, or leave the username empty."
        )
    return _("Could not talk to the mail server %(server)s.")


def _twilio_text(code: str, config: Config) -> str:
    variable = config.twilio.auth_token_env if config.twilio else ""
    if code in ("401", "403", "20003"):
        return _("Twilio refused the account SID or the auth token in %(variable)s.") % {
            "variable": variable
        }
    kind = TWILIO_NUMBER_CODES.get(code)
    if kind == "invalid":
        return _("Twilio says this is not a valid phone number.")
    if kind == "not_mobile":
        return _("Twilio says this number cannot receive SMS (not a mobile number).")
    if kind == "unsubscribed":
        return _("This number has unsubscribed from your SMS (it replied STOP).")
    if kind == "region":
        return _("Your Twilio account may not send SMS to this number's country.")
    if code in TWILIO_ORIGIN_CODES:
        return _("Twilio does not accept the sending number or messaging service.")
    if code == "unreachable":
        return _("Could not connect to Twilio.")
    if code == "lost":
        return _("The connection to Twilio was lost: the SMS may or may not arrive.")
    if code == "429" or code.startswith("5"):
        return _("Twilio is busy or unavailable right now: try again in a moment.")
    return _("Twilio refused the SMS.")
