"""Seats under concurrency: many registrations racing for few seats, from threads and processes.

Each worker process builds its own app on the same database URL (SQLite file or
PostgreSQL) and posts through the test client from several threads, so the
requests meet only in the database, as they would under gunicorn.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import OutboxMessage, Registration
from tests.factories import make_webinar

PROCESSES = 4
THREADS = 3
PER_THREAD = 4  # 4 × 3 × 4 = 48 registrations
CAPACITY = 10

WORKER = r"""
import json, re, sys, threading, time
from portal import create_app

url, slug, worker, start_at, threads, per_thread, mail = sys.argv[1:8]
app = create_app({"TESTING": True, "SECRET_KEY": "test-secret-key", "SQLALCHEMY_DATABASE_URI": url,
                  "PORTAL_BASE_URL": "http://portal.test", "MAIL_SERVER": None, "MAIL_FOLDER": mail,
                  "RATELIMIT_ENABLED": False})
results = []

def run(thread):
    client = app.test_client()
    with app.app_context():
        page = client.get(f"/register/{slug}").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        time.sleep(max(0.0, float(start_at) - time.time()))
        for n in range(int(per_thread)):
            response = client.post(f"/register/{slug}", data={
                "csrf_token": token, "full_name": f"Racer {worker}-{thread}-{n}",
                "email": f"racer-{worker}-{thread}-{n}@example.org", "sector": "other", "region": "ON",
                "preferred_language": "en", "consent": "y"})
            results.append(response.status_code)

workers = [threading.Thread(target=run, args=(t,)) for t in range(int(threads))]
for w in workers: w.start()
for w in workers: w.join()
print(json.dumps(results))
"""


@pytest.mark.slow
def test_forty_eight_racers_for_ten_seats(app, tmp_path):
    webinar = make_webinar(capacity=CAPACITY)
    db.session.commit()
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    start_at = time.time() + 4  # every process is ready by then; they all fire together
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, url, webinar.slug, str(p), str(start_at), str(THREADS),
             str(PER_THREAD), str(tmp_path / "mail")],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )
        for p in range(PROCESSES)
    ]
    statuses: list[int] = []
    for process in processes:
        out, err = process.communicate(timeout=180)
        assert process.returncode == 0, err[-3000:]
        statuses += json.loads(out.strip().splitlines()[-1])

    assert statuses == [302] * (PROCESSES * THREADS * PER_THREAD)  # no error responses
    db.session.expire_all()
    rows = db.session.scalars(
        select(Registration).where(Registration.webinar_id == webinar.id).order_by(Registration.id)
    ).all()
    assert len(rows) == PROCESSES * THREADS * PER_THREAD
    confirmed = [r for r in rows if r.status == "confirmed"]
    waitlisted = [r for r in rows if r.status == "waitlisted"]
    assert len(confirmed) == CAPACITY
    # Arrival order: the first ten to take the lock got the seats; the rest queue behind them.
    assert max(r.id for r in confirmed) < min(r.id for r in waitlisted)
    assert [r.created_at for r in rows] == sorted(r.created_at for r in rows)
    kinds = db.session.scalars(select(OutboxMessage.kind)).all()
    assert sorted(kinds).count("confirmation") == CAPACITY
    assert kinds.count("waitlisted") == len(rows) - CAPACITY


APPROVER = r"""
import sys, time
from portal import create_app
from portal.extensions import db
from portal.models import Registration
from portal.services import registration as registrations

url, ids, start_at, mail = sys.argv[1], [int(i) for i in sys.argv[2].split(",")], float(sys.argv[3]), sys.argv[4]
app = create_app({"TESTING": True, "SECRET_KEY": "test-secret-key", "SQLALCHEMY_DATABASE_URI": url,
                  "PORTAL_BASE_URL": "http://portal.test", "MAIL_SERVER": None, "MAIL_FOLDER": mail,
                  "RATELIMIT_ENABLED": False})
with app.app_context():
    time.sleep(max(0.0, start_at - time.time()))
    for registration_id in ids:
        registrations.approve(db.session.get(Registration, registration_id))
        db.session.commit()
print("approved", len(ids))
"""

PENDING = 16


@pytest.mark.slow
def test_approving_while_others_register_never_confirms_more_than_capacity(app, tmp_path):
    """A restricted webinar: allowed-domain racers take seats at once while an organiser approves
    the pending requests; both paths count seats under the same lock."""
    from portal.models import RegistrationStatus, WebinarAudience
    from tests.factories import make_registration, make_series

    series = make_series(allowed_email_domains="example.org")
    webinar = make_webinar(series, capacity=CAPACITY, audience=WebinarAudience.RESTRICTED)
    pending = [make_registration(webinar, email=f"request-{n}@elsewhere.test",
                                 status=RegistrationStatus.PENDING)[0] for n in range(PENDING)]
    db.session.commit()
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    start_at = time.time() + 4
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, url, webinar.slug, str(p), str(start_at), str(THREADS),
             str(PER_THREAD), str(tmp_path / "mail")],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )
        for p in range(PROCESSES - 1)
    ]
    halves = [pending[::2], pending[1::2]]  # two organisers approving at once
    approvers = [
        subprocess.Popen(
            [sys.executable, "-c", APPROVER, url, ",".join(str(r.id) for r in half), str(start_at),
             str(tmp_path / "mail")],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )
        for half in halves
    ]
    statuses: list[int] = []
    for process in racers:
        out, err = process.communicate(timeout=180)
        assert process.returncode == 0, err[-3000:]
        statuses += json.loads(out.strip().splitlines()[-1])
    for process in approvers:
        out, err = process.communicate(timeout=180)
        assert process.returncode == 0, err[-3000:]

    assert statuses == [302] * ((PROCESSES - 1) * THREADS * PER_THREAD)
    db.session.expire_all()
    rows = db.session.scalars(select(Registration).where(Registration.webinar_id == webinar.id)).all()
    assert len(rows) == PENDING + len(statuses)
    by_status = [r.status for r in rows]
    assert by_status.count("confirmed") == CAPACITY
    assert by_status.count("pending") == 0
    assert by_status.count("waitlisted") == len(rows) - CAPACITY
    kinds = db.session.scalars(select(OutboxMessage.kind)).all()
    assert kinds.count("confirmation") == CAPACITY
    assert kinds.count("waitlisted") == len(rows) - CAPACITY
