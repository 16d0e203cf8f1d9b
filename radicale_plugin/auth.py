"""Radicale auth plugin: the store's logins, throttled (`caldav_bridge.accounts.Authenticator`).

Radicale constructs plugins with its configuration only; `radicale_plugin.application` passes
a factory that binds one `Authenticator` (shared with the rights plugin), so no global state
is needed.

- A failed check takes constant time: one argon2 verification whatever the login (a dummy
  hash for unknown ones) and app passwords checked by digest, then Radicale's
  ``_sleep_for_constant_exec_time`` pads every failure to the slowest seen.
- An attempt refused unchecked is answered at once, without argon2 and without that padding
  (it reveals nothing the client does not know): a password that failed recently for this
  login is a plain 401; an attempt the throttle refuses is "429 Too Many Requests" with
  ``Retry-After``. Radicale can only answer 401 for a failed login, so `TooManyRequests`
  rewrites that answer: ``get_external_login``, which Radicale calls with the WSGI environ
  right before ``login``, gives this thread the environ to mark.
- The client address is Radicale's ``AuthContext.remote_addr`` (the WSGI ``REMOTE_ADDR``);
  behind a reverse proxy the WSGI server must set it from the proxy's forwarded header.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

from radicale import auth, config, types
from radicale.app import Application

from caldav_bridge.accounts import Authenticator

RETRY_AFTER_KEY = "caldav_bridge.retry_after"

StartResponse = Callable[..., Any]


class Auth(auth.BaseAuth):
    def __init__(self, configuration: config.Configuration, authenticator: Authenticator) -> None:
        super().__init__(configuration)
        self._authenticator = authenticator
        self._request = threading.local()

    def get_external_login(self, environ: types.WSGIEnviron) -> tuple[()]:
        self._request.environ = environ
        self._request.unchecked = False
        return ()

    def _login_ext(self, login: str, password: str, context: auth.AuthContext) -> str:
        result = self._authenticator.login(login, password, context.remote_addr)
        self._request.unchecked = not result.checked
        if result.throttled:
            environ = getattr(self._request, "environ", None)
            if environ is not None:
                environ[RETRY_AFTER_KEY] = str(result.retry_after)
        return result.user.login if result.user is not None else ""

    def _sleep_for_constant_exec_time(self, time_ns_begin: int) -> None:
        if not getattr(self._request, "unchecked", False):
            super()._sleep_for_constant_exec_time(time_ns_begin)


class TooManyRequests(Application):
    """Radicale's application, answering a login the throttle refused with 429 and
    ``Retry-After`` instead of 401 (a mixin: it keeps whatever application it precedes)."""

    def __call__(
        self, environ: types.WSGIEnviron, start_response: StartResponse
    ) -> Iterable[bytes]:
        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            retry_after = environ.get(RETRY_AFTER_KEY)
            if retry_after is not None and status.startswith("401"):
                status = "429 Too Many Requests"
                headers = [(k, v) for k, v in headers if k.lower() != "www-authenticate"]
                headers.append(("Retry-After", str(retry_after)))
            return start_response(status, headers, exc_info)

        return super().__call__(environ, start)
