"""A client host of the deployment test: runs inside its own network namespace.

``register``: people register through the load balancer, several at a time,
as a browser does (GET the form for its CSRF token and cookie, POST it); one
JSON line per attempt says what the person was told. ``get``: one GET, prints
``status body`` (for /readyz and friends). Standard library only.
"""

from __future__ import annotations

import argparse
import http.client
import json
import re
import ssl
import sys
import threading
import time
from urllib.parse import urlencode, urlsplit

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
TIMEOUT = 30


def connection(base: str) -> http.client.HTTPConnection:
    parts = urlsplit(base)
    if parts.scheme == "https":
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE  # the test's self-signed certificate
        return http.client.HTTPSConnection(parts.hostname, parts.port or 443, timeout=TIMEOUT, context=context)
    return http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=TIMEOUT)


def request(base: str, method: str, path: str, body: str | None = None, headers: dict | None = None):
    conn = connection(base)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read().decode("utf-8", "replace")
    finally:
        conn.close()


def form_for(base: str, path: str) -> tuple[str, str]:
    """The CSRF token and session cookie of a fresh visit; a GET is retried (it changes nothing)."""
    last = None
    for _ in range(5):
        try:
            status, headers, body = request(base, "GET", path)
        except OSError as error:
            last = repr(error)
            time.sleep(0.2)
            continue
        match = CSRF.search(body)
        cookie = headers.get("Set-Cookie", "").split(";")[0]
        if status == 200 and match and cookie:
            return match.group(1), cookie
        last = f"GET {status}"
        time.sleep(0.2)
    raise RuntimeError(f"no form: {last}")


def register_one(base: str, slug: str, email: str, name: str) -> dict:
    path = f"/register/{slug}"
    record = {"email": email, "started": time.time()}
    try:
        token, cookie = form_for(base, path)
    except RuntimeError as error:
        record.update(phase="get", status=None, error=str(error), ended=time.time())
        return record
    body = urlencode({
        "csrf_token": token, "full_name": name, "email": email, "organisation_name": "Deployment test",
        "sector": "government", "region": "ON", "preferred_language": "en", "consent": "y",
    })
    record["posted"] = time.time()
    try:
        # As a browser sends it: over HTTPS, Flask-WTF checks that the form came from this site.
        status, headers, _ = request(base, "POST", path, body, {
            "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie,
            "Referer": base + path, "Origin": base})
    except OSError as error:
        record.update(phase="post", status=None, error=repr(error), ended=time.time())
        return record
    record.update(phase="post", status=status, location=headers.get("Location", ""),
                  retry_after=headers.get("Retry-After"), ended=time.time())
    return record


def run_register(args) -> None:
    emails = [f"{args.prefix}-{n:04d}@example.org" for n in range(args.count)]
    lock = threading.Lock()
    queue = list(reversed(emails))
    out = open(args.out, "a", buffering=1)  # noqa: SIM115 (closed below, lines flushed as they come)

    def work() -> None:
        while True:
            with lock:
                if not queue:
                    return
                email = queue.pop()
            record = register_one(args.base, args.slug, email, f"Person {email.split('@')[0]}")
            with lock:
                out.write(json.dumps(record) + "\n")

    threads = [threading.Thread(target=work) for _ in range(args.threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    out.close()


def run_get(args) -> None:
    try:
        headers = dict(h.split(": ", 1) for h in args.header)
        status, _, body = request(args.base, "GET", args.path, headers=headers)
    except OSError as error:
        print(f"000 {error!r}")
        return
    print(f"{status} {body.strip() if args.full else body.strip()[:500]}")


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    reg = sub.add_parser("register")
    reg.add_argument("--base", required=True)
    reg.add_argument("--slug", required=True)
    reg.add_argument("--prefix", required=True)
    reg.add_argument("--count", type=int, required=True)
    reg.add_argument("--threads", type=int, default=4)
    reg.add_argument("--out", required=True)
    get = sub.add_parser("get")
    get.add_argument("--base", required=True)
    get.add_argument("--header", action="append", default=[], help="'Name: value', repeatable")
    get.add_argument("--full", action="store_true", help="print the whole body")
    get.add_argument("path")
    args = parser.parse_args()
    {"register": run_register, "get": run_get}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
