"""The cycle collector runs between requests, never inside one (see ``portal.collector``)."""

from __future__ import annotations

import gc
import os
import secrets
import subprocess
import sys
import textwrap

import pytest

from portal.collector import collect_if_due

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class _Cycle:
    def __init__(self) -> None:
        self.me = self


@pytest.fixture
def collector_enabled_again():
    """Each test starts as a fresh process would: automatic collection on."""
    gc.enable()
    yield
    gc.collect()


def test_serving_a_request_switches_automatic_collection_off(client, collector_enabled_again):
    assert gc.isenabled()
    assert client.get("/healthz").status_code == 200
    assert not gc.isenabled()


def test_static_files_are_answered_outside_it(app, client, collector_enabled_again):
    """WhiteNoise answers them before the app: the server's file wrapper (gunicorn's sendfile)
    reaches the server unwrapped, and no collection follows a file."""
    from flask import url_for

    with app.test_request_context():
        path = url_for("static", filename="css/portal.css")
    answer = client.get(path)
    answer.close()
    assert answer.status_code == 200 and answer.mimetype == "text/css"
    assert gc.isenabled()


def test_a_command_keeps_the_automatic_collector(runner, collector_enabled_again):
    """The email worker and imports never pass through the middleware: nothing would collect."""
    runner.invoke(args=["outbox", "send"])
    assert gc.isenabled()


def test_garbage_made_before_a_response_is_collected_once_it_is_closed(client, collector_enabled_again):
    client.get("/healthz")  # automatic collection is now off
    gc.collect()
    threshold = gc.get_threshold()[0]
    cycles = [_Cycle() for _ in range(threshold * 3)]
    del cycles
    assert gc.get_count()[0] >= threshold, "the garbage is waiting: nothing collected it during the request"
    response = client.get("/healthz")
    response.close()
    assert gc.get_count()[0] < threshold


def test_nothing_is_collected_while_the_youngest_generation_is_under_its_threshold(collector_enabled_again):
    gc.collect()
    assert collect_if_due() is None


def test_the_oldest_due_generation_is_collected(collector_enabled_again):
    saved = gc.get_threshold()
    try:
        gc.set_threshold(10, 1, 1)
        gc.disable()
        gc.collect()
        [_Cycle() for _ in range(50)]
        assert collect_if_due() == 0  # generation 1 has seen no young collection yet
        [_Cycle() for _ in range(50)]
        assert collect_if_due() == 1
        [_Cycle() for _ in range(50)]
        assert collect_if_due() == 2
        gc.set_threshold(0)
        [_Cycle() for _ in range(50)]
        assert collect_if_due() is None, "threshold 0 switches collection off, as for CPython"
    finally:
        gc.set_threshold(*saved)


def test_the_setting_can_leave_the_collector_alone(another_app, collector_enabled_again):
    app = another_app(COLLECT_BETWEEN_REQUESTS=False)
    assert app.test_client().get("/healthz").status_code == 200
    assert gc.isenabled()


# The scenario that crashed CPython 3.11 (SIGSEGV in the collector): a large programme on
# SQLite, its big pages rendered one after another by a fresh process, as a gunicorn worker
# does. Children processes: a crash is a failed test, not a dead test run.
GENERATE = textwrap.dedent("""
    import os, sys
    sys.path.insert(0, os.path.join({root!r}, "bench"))
    from public_pages import generate_large_series
    from registration_throughput import flask
    flask(dict(os.environ), "db", "upgrade")
    generate_large_series(dict(os.environ))
""")
SERVE = textwrap.dedent("""
    import os, sys
    sys.path.insert(0, {root!r})
    from portal import create_app
    app = create_app({{"COLLECT_BETWEEN_REQUESTS": os.environ.get("COLLECT_BETWEEN_REQUESTS") != "0"}})
    client = app.test_client()
    for path in ("/", "/webinars/", "/presenters/", "/calendar.ics", "/api/v1/presenters", "/fr/webinars/"):
        for _ in range(3):
            assert client.get(path, headers={{"Accept-Encoding": "gzip"}}).status_code == 200, path
    print("served")
""")


def _child(script: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", script.format(root=ROOT)], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=600)


def test_a_large_programme_on_sqlite_serves_its_pages_without_crashing(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'large.db'}", "SECRET_KEY": secrets.token_hex(32),
           "MAIL_SERVER": "", "MAIL_BACKEND": "file", "PORTAL_BASE_URL": "https://portal.test",
           "PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "PORTAL_ENV": "production"}
    env.pop("REDIS_URL", None)
    assert _child(GENERATE, env).returncode == 0
    served = _child(SERVE, env)
    assert served.returncode == 0, (served.returncode, served.stderr[-3000:])
    assert "served" in served.stdout
