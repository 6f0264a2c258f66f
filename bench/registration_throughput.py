"""Registrations per second against a plain route of the same app, under gunicorn (2 workers).

Run: ``make bench`` (or ``.venv/bin/python bench/registration_throughput.py``).
Builds a throw-away SQLite database with the demo series (``flask demo load
--upcoming``), gives the first upcoming webinar a capacity of 50, serves the
app on a free loopback port and measures, in one run:

* the "hello" route ``GET /healthz`` (one ``SELECT 1``), and
* ``POST /register/<slug>`` (each client thread fetches its CSRF token once),

then prints both rates, their ratio, and the confirmed count against the capacity
(overbooking would show as confirmed > capacity). Loops are bounded; nothing
leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import os
import re
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.dirname(sys.executable)
CAPACITY = 50


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def flask(env: dict, *args: str) -> None:
    subprocess.run([os.path.join(BIN, "flask"), "--app", "portal", *args], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)


def prepare_database(env: dict, path: str) -> str:
    flask(env, "db", "upgrade")
    flask(env, "demo", "load", "--upcoming")
    with sqlite3.connect(path) as conn:
        row = conn.execute(
            "SELECT slug FROM webinar WHERE status = 'published' AND starts_at > datetime('now') "
            "ORDER BY starts_at LIMIT 1").fetchone()
        if row is None:
            sys.exit("no upcoming webinar in the demo data")
        conn.execute("UPDATE webinar SET capacity = ?, registration_opens_at = NULL, "
                     "registration_closes_at = NULL WHERE slug = ?", (CAPACITY, row[0]))
        conn.execute("DELETE FROM registration WHERE webinar_id = (SELECT id FROM webinar WHERE slug = ?)", row)
    return row[0]


def wait_until_up(base: str, server: subprocess.Popen) -> None:
    for _ in range(200):
        if server.poll() is not None:
            sys.exit("gunicorn exited early")
        try:
            urllib.request.urlopen(base + "/healthz", timeout=10)
            return
        except OSError:  # URLError, refused, or a read timeout while workers boot
            time.sleep(0.1)
    sys.exit("server did not start")


def run_threads(threads: int, per_thread: int, work) -> tuple[float, list[int]]:
    statuses: list[int] = []
    lock = threading.Lock()
    ready = threading.Barrier(threads + 1)

    def body(n: int) -> None:
        do_one = work(n)
        ready.wait()
        for i in range(per_thread):
            status = do_one(i)
            with lock:
                statuses.append(status)

    workers = [threading.Thread(target=body, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    ready.wait()
    started = time.perf_counter()
    for worker in workers:
        worker.join()
    return time.perf_counter() - started, statuses


def hello(base: str):
    def setup(_n: int):
        def one(_i: int) -> int:
            with urllib.request.urlopen(base + "/healthz", timeout=30) as response:
                response.read()
                return response.status
        return one
    return setup


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def registration(base: str, slug: str, run_id: str):
    def setup(n: int):
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
                                             NoRedirect())
        page = opener.open(f"{base}/register/{slug}", timeout=30).read().decode()
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)

        def one(i: int) -> int:
            data = urllib.parse.urlencode({
                "csrf_token": token, "full_name": f"Bench {n}-{i}", "email": f"bench-{run_id}-{n}-{i}@example.org",
                "sector": "other", "region": "ON", "preferred_language": "en", "consent": "y",
            }).encode()
            try:
                with opener.open(f"{base}/register/{slug}", data=data, timeout=60) as response:
                    return response.status
            except urllib.error.HTTPError as error:
                return error.code
        return one
    return setup


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--hello-requests", type=int, default=50, help="per thread")
    parser.add_argument("--registrations", type=int, default=25, help="per thread")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="portal-bench-") as folder:
        path = os.path.join(folder, "bench.db")
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{path}", "SECRET_KEY": "bench-secret",
               "REGISTRATION_RATE_LIMIT": "100000 per second", "MAIL_SERVER": "",
               "PORTAL_BASE_URL": "http://127.0.0.1"}
        slug = prepare_database(env, path)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [os.path.join(BIN, "gunicorn"), "--workers", "2", "--bind", f"127.0.0.1:{port}",
             "--log-level", "warning", "portal:create_app()"],
            cwd=ROOT, env=env,
        )
        try:
            wait_until_up(base, server)
            hello_time, hello_statuses = run_threads(args.threads, args.hello_requests, hello(base))
            reg_time, reg_statuses = run_threads(args.threads, args.registrations,
                                                 registration(base, slug, str(int(time.time()))))
        finally:
            server.terminate()
            server.wait(timeout=30)
        with sqlite3.connect(path) as conn:
            counts = dict(conn.execute(
                "SELECT status, count(*) FROM registration WHERE webinar_id = "
                "(SELECT id FROM webinar WHERE slug = ?) GROUP BY status", (slug,)).fetchall())

    hello_rate = len(hello_statuses) / hello_time
    reg_rate = len(reg_statuses) / reg_time
    errors = sum(1 for s in hello_statuses if s != 200) + sum(1 for s in reg_statuses if s != 302)
    confirmed = counts.get("confirmed", 0)
    print(f"hello  GET /healthz          : {len(hello_statuses)} requests, {hello_rate:7.1f} req/s")
    print(f"register POST /register/{slug}: {len(reg_statuses)} requests, {reg_rate:7.1f} req/s")
    print(f"ratio registration / hello   : {reg_rate / hello_rate:.2f} (target >= 0.30)")
    print(f"confirmed {confirmed} / capacity {CAPACITY}, waitlisted {counts.get('waitlisted', 0)}, "
          f"error responses {errors}")
    if confirmed > CAPACITY or errors:
        sys.exit("FAILED: overbooked or errors")


if __name__ == "__main__":
    main()
