"""Readiness and database outages: what a load balancer and a visitor see when a dependency is down.

``/healthz`` (in ``web``) says the process is alive; ``/readyz`` says this host
should take traffic: the database answers, its schema is at the migrations'
head, and Redis (when configured) answers PING. While the database is
unreachable every page answers a friendly 503 with ``Retry-After`` instead of
a 500; ``pool_pre_ping`` replaces dead connections, so pages recover by
themselves when it is back.
"""

from __future__ import annotations

import contextlib
import logging

import redis
from alembic.script import ScriptDirectory
from flask import Flask, current_app, jsonify, render_template, request
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, OperationalError

from portal.commands.worker_loop import describe_fault
from portal.extensions import db

logger = logging.getLogger("portal.health")

#: Seconds a visitor (or a client library) is asked to wait while the database is away.
RETRY_AFTER_SECONDS = 30
REDIS_TIMEOUT_SECONDS = 1.0


def init_app(app: Flask) -> None:
    app.register_error_handler(OperationalError, database_unavailable)
    app.add_url_rule("/readyz", "readyz", readyz)


def database_unavailable(error: DBAPIError):
    """The database did not answer: tell the visitor to come back, in their language (or JSON)."""
    with contextlib.suppress(DBAPIError):
        db.session.rollback()
    logger.warning("database unavailable", extra={"fault": describe_fault(error)})
    if request.path.startswith("/api/"):
        response = jsonify(error={"status": 503, "message": "Service Unavailable",
                                  "detail": "The database is unavailable; try again shortly."})
        response.status_code = 503
    else:
        response = current_app.make_response((render_template("errors/503.html"), 503))
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response.headers["Cache-Control"] = "no-store"
    return response


def readyz():
    """200 when every dependency is fine; 503 naming the ones that are not."""
    checks = {"database": _database_check(), "migrations": None, "redis": _redis_check()}
    if checks["database"] == "ok":
        checks["migrations"] = _migrations_check()
    else:
        checks["migrations"] = "unknown: database unavailable"
    if current_app.config.get("REDIS_URL") is None:
        checks["redis"] = "not configured"
    ready = all(value in ("ok", "not configured") for value in checks.values())
    response = jsonify(status="ready" if ready else "unavailable", checks=checks)
    response.status_code = 200 if ready else 503
    response.headers["Cache-Control"] = "no-store"
    return response


def _database_check() -> str:
    try:
        db.session.execute(text("SELECT 1"))
    except DBAPIError:
        db.session.rollback()
        return "unavailable"
    return "ok"


def _migrations_check() -> str:
    try:
        current = set(db.session.scalars(text("SELECT version_num FROM alembic_version")).all())
    except DBAPIError:
        db.session.rollback()
        return "not migrated: no alembic_version table"
    heads = migration_heads()
    if current == heads:
        return "ok"
    return f"not at head: database {','.join(sorted(current)) or 'empty'}, code {','.join(sorted(heads))}"


def migration_heads() -> set[str]:
    """The head revision(s) of ``migrations/`` (read once per app: the files do not change at run time)."""
    heads = current_app.extensions.get("portal_migration_heads")
    if heads is None:
        config = current_app.extensions["migrate"].migrate.get_config()
        heads = set(ScriptDirectory.from_config(config).get_heads())
        current_app.extensions["portal_migration_heads"] = heads
    return heads


def _redis_check() -> str | None:
    url = current_app.config.get("REDIS_URL")
    if not url:
        return None
    client = current_app.extensions.get("portal_readiness_redis")
    if client is None:
        client = redis.Redis.from_url(url, socket_timeout=REDIS_TIMEOUT_SECONDS,
                                      socket_connect_timeout=REDIS_TIMEOUT_SECONDS)
        current_app.extensions["portal_readiness_redis"] = client
    try:
        client.ping()
    except (redis.RedisError, OSError):
        return "unavailable"
    return "ok"
