"""What operators see: one JSON log line per request, and Prometheus metrics at ``/metrics``.

Log lines carry the route (``/registration/<token>``), never the raw path, so
secret links do not reach the log; nothing here logs a form field. Any email
address that still slips into a message (a driver's error text) is masked by
the formatter.

Metrics are ``prometheus_client`` counters and histograms. Under gunicorn,
``PROMETHEUS_MULTIPROC_DIR`` names a folder where every worker writes its
figures and ``/metrics`` adds them up (``deploy/gunicorn.conf.py`` tells the
library when a worker dies). The outbox figures are counted from the database
at scrape time, so they are the same whichever host is scraped.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import re
import sys
import time
import uuid
from datetime import UTC, datetime

from flask import Flask, Response, abort, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST as PROMETHEUS_CONTENT_TYPE
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from portal.extensions import db

access_log = logging.getLogger("portal.request")

REQUEST_ID_HEADER = "X-Request-ID"
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_EMAIL = re.compile(r"[^\s@<>\"'=:/]+@[^\s@<>\"'/]+\.[A-Za-z]{2,}")

REQUEST_SECONDS = Histogram(
    "portal_request_duration_seconds", "Time to answer a request, by route and status.",
    ["route", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
REGISTRATIONS = Counter(
    "portal_registrations_total", "Registration attempts by outcome.", ["outcome"],
)


# --- logging --------------------------------------------------------------------------


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and the record's ``extra`` fields."""

    _STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in self._STANDARD and not key.startswith("_"):
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return mask_addresses(json.dumps(line, default=str, ensure_ascii=False))


def mask_addresses(text: str) -> str:
    return _EMAIL.sub("<address>", text)


