"""Outages: the email worker waits them out and stops cleanly on a signal; pages answer 503, then recover.

The database outage is real: on PostgreSQL the app (or the worker process)
talks to the shared server through a relay that the test cuts (``tcp_relay``);
on SQLite the database file's folder disappears and the open connections are
dropped. The mail server is a real aiosmtpd server that is stopped and
started again on the same port.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from portal import create_app
from portal.commands.worker_loop import backoff_seconds, describe_fault
from portal.extensions import db
from portal.models import OutboxMessage, OutboxStatus
from portal.models.types import utcnow
from tests.conftest import _test_settings
from tests.factories import make_webinar
from tests.tcp_relay import TcpRelay
from tests.test_outbox import Inbox, free_port, register

REPO_ROOT = Path(__file__).resolve().parent.parent


def wait_until(condition, timeout: float, what: str, step: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class DatabaseOutage:
    """A second URL for the test database that can be made unreachable and reachable again."""

    def __init__(self, database_url: str, workdir: Path) -> None:
        self.postgres = database_url.startswith("postgresql")
        if self.postgres:
            url = make_url(database_url)
            self.relay = TcpRelay(url.host or "127.0.0.1", url.port or 5432).start()
            self.url = url.set(host="127.0.0.1", port=self.relay.port).render_as_string(hide_password=False)
        else:
            # The same database file, reached through a folder (a symbolic link) that can vanish.
            real = Path(make_url(database_url).database)
            self.live = workdir / "live"
            self.gone = workdir / "gone"
            self.live.symlink_to(real.parent, target_is_directory=True)
            self.url = f"sqlite:///{self.live / real.name}"

    def cut(self, app=None) -> None:
        if self.postgres:
            self.relay.cut()
        else:
            self.live.rename(self.gone)
            if app is not None:  # open SQLite files keep working: drop them as a dead server would
                with app.app_context():
                    db.engine.dispose()

    def restore(self) -> None:
        if self.postgres:
            self.relay.restore()
        else:
            self.gone.rename(self.live)

    def close(self) -> None:
        if self.postgres:
            self.relay.cut()


@pytest.fixture
def outage(_migrated, tmp_path):
    outage = DatabaseOutage(_migrated, tmp_path)
    yield outage
    outage.close()


# --- the worker -------------------------------------------------------------------------


def test_backoff_doubles_from_one_second_and_stops_growing_at_a_minute():
    assert [backoff_seconds(n) for n in range(9)] == [0, 1, 2, 4, 8, 16, 32, 60, 60]


def test_a_fault_is_described_without_sql_parameters_or_addresses():
    error = OperationalError("INSERT INTO registration (email) VALUES (%(email)s)",
                             {"email": "ada@example.org"}, Exception("could not reach ada@example.org\nmore"))
    described = describe_fault(error)
    assert described == "Exception: could not reach <address>"


class LineCollector:
    """Reads a process's stderr on a thread, so the test can wait for a line without blocking."""

    def __init__(self, stream) -> None:
        self.lines: list[str] = []
        self.stream = stream
        self.thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self.thread.start()

    def finish(self) -> None:
        """After the process ended: read what is left and close the pipe."""
        self.thread.join(timeout=10)
        self.stream.close()

    def _read(self, stream) -> None:
        for line in stream:
            self.lines.append(line.rstrip("\n"))

    def count(self, text: str) -> int:
        return sum(text in line for line in self.lines)


def start_worker(database_url: str, smtp_port: int, mail_folder: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(smtp_port),
        "PORTAL_BASE_URL": "http://portal.test",
        "SECRET_KEY": "test-secret-key",
        "LOG_FORMAT": "json",
    }
    env.pop("REDIS_URL", None)
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "portal", "outbox", "send", "--loop", "--interval", "1"],
        cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


@pytest.mark.slow
def test_worker_waits_out_mail_and_database_outages_delivers_once_and_stops_on_sigterm(
        app, client, outage, tmp_path):
    webinar = make_webinar(capacity=100)
    db.session.commit()
    smtp_port = free_port()
    inbox = Inbox()
    worker = start_worker(outage.url, smtp_port, tmp_path / "mail")
    errors = LineCollector(worker.stderr)
    smtp = None
    try:
        # 1. The mail server is down: the worker says so and backs off, and spends no attempt.
        for n in range(3):
            register(client, webinar.slug, f"before{n}@example.org")
        wait_until(lambda: errors.count("mail server unreachable") >= 2, 20, "the worker to meet the SMTP outage")
        assert worker.poll() is None

        # 2. The database goes away too: the worker logs it and keeps waiting. (PostgreSQL only: a
        # SQLite file has no server to lose, and the worker's open file keeps working.)
        if outage.postgres:
            outage.cut()
            wait_until(lambda: errors.count("worker pass failed") >= 2, 30, "the worker to meet the database outage")
            assert worker.poll() is None
        for n in range(3):  # people keep registering (the app here reaches the database directly)
            register(client, webinar.slug, f"during{n}@example.org")

        # 3. Both come back: everything queued is delivered, each message once.
        smtp = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
        smtp.start()
        if outage.postgres:
            outage.restore()
        wait_until(lambda: len(inbox.messages) >= 6, 90, "all six messages to arrive")
        time.sleep(2.5)  # two more passes: nothing may be sent twice
        recipients = sorted(m["To"] for m in inbox.messages)
        assert recipients == sorted([f"before{n}@example.org" for n in range(3)]
                                    + [f"during{n}@example.org" for n in range(3)])
        db.session.expire_all()
        statuses = db.session.execute(select(OutboxMessage.status, OutboxMessage.attempts)).all()
        assert statuses == [(OutboxStatus.SENT, 1)] * 6
        assert errors.count("worker recovered") >= 1  # after the failed passes, one log line says so

        # 4. SIGTERM: a clean exit with status 0.
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=20) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(timeout=10)
        if smtp is not None:
            smtp.stop()
        worker.stdout.close()
        errors.finish()
    assert errors.count('"signal": "SIGTERM"') == 1
    log = "\n".join(errors.lines)
    assert "@example.org" not in log and "INSERT" not in log
    for line in errors.lines:
        if line.startswith("{"):
            json.loads(line)  # every portal log line is one JSON object


