"""Radicale auth plugin: the store's logins (therapists and the admin), argon2id hashes.

Radicale constructs plugins with its configuration only; `radicale_plugin.application` passes
a factory that binds the store, so no global state is needed.
"""

from __future__ import annotations

from radicale import auth, config

from caldav_bridge.accounts import authenticate
from caldav_bridge.store import Store


class Auth(auth.BaseAuth):
    def __init__(self, configuration: config.Configuration, store: Store) -> None:
        super().__init__(configuration)
        self._store = store

    def _login(self, login: str, password: str) -> str:
        user = authenticate(self._store, login, password)
        return user.login if user is not None else ""
