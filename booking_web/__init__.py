"""The Flask application: public pages, and (by later issues) booking, manage links, the
therapist space, the admin panel, the JSON API and the ICS feeds. Views stay thin: they call
use-cases in `caldav_bridge`."""

from __future__ import annotations

from flask import Flask

from caldav_bridge.runtime import Runtime


def create_app(runtime: Runtime) -> Flask:
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=runtime.secret_key,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=runtime.config.server.public_url.startswith("https://"),
        MAX_CONTENT_LENGTH=runtime.config.server.max_request_bytes,
    )
    app.extensions["runtime"] = runtime

    from booking_web import api, booking_pages, feeds, health, i18n, manage, public, security
    from booking_web.admin import init_app as init_admin_panel
    from booking_web.therapist import init_app as init_therapist_space

    i18n.init_app(app)
    security.init_app(app)
    security.csrf_exempt(app, api.bp)
    public.init_app(app)
    app.register_blueprint(public.bp)
    app.register_blueprint(booking_pages.bp)
    app.register_blueprint(manage.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(feeds.bp)
    init_therapist_space(app)
    init_admin_panel(app)
    return app
