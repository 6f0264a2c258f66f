"""What each shortcut on the registration path saves, against its plain SQLAlchemy version.

Run: ``.venv/bin/python bench/registration_bypasses.py`` (SQLite), add ``--database-url
postgresql+psycopg://postgres@127.0.0.1:5432/scratch`` for PostgreSQL (its ``public`` schema
is rebuilt: give it one you can lose).

The registration path keeps three shortcuts past the ORM. Each one is swapped here for the
way SQLAlchemy and Flask would do it without thought, and whole registrations (the form POST
through the app, in process: no HTTP client to share the CPU with) are timed, in a shuffled
order in each of ``--rounds`` rounds; the table gives the median milliseconds per registration and
the difference from the code as it is. The honeypot POST (the same request, nothing written) is
timed too: it is the floor a registration is compared with in ``registration_throughput.py``.

* ``core insert``: the registration is one Core INSERT on the session's connection, then
  attached as loaded (``make_transient_to_detached``), instead of ``session.add`` + flush;
* ``outbox insert``: the email row is one prepared ``INSERT … ON CONFLICT DO NOTHING``,
  compiled once, instead of the dialect's ``insert().on_conflict_do_nothing()`` built per
  message and returning the ORM object;
* ``shared render``: the confirmation is rendered once per webinar state with markers for the
  name and the link, instead of rendering the templates for every person;
* ``core lock``: the lock statement runs on the session's connection instead of through
  ``session.execute`` (the ORM's execution layer).

Last, the registration's own SQL is run bare, through the database driver with nothing
around it (the lock with the duplicate look-up, the two INSERTs with emails of the real size,
the commit): no implementation can write a registration for less. The "ceiling" line is
what ``register ÷ floor`` would be if everything else a registration does cost nothing.
"""

from __future__ import annotations

import argparse
import itertools
import logging
import os
import random
import re
import secrets
import statistics
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from registration_throughput import empty_schema, prepare_database  # noqa: E402

TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


# --- the plain versions -----------------------------------------------------------------------


def plain_insert_registration(webinar, details, now, status):
    from portal.extensions import db
    from portal.models import Registration
    from portal.models.types import utcnow
    from portal.services.registration import link_token
    from portal.services.tokens import hash_token

    stamp = utcnow()
    registration = Registration(
        webinar=webinar, full_name=details.full_name, email=details.email,
        email_normalised=details.email_normalised, organisation_name=details.organisation_name,
        sector=details.sector, region=details.region, preferred_language=details.preferred_language,
        accessibility_needs=details.accessibility_needs, consented_at=now, status=status,
        created_at=stamp, updated_at=stamp,
        token_hash=hash_token(link_token(webinar.id, details.email_normalised, stamp)))
    db.session.add(registration)
    db.session.flush()
    return registration


def plain_insert_once(values: dict):
    from sqlalchemy.dialects import postgresql, sqlite

    from portal.extensions import db
    from portal.models import OutboxMessage

    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (dialect.insert(OutboxMessage).values(**values)
                 .on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(OutboxMessage))
    return db.session.scalars(statement).first()


def plain_message(kind, subject, registration, language, extra):
    from portal.services import registration as service
    from portal.services.outbox import render_message

    webinar = registration.webinar
    context = service._context(registration, webinar, service.manage_url(registration), extra, language)
    return render_message(kind, context, language, subject)


def plain_core(statement, parameters):
    from portal.extensions import db

    return db.session.execute(statement, parameters)


VARIANTS = {
    "as it is": {},
    "core insert → session.add": {"registration._insert_registration": plain_insert_registration},
    "outbox insert → ORM insert": {"outbox._insert_once": plain_insert_once},
    "shared render → full render": {"registration._message": plain_message},
    "core lock → session.execute": {"registration._core": plain_core},
}
VARIANTS["all plain"] = {k: v for patch in list(VARIANTS.values()) for k, v in patch.items()}


