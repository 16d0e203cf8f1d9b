"""The practice's public landing page."""

from __future__ import annotations

from flask import Blueprint, render_template

from booking_web.context import runtime

bp = Blueprint("public", __name__)


@bp.get("/")
def index() -> str:
    config = runtime().config
    return render_template(
        "public/index.html",
        practice=config.practice,
        services=[s for s in config.services.values() if s.active],
        therapists=[t for t in config.therapists.values() if t.active],
        language=config.practice.default_language,
    )
