"""What the rate limits cost a registration, and what a Redis outage costs.

Run: ``.venv/bin/python bench/limits_overhead.py`` (needs ``redis-server`` on the PATH;
it starts its own on a free port from 18150 and stops it).

1. Times ``registration_refusal`` + ``count_registration`` (the check after a valid
   form and the count after the commit: address, email and one webinar) with counts
   in process memory and in Redis.
2. Stops Redis and times the first registration (the one that finds Redis gone and
   falls back to memory) and the following ones; starts it again and times the
   registration that finds it back.
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from flask import current_app  # noqa: E402

from portal import create_app  # noqa: E402
from portal.services import limits  # noqa: E402

ROUNDS = 2000


def free_port() -> int:
    for port in range(18150, 18200):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise SystemExit("no free port in 18150-18199")


def start_redis(port: int) -> subprocess.Popen:
    server = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                               "--appendonly", "no"], stdout=subprocess.DEVNULL)
    for _ in range(200):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return server
        time.sleep(0.05)
    raise SystemExit("redis-server did not start")


def one_registration(n: int) -> float:
    started = time.perf_counter()
    limits.registration_refusal("198.51.100.1", f"person{n}@example.org", [1])
    limits.count_registration("198.51.100.1", f"person{n}@example.org", [1])
    return (time.perf_counter() - started) * 1e6


def app_counting_in(uri: str):
    return create_app({"TESTING": True, "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": "sqlite://",
                       "RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": uri,
                       "REGISTRATION_RATE_LIMIT": "100000 per hour"})


def main() -> None:
    port = free_port()
    redis = start_redis(port)
    try:
        for label, uri in (("memory", "memory://"), ("redis", f"redis://127.0.0.1:{port}/0")):
            with app_counting_in(uri).test_request_context():
                times = [one_registration(n) for n in range(ROUNDS)]
            print(f"{label:7} check + count per registration: median {statistics.median(times):6.0f} us, "
                  f"p99 {sorted(times)[int(ROUNDS * 0.99)]:6.0f} us")
        with app_counting_in(f"redis://127.0.0.1:{port}/0").test_request_context():
            one_registration(0)
            redis.terminate()
            redis.wait()
            print(f"redis stopped: first registration {one_registration(1):6.0f} us, "
                  f"next {statistics.median(one_registration(n) for n in range(2, 100)):6.0f} us (memory)")
            redis = start_redis(port)
            time.sleep(limits.RECHECK_SECONDS)
            found = one_registration(100)
            shared = not current_app.extensions["portal.limits"].using_memory
            print(f"redis back: registration that finds it {found:6.0f} us, counting in Redis again: {shared}")
    finally:
        redis.terminate()
        redis.wait()


if __name__ == "__main__":
    main()
