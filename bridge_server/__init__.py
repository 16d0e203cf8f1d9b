"""The composition root: builds the runtime, the WSGI application and the CLI.

This is the only package that imports both `booking_web` (Flask) and `radicale_plugin`
(Radicale); `caldav_bridge` stays free of both (see docs/architecture.md).
"""
