"""Rate limits that fit a professional audience behind shared addresses.

A police service or a department signs up from behind one NAT address, and behind a
proxy every request would share the proxy's address, so a tight per-address limit turns
whole offices away. The limits here are therefore:

- per client address, high (hundreds an hour): it only stops one machine flooding;
- per email address and per webinar: what an abuser cannot multiply cheaply;
- on sign-in, failed attempts per address and per account *from that address*, so a
  stranger cannot lock every organiser (or one organiser, from everywhere) out.

Only attempts that would store something count: the view asks ``registration_refusal``
after the form is valid and counts with ``count_registration`` after the commit, so a
form with mistakes, the honeypot or a full webinar costs nothing.

Counting uses the ``limits`` library (what Flask-Limiter is built on) rather than
Flask-Limiter's decorator: the decorator decides before the view runs, so it can neither
key on the validated email, nor count only what was stored, nor answer with the form the
person filled in. Email addresses are hashed before they become storage keys, so Redis
never holds them.

With ``REDIS_URL`` the counts are shared by every worker and host. When Redis stops
answering, counting continues in this process's memory (with a warning in the log) and
goes back to Redis by itself once it answers a ping again: registration and sign-in never
fail because of the limiter.
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time
from dataclasses import dataclass
from functools import lru_cache

from flask import Flask, current_app
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import FixedWindowRateLimiter

log = logging.getLogger("portal.limits")

#: Seconds between pings of an unreachable Redis before counting there again.
RECHECK_SECONDS = 5.0
#: A Redis that does not answer within this many seconds counts as unreachable, so a
#: registration waits at most this long before counting in memory.
REDIS_TIMEOUT_SECONDS = 0.5
_EXTENSION = "portal.limits"


@dataclass(frozen=True)
class Refusal:
    """Why an attempt is refused and when to come back."""

    #: "address", "email", "webinar" (registration); "address", "account" (sign-in).
    reason: str
    retry_after: int  # seconds, at least 1

    @property
    def retry_after_minutes(self) -> int:
        return max(1, math.ceil(self.retry_after / 60))


class LimitCounter:
    """Fixed-window counts in Redis (or memory), falling back to memory while Redis is down."""

    def __init__(self, storage_uri: str) -> None:
        self.memory = FixedWindowRateLimiter(MemoryStorage())
        self.shared_storage = None
        self.shared = None
        if not storage_uri.startswith("memory://"):
            self.shared_storage = storage_from_string(
                storage_uri, socket_timeout=REDIS_TIMEOUT_SECONDS,
                socket_connect_timeout=REDIS_TIMEOUT_SECONDS)
            self.shared = FixedWindowRateLimiter(self.shared_storage)
        self._shared_down = False
        self._next_check = 0.0
        self._lock = threading.Lock()

    @property
    def using_memory(self) -> bool:
        return self.shared is None or self._shared_down

    def _current(self) -> FixedWindowRateLimiter:
        if self.shared is None:
            return self.memory
        if self._shared_down and time.monotonic() >= self._next_check:
            with self._lock:
                if self._shared_down and time.monotonic() >= self._next_check:
                    self._next_check = time.monotonic() + RECHECK_SECONDS
                    if self.shared_storage.check():
                        self._shared_down = False
                        log.warning("rate-limit storage (Redis) answers again: limits are shared again")
        return self.memory if self._shared_down else self.shared

    def _run(self, operation: str, item: RateLimitItem, *keys: str):
        limiter = self._current()
        try:
            return getattr(limiter, operation)(item, *keys)
        except Exception as error:  # any Redis or network error: never fail the request for it
            if limiter is self.memory:
                raise
            with self._lock:
                if not self._shared_down:
                    log.warning("rate-limit storage (Redis) unreachable (%s): limits are counted per "
                                "process until it answers", type(error).__name__)
                self._shared_down = True
                self._next_check = time.monotonic() + RECHECK_SECONDS
            return getattr(self.memory, operation)(item, *keys)

    def allows(self, item: RateLimitItem, *keys: str) -> bool:
        return self._run("test", item, *keys)

    def count(self, item: RateLimitItem, *keys: str) -> None:
        self._run("hit", item, *keys)

    def forget(self, item: RateLimitItem, *keys: str) -> None:
        self._run("clear", item, *keys)

    def seconds_until_reset(self, item: RateLimitItem, *keys: str) -> int:
        stats = self._run("get_window_stats", item, *keys)
        return max(1, math.ceil(stats.reset_time - time.time()))


def init_app(app: Flask) -> None:
    """One counter per app; say at start-up when production counts per process."""
    app.extensions[_EXTENSION] = LimitCounter(app.config.get("RATELIMIT_STORAGE_URI") or "memory://")
    if app.config.get("PORTAL_ENV") == "production" and not app.config.get("REDIS_URL"):
        app.logger.warning(
            "PORTAL_ENV=production without REDIS_URL: rate limits are counted in each process's "
            "memory, so every gunicorn worker and host counts on its own; set REDIS_URL to share them")


def _counter() -> LimitCounter:
    return current_app.extensions[_EXTENSION]


def _enabled() -> bool:
    return bool(current_app.config.get("RATELIMIT_ENABLED", True))


def _limit(setting: str) -> RateLimitItem:
    return _parsed(current_app.config[setting])


@lru_cache(maxsize=64)
def _parsed(limit: str) -> RateLimitItem:
    """Parsing is a third of the counting's cost; the settings hardly vary."""
    return parse(limit)