@pytest.mark.slow
def test_sigterm_during_a_batch_finishes_the_message_in_hand_and_hands_the_rest_back(app, client, tmp_path):
    """A slow mail server: SIGTERM arrives mid-batch; the worker ends after that message, exit 0,
    and the messages it did not reach are due again at once (not held for the claim's lease)."""
    webinar = make_webinar(capacity=100)
    db.session.commit()
    for n in range(5):
        register(client, webinar.slug, f"p{n}@example.org")

    class SlowInbox(Inbox):
        async def handle_DATA(self, server, session, envelope):
            import asyncio

            await asyncio.sleep(0.6)
            return await super().handle_DATA(server, session, envelope)

    inbox = SlowInbox()
    port = free_port()
    smtp = Controller(inbox, hostname="127.0.0.1", port=port)
    smtp.start()
    worker = start_worker(app.config["SQLALCHEMY_DATABASE_URI"], port, tmp_path / "mail")
    errors = LineCollector(worker.stderr)
    try:
        wait_until(lambda: len(inbox.messages) >= 1, 30, "the first message")
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=20) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(timeout=10)
        smtp.stop()
        worker.stdout.close()
        errors.finish()
    delivered = len(inbox.messages)
    assert 1 <= delivered < 5
    db.session.expire_all()
    sent = db.session.scalar(select(func.count()).where(OutboxMessage.status == OutboxStatus.SENT))
    assert sent == delivered  # every message that reached SMTP is recorded as sent
    waiting = db.session.scalars(select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.PENDING)).all()
    assert len(waiting) == 5 - delivered
    assert all(m.attempts == 0 and m.next_attempt_at <= utcnow() for m in waiting)  # not held for the lease
    assert errors.count("worker stopped") == 1


# --- pages while the database is away ---------------------------------------------------


def outage_app(outage: DatabaseOutage, tmp_path):
    return create_app({**_test_settings(outage.url, tmp_path / "mail2")})


def test_pages_answer_a_friendly_503_while_the_database_is_away_and_recover_by_themselves(outage, tmp_path):
    app = outage_app(outage, tmp_path)
    client = app.test_client()
    try:
        assert client.get("/").status_code == 200
        outage.cut(app)

        page = client.get("/")
        assert page.status_code == 503 and page.headers["Retry-After"] == "30"
        assert "The portal is busy" in page.get_data(as_text=True)
        french = client.get("/fr/webinars/")
        assert french.status_code == 503 and "Le portail est occupé" in french.get_data(as_text=True)
        api = client.get("/api/v1/webinars")
        assert api.status_code == 503 and api.is_json and api.headers["Retry-After"] == "30"
        assert api.get_json()["error"]["status"] == 503
        assert client.get("/healthz").status_code == 503
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.get_json()["checks"]["database"] == "unavailable"

        outage.restore()
        assert wait_until(lambda: client.get("/").status_code == 200, 10, "the pages to recover")
        assert client.get("/readyz").status_code == 200
    finally:
        with app.app_context():
            db.engine.dispose()


# --- readiness ----------------------------------------------------------------------------


def test_readyz_is_200_when_database_migrations_and_redis_answer(app, client):
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json() == {"status": "ready", "checks": {
        "database": "ok", "migrations": "ok", "redis": "not configured"}}
    app.config["REDIS_URL"] = "redis://127.0.0.1:6379/2"
    assert client.get("/readyz").get_json()["checks"]["redis"] == "ok"


def test_readyz_is_503_naming_redis_when_it_does_not_answer(app, client):
    app.config["REDIS_URL"] = f"redis://127.0.0.1:{free_port()}/0"
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.get_json()["checks"] == {"database": "ok", "migrations": "ok", "redis": "unavailable"}
    assert client.get("/healthz").status_code == 200  # alive, just not ready


def test_readyz_is_503_when_the_schema_is_behind_the_code(app, client):
    from sqlalchemy import text

    current = db.session.scalar(text("SELECT version_num FROM alembic_version"))
    db.session.execute(text("UPDATE alembic_version SET version_num = 'older'"))
    db.session.commit()
    try:
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert ready.get_json()["checks"]["migrations"].startswith("not at head: database older, code ")
    finally:
        db.session.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": current})
        db.session.commit()
    assert client.get("/readyz").status_code == 200