def apply(patch: dict) -> None:
    from portal.services import outbox, registration

    modules = {"registration": registration, "outbox": outbox}
    for target, function in patch.items():
        module, name = target.split(".")
        setattr(modules[module], name, function)


# --- the bare SQL ------------------------------------------------------------------------------

_RULES = ("capacity, waitlist_enabled, status, starts_at, duration_minutes, registration_opens_at, "
          "registration_closes_at, confirmed_count")
_DUPLICATE = ("(SELECT r.id FROM registration r WHERE r.webinar_id = webinar.id AND r.email_normalised = :email "
              "AND r.status != 'cancelled')")
_LOCK = {
    "sqlite": f"UPDATE webinar SET confirmed_count = confirmed_count WHERE id = :id RETURNING {_RULES}, {_DUPLICATE}",
    "postgresql": f"SELECT {_RULES}, {_DUPLICATE} FROM webinar WHERE id = :id FOR UPDATE OF webinar",
}
_INSERT_REGISTRATION = (
    "INSERT INTO registration (webinar_id, full_name, email, email_normalised, organisation_name, search_text, "
    "sector, region, preferred_language, accessibility_needs, consented_at, status, attended, created_at, "
    "updated_at, token_hash) VALUES (:id, :name, :email, :normalised, NULL, :search, 'other', 'ON', 'en', NULL, :now, "
    "'waitlisted', :no, :now, :now, :hash) RETURNING id")
_INSERT_MESSAGE = (
    "INSERT INTO outbox_message (kind, recipient, subject, body_text, body_html, calendar_language, registration_id, "
    "webinar_id, dedupe_key, status, attempts, next_attempt_at, created_at) VALUES ('waitlisted', :email, :subject, "
    ":text, :html, NULL, :registration, :id, :key, 'pending', 0, :now, :now) "
    "ON CONFLICT (dedupe_key) DO NOTHING RETURNING id")


def bare_sql_ms(engine, slug: str, count: int) -> float:
    """The registration's statements through the driver alone, one transaction each."""
    import hashlib
    from datetime import UTC, datetime

    dialect = engine.dialect.name

    def native(sql: str) -> str:
        return re.sub(r":(\w+)", r"%(\1)s", sql) if dialect == "postgresql" else sql

    lock, insert_registration, insert_message = (native(_LOCK[dialect]), native(_INSERT_REGISTRATION),
                                                 native(_INSERT_MESSAGE))
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        cursor.execute(native("SELECT id FROM webinar WHERE slug = :slug"), {"slug": slug})
        webinar_id = cursor.fetchone()[0]
        cursor.execute("SELECT subject, body_text, body_html FROM outbox_message ORDER BY id DESC LIMIT 1")
        subject, body_text, body_html = cursor.fetchone()
        connection.commit()
        started = time.perf_counter()
        for n in range(count):
            email = f"bare-{n}-{secrets.token_hex(4)}@example.org"
            now = datetime.now(UTC).replace(tzinfo=None)
            cursor.execute(lock, {"id": webinar_id, "email": email})
            cursor.fetchone()
            cursor.execute(insert_registration, {"id": webinar_id, "name": f"Bare {n}", "email": email, "normalised": email,
                                                 "search": email, "now": now,
                                                 "no": False, "hash": hashlib.sha256(email.encode()).hexdigest()})
            registration_id = cursor.fetchone()[0]
            cursor.execute(insert_message, {"email": email, "subject": subject, "text": body_text, "html": body_html,
                                            "registration": registration_id, "id": webinar_id, "now": now,
                                            "key": f"waitlisted:{registration_id}"})
            cursor.fetchone()
            connection.commit()
        return (time.perf_counter() - started) / count * 1000
    finally:
        connection.close()


