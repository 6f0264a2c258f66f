"""Registrations per second against a plain route of the same app, under gunicorn (2 workers).

Run: ``make bench`` (or ``.venv/bin/python bench/registration_throughput.py``).
Builds a throw-away SQLite database (or, with ``--database-url
postgresql+psycopg://…/scratch``, rebuilds that database's ``public`` schema:
give it a scratch database) with the demo series (``flask demo load
--upcoming``), gives the first upcoming webinar a capacity (100 by default) and
no registration window, serves the app with ``gunicorn --workers 2`` (sync
workers, the default) on a free loopback port, and measures with one client:

* ``hello``: ``GET /hello``, a view that returns a word, added to the same
  app by ``bench/hello_app.py`` (what gunicorn serves: the portal as
  deployed plus that route);
* ``healthz``: ``GET /healthz`` (one ``SELECT 1``, a JSON answer), the
  comparison used by earlier versions of this script;
* ``register``: ``POST /register/<slug>``, one new email per POST. Each client
  connection is one visitor session: it GETs the form once for its cookie and
  CSRF token (not timed), then posts registrations with different emails;
* ``full``: what one person costs end to end: GET the form, POST it, GET the
  "check your email" page it redirects to (three requests, counted as one);
* ``floor``: the same POST with the honeypot field filled in: the same
  request, session, CSRF check, rate limit, webinar look-up, form validation
  and redirect, but nothing written. It is the ceiling a registration could
  reach if its own database work (lock, count, insert, email) cost nothing.

The ratio ``register / hello`` is the figure (target >= 0.30); ``full / hello``
is printed too. The phases alternate for ``--rounds`` rounds and the median of
the per-round ratios is reported, so a change in machine load during the run
moves both sides of a ratio. Each phase has a warm-up (not counted) and a fixed
duration; every client thread keeps an ``http.client`` connection open for as
long as the server allows (gunicorn's sync workers close it after each
response, so the client reconnects; the same for every phase). At the end the
confirmed count is checked against the capacity and the number of stored
registrations against the number of successful POSTs. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import http.client
import http.cookies
import itertools
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.dirname(sys.executable)
HOST = "127.0.0.1"
TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def flask(env: dict, *args: str) -> None:
    subprocess.run([os.path.join(BIN, "flask"), "--app", "portal", *args], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def empty_schema(url: str) -> None:
    """PostgreSQL only: the scratch database starts empty, so every run measures the same thing."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


def add_existing_registrations(url: str, slug: str, count: int) -> None:
    """``count`` confirmed registrations already on the webinar (a bulk insert; the triggers
    keep the seat counter), to show that a registration costs the same on a full webinar."""
    import hashlib
    from datetime import UTC, datetime, timedelta

    import sqlalchemy as sa

    engine = sa.create_engine(url)
    start = datetime.now(UTC).replace(tzinfo=None) - timedelta(days=1)
    with engine.begin() as conn:
        webinar_id = conn.execute(sa.text("SELECT id FROM webinar WHERE slug = :slug"), {"slug": slug}).scalar()
        insert = sa.text(
            "INSERT INTO registration (webinar_id, full_name, email, email_normalised, sector, region, "
            "preferred_language, consented_at, status, attended, token_hash, created_at, updated_at) VALUES "
            "(:webinar_id, :name, :email, :email, 'other', 'ON', 'en', :at, 'confirmed', :no, :hash, :at, :at)")
        for first in range(0, count, 5000):
            conn.execute(insert, [
                {"webinar_id": webinar_id, "name": f"Existing {n}", "email": f"existing-{n}@example.org",
                 "at": start + timedelta(microseconds=n), "no": False,
                 "hash": hashlib.sha256(f"existing-{n}".encode()).hexdigest()}
                for n in range(first, min(first + 5000, count))])
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE registration"))
    else:
        with engine.begin() as conn:
            conn.execute(sa.text("ANALYZE"))
    engine.dispose()


def prepare_database(env: dict, url: str, capacity: int) -> str:
    import sqlalchemy as sa

    flask(env, "db", "upgrade")
    flask(env, "demo", "load", "--upcoming")
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        webinars = conn.execute(sa.text("SELECT slug, starts_at FROM webinar WHERE status = 'published'")).all()
        upcoming = sorted((str(starts), slug) for slug, starts in webinars if _is_future(starts))
        if not upcoming:
            sys.exit("no upcoming webinar in the demo data")
        slug = upcoming[0][1]
        conn.execute(sa.text("UPDATE webinar SET capacity = :capacity, waitlist_enabled = :yes, "
                             "registration_opens_at = NULL, registration_closes_at = NULL WHERE slug = :slug"),
                     {"capacity": capacity, "yes": True, "slug": slug})
        conn.execute(sa.text("DELETE FROM registration WHERE webinar_id = (SELECT id FROM webinar WHERE slug = :slug)"),
                     {"slug": slug})
    engine.dispose()
    return slug


