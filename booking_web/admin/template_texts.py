"""What the templates pages say about each message, and about a text that cannot be used."""

from __future__ import annotations

from booking_web.i18n import N_, _
from caldav_bridge.notify.template_check import TemplateProblem

# Which message it is and when it is sent (as in config/templates/README.md); translate at use.
DESCRIPTIONS = {
    "booked_patient": N_("Booking confirmation, to the patient (email)"),
    "booked_therapist": N_("New appointment, to the therapist (email)"),
    "changed_patient": N_("Appointment changed, to the patient (email)"),
    "changed_therapist": N_("Appointment changed, to the therapist (email)"),
    "cancelled_patient": N_("Appointment cancelled, to the patient (email)"),
    "cancelled_therapist": N_("Appointment cancelled, to the therapist (email)"),
    "reminder_patient": N_("Reminder, to the patient (email, if email reminders are on)"),
    "sms_booked": N_("Booking confirmation (SMS, if SMS notices are on)"),
    "sms_changed": N_("Appointment changed (SMS, if SMS notices are on)"),
    "sms_cancelled": N_("Appointment cancelled (SMS, if SMS notices are on)"),
    "sms_reminder": N_("Reminder (SMS)"),
}


def problem_text(problem: TemplateProblem) -> str:
    """Why the text was refused, naming the line; nothing was saved."""
    values = {
        "line": problem.line or 0,
        "detail": problem.detail,
        "name": problem.detail,
        "file": problem.file,
    }
    if problem.kind == "empty":
        return _("Please enter the text of the message.")
    if problem.kind == "too_long":
        return _("The text is too long: at most %(num)d characters.") % {"num": int(problem.detail)}
    if problem.kind == "characters":
        return _("Line %(line)d contains a control character: please remove it.") % values
    if problem.kind == "syntax":
        return _("Line %(line)d: this is not valid template syntax (%(detail)s).") % values
    if problem.kind == "sms_private":
        return (
            _(
                "Line %(line)d: an SMS cannot show “%(name)s”. For the patient's privacy an SMS "
                "never mentions the service, the therapist or the place."
            )
            % values
        )
    if problem.kind == "unknown_name":
        return _("Line %(line)d: “%(name)s” is not a value this message knows.") % values
    if problem.file:
        if problem.line:
            return _("The included template %(file)s fails at line %(line)d (%(detail)s).") % values
        return _("The included template %(file)s fails (%(detail)s).") % values
    if problem.line:
        return _("Line %(line)d: this text does not render (%(detail)s).") % values
    return _("This text does not render (%(detail)s).") % values