def _email_key(email: str) -> str:
    """A stable stand-in for the address: the limit store never sees the email itself."""
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]


def _first_refusal(checks: list[tuple[str, RateLimitItem, tuple[str, ...]]]) -> Refusal | None:
    counter = _counter()
    for reason, item, keys in checks:
        if not counter.allows(item, *keys):
            return Refusal(reason, counter.seconds_until_reset(item, *keys))
    return None


# --- registration ----------------------------------------------------------------------


def _registration_checks(address: str, email: str, webinar_ids: list[int]):
    checks = [
        ("address", _limit("REGISTRATION_RATE_LIMIT"), ("registration-address", address)),
        ("email", _limit("REGISTRATION_EMAIL_RATE_LIMIT"), ("registration-email", _email_key(email))),
    ]
    webinar_limit = _limit("REGISTRATION_WEBINAR_RATE_LIMIT")
    checks += [("webinar", webinar_limit, ("registration-webinar", str(webinar_id)))
               for webinar_id in webinar_ids]
    return checks


def registration_refusal(address: str, email: str, webinar_ids: list[int]) -> Refusal | None:
    """Whether a valid registration may be stored now; asks, counts nothing."""
    if not _enabled():
        return None
    return _first_refusal(_registration_checks(address, email, webinar_ids))


def count_registration(address: str, email: str, webinar_ids: list[int]) -> None:
    """Count a registration that was stored (one per address and email, one per webinar)."""
    if not _enabled():
        return
    counter = _counter()
    for _reason, item, keys in _registration_checks(address, email, webinar_ids):
        counter.count(item, *keys)


# --- organiser sign-in -----------------------------------------------------------------


def _sign_in_checks(address: str, email: str):
    return [
        ("address", _limit("LOGIN_RATE_LIMIT"), ("login-address", address)),
        ("account", _limit("LOGIN_ACCOUNT_RATE_LIMIT"), ("login-account", _email_key(email), address)),
    ]


def sign_in_refusal(address: str, email: str) -> Refusal | None:
    """Whether this address may try to sign in to this account now (known or not, the same)."""
    if not _enabled():
        return None
    return _first_refusal(_sign_in_checks(address, email))


def count_failed_sign_in(address: str, email: str) -> None:
    if not _enabled():
        return
    counter = _counter()
    for _reason, item, keys in _sign_in_checks(address, email):
        counter.count(item, *keys)


def forget_failed_sign_ins(address: str, email: str) -> None:
    """After a successful sign-in, this address's earlier typos on the account are forgiven."""
    if not _enabled():
        return
    _reason, item, keys = _sign_in_checks(address, email)[1]
    _counter().forget(item, *keys)