def configure_logging(app: Flask) -> None:
    """JSON (``LOG_FORMAT=json``, the default) or plain text lines on stderr for the ``portal`` loggers.

    Done once per process: the handler sits on the ``portal`` logger (the app's
    own logger and every ``portal.*`` module logger) and records still
    propagate, so a host's own logging setup can collect them too.
    """
    from flask.logging import default_handler

    logger = logging.getLogger("portal")
    # Flask adds its own handler to the app's logger (also named "portal") when something logs
    # before this runs: every line would be written twice, once not as JSON.
    logger.removeHandler(default_handler)
    if not any(getattr(h, "_portal_handler", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler._portal_handler = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    for handler in logger.handlers:
        if getattr(handler, "_portal_handler", False):
            handler.setFormatter(JsonFormatter() if app.config["LOG_FORMAT"] == "json" else _TextFormatter())
    logger.setLevel(app.config["LOG_LEVEL"])


class _TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        return mask_addresses(super().format(record))


# --- per request ----------------------------------------------------------------------


def request_id() -> str:
    """The caller's ``X-Request-ID`` when it is a plain token (so a proxy's id follows the request), else a new one."""
    given = request.headers.get(REQUEST_ID_HEADER, "")
    return given if _SAFE_REQUEST_ID.match(given) else uuid.uuid4().hex


def _start_request() -> None:
    g.request_started = time.perf_counter()
    g.request_id = request_id()


def route_of_request() -> str:
    """The URL rule that matched (``/registration/<token>``), never the path with its secrets."""
    return request.url_rule.rule if request.url_rule is not None else "<unmatched>"


def _finish_request(response: Response) -> Response:
    started = g.get("request_started")
    duration = time.perf_counter() - started if started is not None else 0.0
    identifier = g.get("request_id") or request_id()
    response.headers[REQUEST_ID_HEADER] = identifier
    route = route_of_request()
    status = response.status_code
    REQUEST_SECONDS.labels(route=route, method=request.method, status=str(status)).observe(duration)
    _count_registration_refusals(status)
    access_log.info("request", extra={
        "request_id": identifier,
        "method": request.method,
        "route": route,
        "status": status,
        "duration_ms": round(duration * 1000, 2),
        "client": request.remote_addr,
    })
    return response


def record_cached_request(environ: dict, route: str, status: int, started: float) -> str:
    """The log line and duration metric of a request the page cache answered without entering
    Flask; returns its request id (the caller's ``X-Request-ID`` when it is a plain token)."""
    given = environ.get("HTTP_X_REQUEST_ID", "")
    identifier = given if _SAFE_REQUEST_ID.match(given) else uuid.uuid4().hex
    duration = time.perf_counter() - started
    method = environ.get("REQUEST_METHOD", "GET")
    REQUEST_SECONDS.labels(route=route, method=method, status=str(status)).observe(duration)
    access_log.info("request", extra={
        "request_id": identifier, "method": method, "route": route, "status": status,
        "duration_ms": round(duration * 1000, 2), "client": environ.get("REMOTE_ADDR"), "cached": True,
    })
    return identifier


def _count_registration_refusals(status: int) -> None:
    """Refused (no seat, closed) and rate-limited registration POSTs, read from the answer's status."""
    if request.endpoint != "registration.register" or request.method != "POST":
        return
    if status == 429:
        REGISTRATIONS.labels(outcome="rate_limited").inc()
    elif status == 409:
        REGISTRATIONS.labels(outcome="refused").inc()


def count_registrations(outcomes) -> None:
    """Called by the registration view after its commit: confirmed and waitlisted places.

    (``already_registered`` is not counted: it adds no registration.)
    """
    for item in outcomes:
        outcome = str(item.outcome)
        if outcome in ("confirmed", "waitlisted"):
            REGISTRATIONS.labels(outcome=outcome).inc()


# --- /metrics -------------------------------------------------------------------------


def metrics():
    """Prometheus text format; needs ``Authorization: Bearer $METRICS_TOKEN``.

    No token configured: 404, the endpoint does not exist. A missing or wrong
    token: 401 with ``WWW-Authenticate: Bearer``, so a misconfigured scraper
    says why it fails (the token, not the page, is the secret).
    """
    expected = current_app.config.get("METRICS_TOKEN")
    if not expected:
        abort(404)
    given = request.headers.get("Authorization", "")
    scheme, _, token = given.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), expected.encode()):
        response = Response("unauthorised\n", status=401, mimetype="text/plain")
        response.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    registry = _scrape_registry()
    response = Response(generate_latest(registry), mimetype=None)
    response.headers["Content-Type"] = PROMETHEUS_CONTENT_TYPE
    response.headers["Cache-Control"] = "no-store"
    return response


def _scrape_registry():
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=folder)
    else:
        registry = CollectorRegistry()
        for collector in (REQUEST_SECONDS, REGISTRATIONS):
            registry.register(collector)
    registry.register(OutboxCollector())
    return registry


class OutboxCollector:
    """Outbox messages by status and the age of the oldest unsent one, counted at scrape time."""

    def collect(self):
        from portal.models import OutboxMessage, OutboxStatus
        from portal.models.types import utcnow

        by_status = GaugeMetricFamily("portal_outbox_messages", "Outbox messages by status.", labels=["status"])
        oldest = GaugeMetricFamily("portal_outbox_oldest_unsent_age_seconds",
                                   "Age of the oldest message not yet sent (0 when none waits).")
        try:
            counts = dict(db.session.execute(
                select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all())
            first = db.session.scalar(select(func.min(OutboxMessage.created_at))
                                      .where(OutboxMessage.status == OutboxStatus.PENDING))
        except DBAPIError:
            db.session.rollback()
            return
        for status in OutboxStatus:
            by_status.add_metric([status.value], counts.get(status, 0))
        yield by_status
        age = (utcnow() - first).total_seconds() if first is not None else 0.0
        oldest.add_metric([], max(age, 0.0))
        yield oldest


def init_app(app: Flask) -> None:
    configure_logging(app)
    app.before_request(_start_request)
    app.after_request(_finish_request)
    app.add_url_rule("/metrics", "metrics", metrics)
