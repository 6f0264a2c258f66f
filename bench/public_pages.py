"""Anonymous public pages against a plain route of the same app, under gunicorn (2 workers), with wrk.

Run: ``.venv/bin/python bench/public_pages.py`` (SQLite, the demo with registrations), add
``--database-url postgresql+psycopg://postgres@127.0.0.1:5432/scratch`` for PostgreSQL (the
scratch database's ``public`` schema is rebuilt: give it one you can lose) and ``--size large``
for a generated series of 300 webinars and 3 000 presenters. Needs Debian's ``wrk``
(``apt-get install wrk``): a C client, so the client costs little next to the server.

For each route, wrk runs ``GET /hello`` (a view that returns a word, added to the same app by
``bench/hello_app.py``) and then the route, ``--rounds`` times, alternating; the figure is the
median of the per-round ratios route ÷ hello, so a change in machine load during the run moves
both sides of a ratio. Targets: every anonymous public GET >= 0.5, the registration form
>= 0.3. Production settings (``PORTAL_ENV=production``); nothing leaves 127.0.0.1. Every request
sends ``Accept-Encoding: gzip, deflate, br`` as a browser does (hello's answer is too small to
compress); ``--no-gzip`` leaves it out, to see what a large page costs uncompressed.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.dirname(sys.executable)
HOST = "127.0.0.1"
RATE = re.compile(r"Requests/sec:\s+([\d.]+)")
NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
PUBLIC_TARGET, FORM_TARGET = 0.5, 0.3

# The same server set-up as the registration benchmark, from the same folder.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from registration_throughput import empty_schema, flask, free_port  # noqa: E402


def generate_large_series(env: dict) -> None:
    """300 published webinars of 10 talks and 3 000 presenters in one series, through the models."""
    os.environ.update(env)
    sys.path.insert(0, ROOT)
    from datetime import UTC, datetime, timedelta

    from portal import create_app
    from portal.extensions import db
    from portal.models import (
        Organisation,
        Presentation,
        Presenter,
        PresenterRole,
        Series,
        Webinar,
        WebinarStatus,
    )

    app = create_app()
    with app.app_context():
        organisations = [Organisation(name=f"Bench organisation {n}") for n in range(50)]
        series = Series(slug="bench-series", title="Bench series", summary="Generated for the benchmark.",
                        published=True, host=organisations[0])
        presenters = []
        for n in range(3000):
            presenter = Presenter(slug=f"bench-presenter-{n}", name=f"Presenter {n}", bio="Generated.")
            presenter.roles.append(PresenterRole(title="Analyst", organisation=organisations[n % 50]))
            presenters.append(presenter)
        start = datetime.now(UTC) + timedelta(days=30)
        for n in range(300):
            webinar = Webinar(series=series, slug=f"bench-webinar-{n}", title=f"Bench webinar {n}",
                              starts_at=start + timedelta(days=n), description="Generated.", capacity=500,
                              status=WebinarStatus.PUBLISHED)
            for p in range(10):
                talk = Presentation(title=f"Talk {p}", abstract="Generated.", position=p)
                talk.presenters.append(presenters[(n * 10 + p) % 3000])
                webinar.presentations.append(talk)
            db.session.add(webinar)
        db.session.add_all(presenters)
        db.session.commit()


def routes(url: str) -> list[tuple[str, str, dict]]:
    """(label, path, headers) for every anonymous public GET, with real slugs from the database."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.connect() as conn:
        webinar = conn.execute(sa.text(
            "SELECT slug FROM webinar WHERE status = 'published' ORDER BY starts_at DESC LIMIT 1")).scalar()
        presenter = conn.execute(sa.text("SELECT slug FROM presenter ORDER BY id LIMIT 1")).scalar()
        series = conn.execute(sa.text("SELECT slug FROM series WHERE published ORDER BY id LIMIT 1")).scalar()
    engine.dispose()
    english = [
        ("home", "/"), ("webinars", "/webinars/"), ("webinar", f"/webinars/{webinar}"),
        ("webinar.ics", f"/webinars/{webinar}.ics"), ("calendar.ics", "/calendar.ics"),
        ("presenters", "/presenters/"), ("presenter", f"/presenters/{presenter}"),
        ("series", f"/series/{series}"), ("report", f"/series/{series}/report"),
        ("api webinars", "/api/v1/webinars"), ("api webinar", f"/api/v1/webinars/{webinar}"),
        ("api presenters", "/api/v1/presenters"),
    ]
    found = [(label, path, {}) for label, path in english]
    found += [(f"fr {label}", "/fr" + path, {}) for label, path in english[:9]]
    found.append(("register form", f"/register/{webinar}", {}))
    return found