# --- the run ----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help="a scratch PostgreSQL database (default: a temporary SQLite file)")
    parser.add_argument("--registrations", type=int, default=300, help="per variant and round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="portal-bench-") as folder:
        url = args.database_url or f"sqlite:///{os.path.join(folder, 'bench.db')}"
        if args.database_url:
            empty_schema(url)
        env = {"DATABASE_URL": url, "SECRET_KEY": secrets.token_hex(32), "MAIL_SERVER": "", "MAIL_BACKEND": "file",
               "PORTAL_BASE_URL": "https://webinars.bench.invalid", "PORTAL_ENV": "production",
               "PROMETHEUS_MULTIPROC_DIR": folder, "REGISTRATION_RATE_LIMIT": "100000 per second",
               "REGISTRATION_EMAIL_RATE_LIMIT": "100000 per second",
               "REGISTRATION_WEBINAR_RATE_LIMIT": "100000 per second"}
        os.environ.update(env)
        os.environ.pop("REDIS_URL", None)
        slug = prepare_database({**os.environ}, url, 100)

        from portal import create_app
        from portal.extensions import db
        from portal.services import outbox, registration

        originals = {"registration._insert_registration": registration._insert_registration,
                     "outbox._insert_once": outbox._insert_once,
                     "registration._message": registration._message,
                     "registration._core": registration._core}
        app = create_app()
        app.config["SESSION_COOKIE_SECURE"] = False  # the test client speaks plain HTTP
        logging.getLogger("portal").setLevel(logging.WARNING)
        client = app.test_client()
        token = TOKEN.search(client.get(f"/register/{slug}").get_data(as_text=True)).group(1)
        counter = itertools.count()

        def post(honeypot: bool = False) -> None:
            n = next(counter)
            form = {"csrf_token": token, "full_name": f"Bench Person {n}", "email": f"bench-{n}@example.org",
                    "sector": "other", "region": "ON", "preferred_language": "en", "consent": "y"}
            if honeypot:
                form["website"] = "http://spam.example"
            answer = client.post(f"/register/{slug}", data=form,
                                 headers={"Referer": f"https://localhost/register/{slug}"})
            if answer.status_code != 302:
                sys.exit(f"registration answered {answer.status_code}")

        def timed(honeypot: bool = False) -> float:
            started = time.perf_counter()
            for _ in range(args.registrations):
                post(honeypot)
            return (time.perf_counter() - started) / args.registrations * 1000

        for _ in range(50):  # warm every cache once
            post()
        results: dict[str, list[float]] = {name: [] for name in [*VARIANTS, "floor (honeypot)", "bare SQL"]}
        order = list(VARIANTS)
        for round_no in range(1, args.rounds + 1):
            random.Random(round_no).shuffle(order)  # no variant always runs on the fullest database
            for name in order:
                patch = VARIANTS[name]
                apply(originals)
                apply(patch)
                post()  # one untimed, so a variant's first compile is not counted
                results[name].append(timed())
            apply(originals)
            results["floor (honeypot)"].append(timed(honeypot=True))
            with app.app_context():
                results["bare SQL"].append(bare_sql_ms(db.engine, slug, args.registrations))
            print(f"round {round_no}: " + ", ".join(f"{k} {v[-1]:.2f}" for k, v in results.items()), flush=True)

    base = statistics.median(results["as it is"])
    print(f"\n{url.split('://')[0]}, {args.registrations} registrations per variant and round, "
          f"median of {args.rounds} rounds, load average {os.getloadavg()[0]:.1f}")
    print("| variant | ms per registration | Δ vs as it is |")
    print("|---|---|---|")
    for name, times in results.items():
        median = statistics.median(times)
        delta = "" if name == "as it is" else f"{median - base:+.2f} ms ({(median - base) / base:+.0%})"
        print(f"| {name} | {median:.2f} | {delta} |")
    floor, bare = statistics.median(results["floor (honeypot)"]), statistics.median(results["bare SQL"])
    print(f"\nregister ÷ floor in process: {floor / base:.2f}; the ceiling, if all but the bare SQL cost "
          f"nothing: floor ÷ (floor + bare SQL) = {floor / (floor + bare):.2f}")


if __name__ == "__main__":
    main()
