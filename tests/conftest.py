"""Shared fixtures: a migrated database per session, emptied after every test.

``TEST_DATABASE_URL`` points the suite at PostgreSQL; without it a SQLite file
in a temporary folder is used (a file, not ``:memory:``, so that threads and
processes in the race tests share it).
"""

from __future__ import annotations

import os
import re
from contextlib import contextmanager

import flask_babel
import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from portal import create_app
from portal.extensions import db

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require(condition: bool, reason: str) -> None:
    """Skip on a laptop that lacks a prerequisite; fail in CI, where nothing may be skipped."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI prerequisite missing: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
        engine.dispose()
        return url
    return "sqlite:///" + str(tmp_path_factory.mktemp("db") / "portal-test.db")


@pytest.fixture(scope="session")
def _migrated(database_url, tmp_path_factory):
    """Build the schema with the real migrations, as `flask db upgrade` would."""
    app = create_app(_test_settings(database_url, tmp_path_factory.mktemp("mail")))
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return database_url


def _test_settings(database_url: str, mail_folder) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "PORTAL_BASE_URL": "http://portal.test",
        "MAIL_SERVER": None,
        "MAIL_FOLDER": str(mail_folder),
        "RATELIMIT_ENABLED": False,
    }


@pytest.fixture
def app(_migrated, tmp_path):
    app = create_app(_test_settings(_migrated, tmp_path / "mail"))
    # The test client reuses the test's app context, where Flask-Babel caches the first
    # request's locale on ``g``; in production every request has a fresh context.
    app.before_request(flask_babel.refresh)
    with app.app_context():
        yield app
        db.session.remove()
        _empty_all_tables()
        close_connections(app)


def close_connections(app) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _empty_all_tables() -> None:
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(sa.text(f'DELETE FROM "{table}"'))
        # The one row the migration creates: the page cache reads it on every public request.
        conn.execute(sa.text("INSERT INTO content_version (id, version) VALUES (1, 1)"))


@pytest.fixture
def another_app(app):
    """``another_app(**settings)``: a second app on the test's database, with other settings or
    as a browser of its own (Flask-Login caches the user in the test's app context). Its
    connections are closed after the test, before the tables are emptied."""
    made = []

    def build(**settings):
        other = create_app({**app.config, **settings})
        made.append(other)
        return other

    yield build
    for other in made:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


CSRF_INPUT = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def csrf_token_from(html: str) -> str:
    match = CSRF_INPUT.search(html)
    assert match, "page has no CSRF token"
    return match.group(1) or match.group(2)


def page_in(client, language: str, path: str) -> str:
    """The HTML of ``path`` with the interface switched to ``language`` as a visitor does it:
    the header's switch sets the ``portal_lang`` cookie and leads to the page's address in
    that language (``/fr/…`` for French)."""
    db.session.commit()  # the scene built by the test
    switched = client.get(f"/language/{language}", query_string={"next": path})
    assert f"portal_lang={language}" in switched.headers["Set-Cookie"]
    response = client.get(switched.headers["Location"])
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


@pytest.fixture
def csrf(client):
    """``csrf('/register/x')`` fetches the page and returns its form's CSRF token."""

    def token_for(path: str) -> str:
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        return csrf_token_from(response.get_data(as_text=True))

    return token_for


class QueryCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, conn, cursor, statement, parameters, context, executemany):
        self.statements.append(statement)

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_queries(app):
    """``with count_queries() as counter: ...`` then ``counter.count``.

    The site identity every page shows is read once per process and kept for a while
    (portal/services/site_identity.py): it is read here first so that no count depends on
    whether a page happened to be the first.
    """
    from portal.services import site_identity

    site_identity.current()

    @contextmanager
    def counting():
        counter = QueryCounter()
        sa.event.listen(db.engine, "before_cursor_execute", counter)
        try:
            yield counter
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", counter)

    return counting