def _is_future(starts) -> bool:
    """``starts_at`` as the driver returns it: a datetime (PostgreSQL) or ISO text (SQLite), in UTC."""
    from datetime import UTC, datetime

    moment = starts if isinstance(starts, datetime) else datetime.fromisoformat(str(starts))
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)) > datetime.now(UTC)


def registration_counts(url: str, slug: str) -> dict[str, int]:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT status, count(*) FROM registration WHERE webinar_id = "
            "(SELECT id FROM webinar WHERE slug = :slug) GROUP BY status"), {"slug": slug}).all()
    engine.dispose()
    return {str(status): count for status, count in rows}


class Client:
    """One visitor: a keep-alive connection (reopened when the server closes it) and a cookie jar."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn: http.client.HTTPConnection | None = None
        self.cookies: dict[str, str] = {}
        self.connections = 0

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, str, str]:
        headers = {"Host": f"{HOST}:{self.port}", "Accept-Language": "en"}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if self.conn is None:
            self.conn = http.client.HTTPConnection(HOST, self.port, timeout=60)
            self.connections += 1
        self.conn.request(method, path, body=body, headers=headers)
        response = self.conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in http.cookies.SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        if response.will_close:
            self.conn.close()
            self.conn = None
        return response.status, response.headers.get("Location", ""), text

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


def wait_until_up(port: int, server: subprocess.Popen) -> None:
    for _ in range(300):
        if server.poll() is not None:
            sys.exit("gunicorn exited early")
        try:
            client = Client(port)
            if client.request("GET", "/healthz")[0] == 200:
                client.close()
                return
        except OSError:  # refused, or a read timeout while workers boot
            time.sleep(0.1)
    sys.exit("server did not start")


def run_phase(threads: int, warmup: float, duration: float, setup) -> tuple[float, list[bool], int]:
    """Every thread repeats ``one()`` until the end; only operations ending inside the timed window count."""
    lock = threading.Lock()
    counted: list[bool] = []
    connections = 0
    ready = threading.Barrier(threads + 1)
    window: list[float] = []

    def body(n: int) -> None:
        nonlocal connections
        client, one = setup(n)
        ready.wait()
        start, end = window
        mine: list[bool] = []
        while time.perf_counter() < end:
            ok = one()
            if start <= time.perf_counter() < end:
                mine.append(ok)
        client.close()
        with lock:
            counted.extend(mine)
            connections += client.connections

    workers = [threading.Thread(target=body, args=(n,), daemon=True) for n in range(threads)]
    for worker in workers:
        worker.start()
    begin = time.perf_counter()
    window.extend([begin + warmup, begin + warmup + duration])
    ready.wait()
    for worker in workers:
        worker.join(timeout=warmup + duration + 120)
    return duration, counted, connections


def plain_get(port: int, path: str):
    def setup(_n: int):
        client = Client(port)
        return client, lambda: client.request("GET", path)[0] == 200
    return setup


def _new_email(run_id: str, counter) -> dict:
    n = next(counter)
    return {"full_name": f"Bench Person {n}", "email": f"bench-{run_id}-{n}@example.org", "sector": "other",
            "region": "ON", "preferred_language": "en", "consent": "y"}


def _form_token(client: Client, slug: str) -> str:
    status, _, page = client.request("GET", f"/register/{slug}")
    match = TOKEN.search(page)
    if status != 200 or match is None:
        raise RuntimeError(f"registration form answered {status}")
    return match.group(1)


def register_posts(port: int, slug: str, run_id: str, counter, posted: list):
    def setup(_n: int):
        client = Client(port)
        token = _form_token(client, slug)  # one visit: cookie and token, not timed

        def one() -> bool:
            status, location, _ = client.request("POST", f"/register/{slug}",
                                                 {"csrf_token": token, **_new_email(run_id, counter)})
            posted.append(status)
            return status == 302 and "/sent" in location
        return client, one
    return setup


def honeypot_posts(port: int, slug: str, run_id: str, counter):
    def setup(_n: int):
        client = Client(port)
        token = _form_token(client, slug)

        def one() -> bool:
            form = {"csrf_token": token, **_new_email(run_id, counter), "website": "http://spam.example"}
            status, location, _ = client.request("POST", f"/register/{slug}", form)
            return status == 302 and "/sent" in location
        return client, one
    return setup


def register_full(port: int, slug: str, run_id: str, counter, posted: list):
    def setup(_n: int):
        client = Client(port)

        def one() -> bool:
            token = _form_token(client, slug)
            status, location, _ = client.request("POST", f"/register/{slug}",
                                                 {"csrf_token": token, **_new_email(run_id, counter)})
            posted.append(status)
            if status != 302 or "/sent" not in location:
                return False
            return client.request("GET", urllib.parse.urlsplit(location).path)[0] == 200
        return client, one
    return setup


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=8, help="concurrent client connections")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds, per phase")
    parser.add_argument("--duration", type=float, default=6.0, help="seconds, per phase")
    parser.add_argument("--capacity", type=int, default=100)
    parser.add_argument("--existing", type=int, default=0,
                        help="confirmed registrations already on the webinar (the capacity is raised by as many)")
    parser.add_argument("--database-url", help="a scratch PostgreSQL database (default: a temporary SQLite file)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="portal-bench-") as folder:
        url = args.database_url or f"sqlite:///{os.path.join(folder, 'bench.db')}"
        if args.database_url:
            empty_schema(url)
        # Production settings that pass its refusals (mail kept as files on purpose); the limits
        # stay in the measured path, set high enough never to refuse.
        env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": secrets.token_hex(32),
               "REGISTRATION_RATE_LIMIT": "100000 per second", "REGISTRATION_EMAIL_RATE_LIMIT": "100000 per second",
               "REGISTRATION_WEBINAR_RATE_LIMIT": "100000 per second", "MAIL_SERVER": "", "MAIL_BACKEND": "file",
               "PORTAL_BASE_URL": "https://webinars.bench.invalid", "PORTAL_ENV": "production"}
        slug = prepare_database(env, url, args.capacity + args.existing)
        if args.existing:
            add_existing_registrations(url, slug, args.existing)
        port = free_port()
        server = subprocess.Popen(
            [os.path.join(BIN, "gunicorn"), "--workers", "2", "--bind", f"{HOST}:{port}",
             "--log-level", "warning", "--pythonpath", os.path.join(ROOT, "bench"), "hello_app:app"],
            cwd=ROOT, env=env,
        )
        run_id, counter, posted = str(int(time.time())), itertools.count(), []
        rows: list[dict[str, float]] = []
        failures = 0
        try:
            wait_until_up(port, server)
            for round_no in range(1, args.rounds + 1):
                rates = {}
                for name, setup in (("hello", plain_get(port, "/hello")),
                                    ("healthz", plain_get(port, "/healthz")),
                                    ("register", register_posts(port, slug, run_id, counter, posted)),
                                    ("full", register_full(port, slug, run_id, counter, posted)),
                                    ("floor", honeypot_posts(port, slug, run_id, counter))):
                    seconds, results, connections = run_phase(args.threads, args.warmup, args.duration, setup)
                    failures += results.count(False)
                    rates[name] = len(results) / seconds
                    print(f"round {round_no} {name:8} {len(results):5} in {seconds:.0f} s = {rates[name]:7.1f}/s "
                          f"({connections} connections)", flush=True)
                rows.append(rates)
        finally:
            server.terminate()
            server.wait(timeout=30)
        counts = registration_counts(url, slug)

    def rate(name: str) -> float:
        return statistics.median(r[name] for r in rows)

    def ratio(name: str) -> float:
        """Per round, so a change in machine load during the run moves both sides."""
        return statistics.median(r[name] / r["hello"] for r in rows)

    confirmed, stored = counts.get("confirmed", 0) - args.existing, sum(counts.values()) - args.existing
    accepted = posted.count(302)
    print(f"{url.split('://')[0]}: {args.existing} existing registrations, median of {len(rows)} rounds, "
          f"{args.threads} client threads, "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"hello    GET /hello (returns a word) : {rate('hello'):7.1f} req/s")
    print(f"healthz  GET /healthz (SELECT 1)     : {rate('healthz'):7.1f} req/s   ratio {ratio('healthz'):.2f}")
    print(f"register POST /register/<slug>       : {rate('register'):7.1f} req/s   ratio {ratio('register'):.2f} "
          f"(target >= 0.30; {statistics.median(r['register'] / r['healthz'] for r in rows):.2f} of healthz)")
    print(f"full     GET form + POST + GET sent  : {rate('full'):7.1f} people/s ratio {ratio('full'):.2f}")
    print(f"floor    POST, honeypot (no writes)  : {rate('floor'):7.1f} req/s   ratio {ratio('floor'):.2f} "
          "(the ceiling for register)")
    print(f"register ÷ floor                     : "
          f"{statistics.median(r['register'] / r['floor'] for r in rows):.2f} (target >= 0.6)")
    print(f"confirmed {confirmed} / capacity {args.capacity}, waitlisted {counts.get('waitlisted', 0)}, "
          f"stored {stored} for {accepted} accepted POSTs, failed operations {failures}")
    if confirmed > args.capacity or failures or stored != accepted or accepted != len(posted):
        sys.exit("FAILED: overbooked, lost registrations or error responses")


if __name__ == "__main__":
    main()
