"""The request log (one JSON line per request, no personal data or secrets) and /metrics."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from portal import create_app
from portal.extensions import db
from portal.models import Registration
from portal.observability import JsonFormatter
from portal.services.outbox import deliver_due
from tests.conftest import _empty_all_tables, _test_settings, csrf_token_from
from tests.factories import ORGANISER_PASSWORD, make_organiser, make_registration, make_webinar, sign_in
from tests.test_registration import form_data

REPO_ROOT = Path(__file__).resolve().parent.parent
TOKEN = "metrics-token-for-tests"


def request_lines(caplog) -> list[dict]:
    formatter = JsonFormatter()
    return [json.loads(formatter.format(r)) for r in caplog.records if r.name == "portal.request"]


def test_one_json_line_per_request_with_route_not_path_and_the_request_id_echoed(client, caplog):
    webinar = make_webinar()
    registration, token = make_registration(webinar)
    db.session.commit()
    caplog.set_level(logging.INFO, logger="portal")
    response = client.get(f"/registration/{token}", headers={"X-Request-ID": "abc-123"},
                          environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert response.status_code == 200 and response.headers["X-Request-ID"] == "abc-123"
    [line] = request_lines(caplog)
    assert line["request_id"] == "abc-123"
    assert line["method"] == "GET" and line["status"] == 200
    assert line["route"] == "/registration/<token>"
    assert line["client"] == "203.0.113.9"
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$", line["time"])
    assert token not in json.dumps(line)


@pytest.mark.parametrize("given", [None, "", "has space", "x" * 65, "a\"},{\"b\":1", "é"])
def test_a_missing_or_unsafe_request_id_is_replaced_by_a_new_one(client, caplog, given):
    caplog.set_level(logging.INFO, logger="portal")
    headers = {} if given is None else {"X-Request-ID": given}
    response = client.get("/nowhere", headers=headers)
    assert response.status_code == 404
    made = response.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", made)
    [line] = request_lines(caplog)
    assert line["request_id"] == made and line["route"] == "<unmatched>" and line["status"] == 404


def test_no_token_password_email_or_name_reaches_any_log_line(app, client, caplog, csrf):
    """Registrations, manage links, a wrong and a right sign-in, a CSV download, email delivery:
    every log record of every logger at every level is checked."""
    caplog.set_level(logging.DEBUG)
    webinar = make_webinar(capacity=1, waitlist_enabled=True)
    organiser = make_organiser(role="admin", name="Orla Organiser", email="orla.secret@example.org")
    db.session.commit()
    secrets = {"Orla Organiser", "orla.secret@example.org", ORGANISER_PASSWORD, "wrong password 99"}
    for n, name in enumerate(["Ada Lovelace", "Grace Hopper"]):
        email = f"person.{n}.private@example.org"
        secrets |= {name, email}
        token = csrf(f"/register/{webinar.slug}")
        assert client.post(f"/register/{webinar.slug}",
                           data=form_data(token, full_name=name, email=email)).status_code == 302
    _, manage_token = make_registration(webinar, full_name="Hedy Lamarr", email="hedy.private@example.org")
    db.session.commit()
    secrets |= {manage_token, "Hedy Lamarr", "hedy.private@example.org"}
    assert client.get(f"/registration/{manage_token}").status_code == 200
    assert client.get("/registration/not-a-real-token-at-all").status_code == 404
    assert sign_in(client, organiser, "wrong password 99").status_code in (200, 401, 422)
    assert sign_in(client, organiser).status_code == 302
    csv = client.get(f"/organiser/webinars/{webinar.id}/registrations.csv")
    assert csv.status_code == 200 and b"Ada Lovelace" in csv.data
    deliver_due()  # email delivery logs too (to the .eml folder here)

    assert caplog.records, "nothing was logged"
    formatter = JsonFormatter()
    output = "\n".join([formatter.format(r) for r in caplog.records] + [r.getMessage() for r in caplog.records])
    output += caplog.text
    leaked = sorted(s for s in secrets if s.lower() in output.lower())
    assert leaked == []
    assert "@example.org" not in output
    assert len(request_lines(caplog)) >= 10


# --- /metrics -------------------------------------------------------------------------------


def test_metrics_is_not_found_without_a_configured_token(client):
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer anything"}).status_code == 404


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer wrong", f"Basic {TOKEN}", f"Bearer {TOKEN}x"])
def test_metrics_refuses_a_missing_or_wrong_token_with_401(app, client, header):
    app.config["METRICS_TOKEN"] = TOKEN
    response = client.get("/metrics", headers={} if header is None else {"Authorization": header})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert b"portal_" not in response.data


def scrape(client) -> str:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    return response.get_data(as_text=True)


def sample(text: str, name: str, **labels) -> float:
    """The value of one sample in Prometheus text format (0 when absent)."""
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        metric, _, value = line.rpartition(" ")
        head, _, label_text = metric.partition("{")
        found = dict(re.findall(r'(\w+)="([^"]*)"', label_text))
        if head == name and all(found.get(k) == v for k, v in labels.items()):
            return float(value)
    return 0.0


def test_metrics_count_requests_by_route_and_registrations_by_outcome_and_the_outbox(app, client, csrf):
    app.config["METRICS_TOKEN"] = TOKEN
    webinar = make_webinar(capacity=1, waitlist_enabled=False)
    waiting = make_webinar(capacity=1, waitlist_enabled=True)
    db.session.commit()
    before = scrape(client)
    path = f"/register/{webinar.slug}"
    token = csrf(path)  # one per session: still valid once the form is no longer shown
    for n in range(3):
        client.post(path, data=form_data(token, email=f"m{n}@example.org"))
    for n in range(2):
        client.post(f"/register/{waiting.slug}", data=form_data(token, email=f"w{n}@example.org"))
    statuses = [r.status.value for r in db.session.scalars(select(Registration).order_by(Registration.id))]
    assert statuses == ["confirmed", "confirmed", "waitlisted"]
    after = scrape(client)

    def grew(outcome: str) -> float:
        return (sample(after, "portal_registrations_total", outcome=outcome)
                - sample(before, "portal_registrations_total", outcome=outcome))

    assert (grew("confirmed"), grew("waitlisted"), grew("refused"), grew("rate_limited")) == (2, 1, 2, 0)
    route = {"route": "/register/<slug>", "method": "POST"}
    posted = sum(sample(after, "portal_request_duration_seconds_count", **route, status=s)
                 - sample(before, "portal_request_duration_seconds_count", **route, status=s)
                 for s in ("302", "409"))
    assert posted == 5
    assert sample(after, "portal_outbox_messages", status="pending") == len(statuses)
    assert sample(after, "portal_outbox_oldest_unsent_age_seconds") >= 0
    deliver_due()
    delivered = scrape(client)
    assert sample(delivered, "portal_outbox_messages", status="pending") == 0
    assert sample(delivered, "portal_outbox_messages", status="sent") == len(statuses)
    assert sample(delivered, "portal_outbox_oldest_unsent_age_seconds") == 0


def test_rate_limited_registrations_are_counted(_migrated, tmp_path):
    app = create_app({**_test_settings(_migrated, tmp_path), "RATELIMIT_ENABLED": True,
                      "REGISTRATION_RATE_LIMIT": "1 per hour", "METRICS_TOKEN": TOKEN})
    with app.app_context():
        try:
            webinar = make_webinar()
            db.session.commit()
            client = app.test_client()
            path = f"/register/{webinar.slug}"
            before = sample(scrape(client), "portal_registrations_total", outcome="rate_limited")
            statuses = []
            for n in range(3):
                token = csrf_token_from(client.get(path).get_data(as_text=True))
                statuses.append(client.post(path, data=form_data(token, email=f"r{n}@example.org")).status_code)
            assert statuses.count(429) == 2
            after = sample(scrape(client), "portal_registrations_total", outcome="rate_limited")
            assert after - before == 2
        finally:
            db.session.remove()
            _empty_all_tables()
            db.engine.dispose()


SCRIPT = """
import os, sys
from portal import create_app
app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": sys.argv[1], "SECRET_KEY": "k",
                  "METRICS_TOKEN": "t", "MAIL_FOLDER": sys.argv[2]})
client = app.test_client()
for _ in range(int(sys.argv[3])):
    assert client.get("/healthz").status_code == 200
if sys.argv[4] == "scrape":
    sys.stdout.write(client.get("/metrics", headers={"Authorization": "Bearer t"}).get_data(as_text=True))
"""


def test_metrics_add_up_every_process_in_multiprocess_mode(_migrated, tmp_path):
    """Two worker processes answer requests; a third one's /metrics counts them all."""
    folder = tmp_path / "prometheus"
    folder.mkdir()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(folder)}
    env.pop("REDIS_URL", None)

    def run(requests: int, scrape_after: bool) -> str:
        result = subprocess.run(
            [sys.executable, "-c", SCRIPT, _migrated, str(tmp_path / "mail"), str(requests),
             "scrape" if scrape_after else "-"],
            cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60, check=False)
        assert result.returncode == 0, result.stderr
        return result.stdout

    run(3, False)
    run(4, False)
    text = run(1, True)
    assert sample(text, "portal_request_duration_seconds_count", route="/healthz", status="200") == 8
    assert len(list(folder.iterdir())) >= 3  # one file per process
