"""The admin panel's blueprint, shared by its view modules."""

from __future__ import annotations

from flask import Blueprint, g

from booking_web.security import content_security_policy, private_page

bp = Blueprint("admin", __name__, url_prefix="/admin")
bp.after_request(private_page)
bp.after_request(content_security_policy)


def current_admin() -> str:
    """The admin login of this request (the guard has checked the session)."""
    return str(g.admin)