#: What every browser sends; the page cache answers it with the gzip it made once per page.
BROWSER_HEADERS = {"Accept-Encoding": "gzip, deflate, br"}


def wrk(port: int, path: str, headers: dict, seconds: float, connections: int) -> tuple[float, int]:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds:g}s"]
    for name, value in {**BROWSER_HEADERS, **headers}.items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run([*command, f"http://{HOST}:{port}{path}"], check=True, capture_output=True,
                            text=True).stdout
    rate = RATE.search(output)
    errors = NON_2XX.search(output)
    if rate is None:
        sys.exit(f"wrk gave no rate for {path}:\n{output}")
    return float(rate.group(1)), int(errors.group(1)) if errors else 0


def warm_up(port: int, path: str, headers: dict) -> None:
    request = urllib.request.Request(f"http://{HOST}:{port}{path}", headers={**BROWSER_HEADERS, **headers})
    with urllib.request.urlopen(request, timeout=120) as answer:  # noqa: S310
        answer.read()


def wait_until_up(port: int, server: subprocess.Popen) -> None:
    for _ in range(300):
        if server.poll() is not None:
            sys.exit("gunicorn exited early")
        try:
            with urllib.request.urlopen(f"http://{HOST}:{port}/healthz", timeout=5) as answer:  # noqa: S310
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    sys.exit("server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help="a scratch PostgreSQL database (default: a temporary SQLite file)")
    parser.add_argument("--size", choices=["demo", "large"], default="demo")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=4.0, help="per wrk run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--only", help="a substring of the route labels to run")
    parser.add_argument("--no-gzip", action="store_true", help="do not send Accept-Encoding")
    args = parser.parse_args()
    if args.no_gzip:
        BROWSER_HEADERS.clear()
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install wrk")

    with tempfile.TemporaryDirectory(prefix="portal-bench-") as folder:
        url = args.database_url or f"sqlite:///{os.path.join(folder, 'bench.db')}"
        if args.database_url:
            empty_schema(url)
        env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": secrets.token_hex(32), "MAIL_SERVER": "",
               "MAIL_BACKEND": "file", "PORTAL_BASE_URL": "https://bench.example", "PORTAL_ENV": "production",
               "PROMETHEUS_MULTIPROC_DIR": folder}
        env.pop("REDIS_URL", None)
        flask(env, "db", "upgrade")
        if args.size == "demo":
            flask(env, "demo", "load", "--upcoming", "--with-registrations")
        else:
            generate_large_series(env)
        port = free_port()
        server = subprocess.Popen(
            [os.path.join(BIN, "gunicorn"), "--workers", "2", "--bind", f"{HOST}:{port}",
             "--log-level", "warning", "--pythonpath", os.path.join(ROOT, "bench"), "hello_app:app"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
        )
        table = []
        try:
            wait_until_up(port, server)
            for label, path, headers in routes(url):
                if args.only and args.only not in label:
                    continue
                hellos, rates, ratios, errors = [], [], [], 0
                warm_up(port, path, headers)  # the first visitor renders it; the runs measure the rest
                for _ in range(args.rounds):
                    hello, _ = wrk(port, "/hello", {}, args.seconds, args.connections)
                    rate, failed = wrk(port, path, headers, args.seconds, args.connections)
                    hellos.append(hello)
                    rates.append(rate)
                    ratios.append(rate / hello if hello else 0.0)
                    errors += failed
                target = FORM_TARGET if label == "register form" else PUBLIC_TARGET
                table.append((label, path, hellos, rates, statistics.median(ratios), target, errors))
                print(f"{label:15} {' '.join(f'{r:7.0f}' for r in rates)} req/s, "
                      f"ratio {statistics.median(ratios):.2f}", flush=True)
        finally:
            server.terminate()
            server.wait(timeout=30)

    print(f"\n{url.split('://')[0]}, {args.size} data, gunicorn -w 2, wrk -t2 -c{args.connections} "
          f"-d{args.seconds:g}s, {args.rounds} rounds, load average {os.getloadavg()[0]:.1f}")
    print("| route | req/s (rounds) | hello req/s (same rounds) | ÷ hello (median) | target |")
    print("|---|---|---|---|---|")
    failed = False
    for label, path, hellos, rates, ratio, target, errors in table:
        ok = ratio >= target and errors == 0
        failed |= not ok
        print(f"| `GET {path}` ({label}) | {', '.join(f'{r:.0f}' for r in rates)} | "
              f"{', '.join(f'{h:.0f}' for h in hellos)} | **{ratio:.2f}** | "
              f"{'≥' if ok else 'MISSED'} {target}{f', {errors} errors' if errors else ''} |")
    if failed:
        sys.exit("FAILED: a route is under its target or answered errors")


if __name__ == "__main__":
    main()
