"""Running a command as a long-lived worker: outages are waited out, signals end it cleanly.

A worker (``outbox send --loop``) must outlive a database restart or a mail
server outage: it logs the fault, waits longer after each failed pass (1 s,
2 s, 4 s… capped), and resumes by itself. Only SIGTERM or SIGINT stop it, and
then only after the work in hand is finished, with exit status 0.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import smtplib
import threading
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError

from portal.extensions import db
from portal.observability import mask_addresses

logger = logging.getLogger("portal.worker")

FIRST_BACKOFF_SECONDS = 1.0
LONGEST_BACKOFF_SECONDS = 60.0

#: Faults a worker waits out; anything else is a bug and ends the process (its supervisor restarts it).
TRANSIENT_FAULTS = (OperationalError, DBAPIError, OSError, smtplib.SMTPException)

def describe_fault(error: BaseException) -> str:
    """One line about a fault, safe for the log: the driver's first line, no SQL, no addresses.

    SQLAlchemy's own message carries the statement and may carry its parameters
    (email addresses, names), so only the underlying driver error is used.
    """
    cause = error.orig if isinstance(error, SQLAlchemyError) and getattr(error, "orig", None) else error
    text = str(cause).strip().splitlines()[0] if str(cause).strip() else ""
    return f"{type(cause).__name__}: {mask_addresses(text)}"[:300]


def backoff_seconds(failures: int) -> float:
    """Capped exponential: 1, 2, 4 … 60 seconds after 1, 2, 3 … failed passes in a row."""
    if failures <= 0:
        return 0.0
    return min(FIRST_BACKOFF_SECONDS * 2 ** (failures - 1), LONGEST_BACKOFF_SECONDS)


class StopSignal:
    """Set by SIGTERM/SIGINT; the worker checks it between units of work and while waiting."""

    SIGNALS = (signal.SIGTERM, signal.SIGINT)

    def __init__(self) -> None:
        self._event = threading.Event()
        self._previous: dict = {}
        self.received: str | None = None

    def __enter__(self) -> StopSignal:
        for signum in self.SIGNALS:
            self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc_info) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)

    def _handle(self, signum, _frame) -> None:
        self.received = signal.Signals(signum).name
        self._event.set()

    def __call__(self) -> bool:
        return self._event.is_set()

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds``; return early (True) when a stop signal arrives."""
        return self._event.wait(seconds)


@dataclass
class LoopResult:
    passes: int = 0
    faults: int = 0
    stopped_by: str | None = None


def run_until_stopped(one_pass: Callable[[StopSignal], bool], interval: float, stop: StopSignal,
                      max_passes: int = 0) -> LoopResult:
    """Call ``one_pass(stop)`` every ``interval`` seconds until a signal (or ``max_passes``).

    ``one_pass`` returns False when it met an outage it handled itself (the mail
    server was down): the loop then backs off as for a raised fault. A fault
    in ``TRANSIENT_FAULTS`` is logged without its SQL or parameters, the
    session is thrown away (``pool_pre_ping`` checks the next connection) and
    the next pass waits longer; the first good pass resets the wait.
    """
    result = LoopResult()
    failures = 0
    while not stop():
        healthy = True
        try:
            healthy = one_pass(stop)
        except TRANSIENT_FAULTS as error:
            healthy = False
            result.faults += 1
            logger.warning("worker pass failed, will retry", extra={"fault": describe_fault(error)})
        finally:
            _forget_session()
        result.passes += 1
        if healthy:
            if failures:
                logger.info("worker recovered", extra={"failed_passes": failures})
            failures = 0
            wait = interval
        else:
            failures += 1
            wait = backoff_seconds(failures)
            logger.info("worker backing off", extra={"seconds": wait, "failed_passes": failures})
        if max_passes and result.passes >= max_passes:
            break
        stop.wait(wait)
    result.stopped_by = stop.received
    if stop.received:
        logger.info("worker stopped", extra={"signal": stop.received})
    return result


def _forget_session() -> None:
    """Drop the session (and its connection) between passes; a broken one cannot be reused."""
    with contextlib.suppress(TRANSIENT_FAULTS):
        db.session.rollback()
    db.session.remove()
