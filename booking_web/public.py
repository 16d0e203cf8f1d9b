"""The practice's public pages: home, privacy notice, the language switch, and error pages."""

from __future__ import annotations

from flask import Blueprint, Flask, jsonify, redirect, render_template, request, session
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as BaseResponse

from booking_web.context import runtime
from booking_web.i18n import N_, SESSION_KEY, _, offered_languages
from booking_web.security import content_security_policy

bp = Blueprint("public", __name__)
bp.after_request(content_security_policy)


@bp.get("/")
def index() -> str:
    config = runtime().config
    return render_template(
        "public/index.html",
        services=[s for s in config.services.values() if s.active],
        therapists=[t for t in config.therapists.values() if t.active],
    )


@bp.get("/privacy")
def privacy() -> str:
    return render_template("public/privacy.html")


@bp.post("/language")
def language() -> BaseResponse:
    """The language switch: remembered in the session, then back to the page it was on."""
    chosen = request.form.get("lang", "")
    if chosen in offered_languages():
        session[SESSION_KEY] = chosen
    return redirect(_local_path(request.form.get("next", "")), 303)


def _local_path(target: str) -> str:
    """``target`` if it is a path on this site (never another site: no open redirect)."""
    local = target.startswith("/") and not target.startswith("//")
    if local and "\\" not in target and target.isprintable():
        return target
    return "/"


_TITLES = {
    400: N_("This form could not be sent"),
    404: N_("Page not found"),
    405: N_("Page not found"),
    410: N_("This link is no longer valid"),
    413: N_("Too much data"),
    500: N_("Something went wrong"),
}
_MESSAGES = {
    400: N_(
        "The form has expired or was sent from another page. Please go back, reload the page "
        "and try again."
    ),
    404: N_("This address does not lead to any page. Please check the link or start again."),
    405: N_("This address does not lead to any page. Please check the link or start again."),
    410: N_("This link is no longer valid."),
    413: N_("What you sent is too large."),
    500: N_("Something went wrong on our side. Please try again in a moment or call us."),
}


def error_page(error: HTTPException) -> tuple[str, int] | tuple[BaseResponse, int]:
    status = error.code or 500
    if request.path.startswith("/api/"):
        return jsonify(error=(error.name or "error").lower().replace(" ", "_")), status
    known = status if status in _TITLES else 500 if status >= 500 else 404
    page = render_template(
        "errors/error.html",
        title=_(_TITLES[known]),
        message=_(_MESSAGES[known]),
        status=status,
        show_phone=status >= 500,
    )
    return page, status


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, error_page)

    @app.context_processor
    def practice_context() -> dict[str, object]:
        return {"practice": runtime().config.practice}
