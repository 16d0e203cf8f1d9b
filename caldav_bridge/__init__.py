"""caldav-bridge: the domain core of a practice calendar for therapists.

This package never imports Flask or Radicale: the web app (`booking_web`), the Radicale plugins
(`radicale_plugin`) and the composition root (`bridge_server`) depend on it, never the reverse.
"""

__version__ = "0.1.0"
