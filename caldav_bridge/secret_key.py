"""The secret key that signs links and sessions."""

from __future__ import annotations

import secrets
from collections.abc import Mapping

from caldav_bridge.store import Store

STATE_NAME = "secret_key"


def secret_key(store: Store, env_name: str, environ: Mapping[str, str]) -> str:
    """The key from the environment variable ``env_name``, else the one kept in the database.

    Keeping the generated key in the database means every process of a scale-out deployment
    shares it without any extra set-up.
    """
    from_env = environ.get(env_name, "") if env_name else ""
    if from_env:
        return from_env
    with store.read() as tx:
        stored = tx.state_value(STATE_NAME)
    if stored:
        return stored
    with store.write() as tx:
        stored = tx.state_value(STATE_NAME)  # another process may have won the race
        if not stored:
            stored = secrets.token_urlsafe(48)
            tx.set_state_value(STATE_NAME, stored)
    return stored
