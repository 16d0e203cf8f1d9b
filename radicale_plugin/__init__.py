"""Thin adapters that let Radicale serve CalDAV over the caldav-bridge store."""
