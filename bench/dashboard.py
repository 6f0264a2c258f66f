"""Dashboard speed with 100 000 registrations, and the CSV export's memory.

Run: ``.venv/bin/python bench/dashboard.py`` (throw-away SQLite file under
``bench/out/``) or ``… --database-url postgresql+psycopg://…/scratch`` (that
database's schema ``public`` is DROPPED and rebuilt: give it a scratch database).

1. Builds the schema with the real migrations, then bulk-inserts one series,
   30 webinars and 100 000 registrations (statuses, sectors, provinces and
   sign-up days spread out, a few hundred feedback responses).
2. Signs an organiser in through the real login form (Flask test client) and
   renders, ``--runs`` times each: the overview (counts and charts), the
   overview with one webinar's charts, a
   registrations page (page 10) and a search; prints the median and the SQL
   statement count of each.
3. Adds a webinar holding 100 000 registrations and, in a fresh subprocess,
   streams its ``registrations.csv`` while tracemalloc records the peak of
   Python allocations above the baseline; also prints the growth in peak RSS.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

PASSWORD = "bench password, not secret"  # noqa: S105  (a throw-away bench account)
PROVINCES = ["ON", "QC", "BC", "AB", "MB", "SK", "NS", "NB", "NL", "PE", "YT", "NT", "NU", "outside"]


def make_app(url: str):
    from portal import create_app

    return create_app({
        "TESTING": True, "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False,
        "PORTAL_BASE_URL": "http://bench.test", "MAIL_SERVER": None,
        "MAIL_FOLDER": os.path.join(ROOT, "bench", "out", "mail"),
    })


def reset_database(url: str) -> None:
    import sqlalchemy as sa

    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///")
        if os.path.exists(path):
            os.remove(path)
        return
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


def registration_rows(webinar_ids: list[int], total: int, start: datetime, prefix: str):
    from portal.models import Sector
    from portal.models.registrations import search_text_of

    sectors = list(Sector)
    for n in range(total):
        webinar_id = webinar_ids[n % len(webinar_ids)]
        status = "cancelled" if n % 23 == 0 else "waitlisted" if n % 11 == 0 else "confirmed"
        moment = start + timedelta(minutes=(n * 7919) % (60 * 24 * 60))
        name, email, organisation = f"Person {prefix}{n}", f"p{prefix}{n}@example.org", f"Organisation {n % 400}"
        yield {
            "webinar_id": webinar_id, "full_name": name, "email": email,
            "email_normalised": email, "organisation_name": organisation,
            # A bulk INSERT skips the ORM event: the search column is filled as the form's INSERT does.
            "search_text": search_text_of(name, email, organisation),
            "sector": sectors[n % len(sectors)].value, "region": PROVINCES[n % len(PROVINCES)],
            "preferred_language": "fr" if n % 4 == 0 else "en", "accessibility_needs": None,
            "consented_at": moment, "status": status, "attended": status == "confirmed" and n % 3 == 0,
            "token_hash": hashlib.sha256(f"{prefix}{n}".encode()).hexdigest(),
            "created_at": moment, "updated_at": moment,
        }


def insert_registrations(rows, batch: int = 5000) -> None:
    from portal.extensions import db
    from portal.models import Registration

    chunk = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == batch:
            db.session.execute(db.insert(Registration), chunk)
            chunk = []
    if chunk:
        db.session.execute(db.insert(Registration), chunk)
    db.session.commit()
    settle(db.engine)


def settle(engine) -> None:
    """Bring a freshly bulk-loaded database to its steady state, as autovacuum would.

    PostgreSQL: ``VACUUM ANALYZE`` sets hint bits and the visibility map (without it an
    index-only scan still visits every heap page) and gathers planner statistics.
    SQLite: ``ANALYZE`` fills ``sqlite_stat1`` so the planner can choose among indexes.
    """
    import sqlalchemy as sa

    command = "VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text(command))


def build(url: str, registrations: int, webinar_count: int) -> dict:
    from flask_migrate import upgrade
    from werkzeug.security import generate_password_hash

    from portal.extensions import db
    from portal.models import FeedbackResponse, Organiser, Role, Series, Webinar, WebinarStatus

    reset_database(url)
    app = make_app(url)
    with app.app_context():
        upgrade()
        series = Series(slug="bench", title="Bench series", published=True)
        db.session.add(series)
        start = datetime(2030, 1, 1, 14, tzinfo=UTC)
        webinars = [Webinar(series=series, slug=f"bench-{n}", title=f"Bench webinar {n}",
                            starts_at=start + timedelta(days=60 + 7 * n), capacity=5000,
                            status=WebinarStatus.PUBLISHED) for n in range(webinar_count)]
        db.session.add_all(webinars)
        db.session.add(Organiser(email="bench@example.org", name="Bench", role=Role.ADMIN,
                                 password_hash=generate_password_hash(PASSWORD)))
        db.session.commit()
        ids = [w.id for w in webinars]
        began = time.perf_counter()
        insert_registrations(registration_rows(ids, registrations, start, "r"))
        db.session.add_all(FeedbackResponse(webinar_id=ids[n % len(ids)], overall_rating=1 + n % 5)
                           for n in range(300))
        db.session.commit()
        print(f"inserted {registrations} registrations over {webinar_count} webinars "
              f"in {time.perf_counter() - began:.1f} s")
        return {"webinar_id": ids[0]}


def signed_in_client(app):
    from tests.conftest import csrf_token_from

    client = app.test_client()
    token = csrf_token_from(client.get("/organiser/login").get_data(as_text=True))
    response = client.post("/organiser/login", data={"csrf_token": token, "email": "bench@example.org",
                                                    "password": PASSWORD})
    assert response.status_code == 302, response.status_code
    return client


def time_pages(url: str, webinar_id: int, runs: int) -> list[tuple[str, float, float, int]]:
    import sqlalchemy as sa

    from portal.extensions import db

    app = make_app(url)
    pages = [
        ("overview (counts and charts)", "/organiser/"),
        ("overview, one webinar's charts", f"/organiser/?webinar={webinar_id}"),
        ("registrations page 10", f"/organiser/webinars/{webinar_id}/registrations?page=10"),
        ("search", f"/organiser/webinars/{webinar_id}/registrations?q=person+r1234"),
        ("search, filtered and sorted",
         f"/organiser/webinars/{webinar_id}/registrations?q=organisation+1&status=confirmed&sort=name"),
    ]
    results = []
    with app.app_context():
        client = signed_in_client(app)
        for label, path in pages:
            statements = []

            def count(*_args, statements=statements):
                statements.append(1)

            client.get(path)  # warm caches and templates
            timings, cpu = [], []
            for _ in range(runs):
                statements.clear()
                sa.event.listen(db.engine, "before_cursor_execute", count)
                began, began_cpu = time.perf_counter(), time.process_time()
                response = client.get(path)
                response.get_data()
                timings.append((time.perf_counter() - began) * 1000)
                cpu.append((time.process_time() - began_cpu) * 1000)
                sa.event.remove(db.engine, "before_cursor_execute", count)
                assert response.status_code == 200, (path, response.status_code)
            results.append((label, statistics.median(timings), statistics.median(cpu), len(statements)))
    return results


def explain_overview(url: str, webinar_id: int | None) -> None:
    """Prints the plan and actual time of each statement the overview issues."""
    import sqlalchemy as sa

    from portal.extensions import db

    app = make_app(url)
    path = "/organiser/" + (f"?webinar={webinar_id}" if webinar_id else "")
    with app.app_context():
        client = signed_in_client(app)
        seen = []

        def keep(_conn, _cursor, statement, parameters, _context, _many):
            seen.append((statement, parameters))

        sa.event.listen(db.engine, "before_cursor_execute", keep)
        client.get(path)
        sa.event.remove(db.engine, "before_cursor_execute", keep)
        postgres = db.engine.dialect.name == "postgresql"
        prefix = "EXPLAIN (ANALYZE, BUFFERS) " if postgres else "EXPLAIN QUERY PLAN "
        print(f"\nplans of {path}:")
        with db.engine.connect() as conn:
            for statement, parameters in seen:
                if "registration" not in statement and "feedback" not in statement:
                    continue
                print("  " + " ".join(statement.split())[:300])
                began = time.perf_counter()
                conn.exec_driver_sql(statement, parameters).all()
                took = (time.perf_counter() - began) * 1000
                for row in conn.exec_driver_sql(prefix + statement, parameters):
                    print("    " + " | ".join(str(v) for v in row))
                print(f"    (run alone: {took:.1f} ms)")


def add_csv_webinar(url: str, rows: int) -> int:
    from portal.extensions import db
    from portal.models import Series, Webinar, WebinarStatus

    app = make_app(url)
    with app.app_context():
        series = db.session.scalar(db.select(Series))
        webinar = Webinar(series=series, slug="bench-csv", title="CSV bench", capacity=None,
                          starts_at=datetime(2031, 1, 1, 14, tzinfo=UTC), status=WebinarStatus.PUBLISHED)
        db.session.add(webinar)
        db.session.commit()
        insert_registrations(registration_rows([webinar.id], rows, datetime(2030, 6, 1, tzinfo=UTC), "c"))
        return webinar.id


def measure_csv(url: str, webinar_id: int) -> dict:
    """Runs in its own process so earlier work does not hide the export's own peak."""
    import tracemalloc

    app = make_app(url)
    with app.app_context():
        client = signed_in_client(app)
        client.get("/organiser/")  # imports and templates loaded before the baseline
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        tracemalloc.start()
        baseline = tracemalloc.get_traced_memory()[0]
        began, began_cpu = time.perf_counter(), time.process_time()
        response = client.get(f"/organiser/webinars/{webinar_id}/registrations.csv", buffered=False)
        size = lines = 0
        for chunk in response.response:
            data = chunk if isinstance(chunk, bytes) else chunk.encode("utf-8")
            size += len(data)
            lines += data.count(b"\n")
        response.close()
        seconds, cpu_seconds = time.perf_counter() - began, time.process_time() - began_cpu
        peak = tracemalloc.get_traced_memory()[1] - baseline
        tracemalloc.stop()
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"rows": lines - 1, "bytes": size, "seconds": round(seconds, 2), "cpu_seconds": round(cpu_seconds, 2),
            "peak_python_mb": round(peak / 2**20, 1), "rss_growth_mb": round((rss_after - rss_before) / 1024, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="sqlite:///" + os.path.join(ROOT, "bench", "out", "dashboard.db"))
    parser.add_argument("--registrations", type=int, default=100_000)
    parser.add_argument("--webinars", type=int, default=30)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--csv-rows", type=int, default=100_000)
    parser.add_argument("--explain", action="store_true", help="print each overview aggregate's plan")
    parser.add_argument("--skip-csv", action="store_true")
    parser.add_argument("--measure-csv", type=int, help=argparse.SUPPRESS)  # the subprocess
    args = parser.parse_args()
    os.makedirs(os.path.join(ROOT, "bench", "out"), exist_ok=True)
    if args.measure_csv:
        print(json.dumps(measure_csv(args.database_url, args.measure_csv)))
        return

    print(f"database: {args.database_url.split('@')[-1]}")
    scene = build(args.database_url, args.registrations, args.webinars)
    print(f"\nmedian of {args.runs} renders (test client, in process), load average "
          f"{' '.join(f'{v:.2f}' for v in os.getloadavg())}:")
    print(f"  {'page':<30} {'wall':>8}    {'CPU (this process)':>18}")
    for label, median, cpu, statements in time_pages(args.database_url, scene["webinar_id"], args.runs):
        print(f"  {label:<30} {median:8.1f} ms {cpu:8.1f} ms   {statements:3d} SQL statements")
    if args.explain:
        explain_overview(args.database_url, None)
        explain_overview(args.database_url, scene["webinar_id"])
    if args.skip_csv:
        return
    webinar_id = add_csv_webinar(args.database_url, args.csv_rows)
    output = subprocess.run([sys.executable, __file__, "--database-url", args.database_url,
                             "--measure-csv", str(webinar_id)], check=True, capture_output=True, text=True)
    csv_figures = json.loads(output.stdout.strip().splitlines()[-1])
    print(f"\nregistrations.csv of {csv_figures['rows']} rows: {csv_figures['bytes'] / 2**20:.1f} MB in "
          f"{csv_figures['seconds']} s ({csv_figures['cpu_seconds']} s CPU, under tracemalloc); peak Python allocations {csv_figures['peak_python_mb']} MB above "
          f"baseline (tracemalloc), peak RSS grew {csv_figures['rss_growth_mb']} MB")


if __name__ == "__main__":
    main()
