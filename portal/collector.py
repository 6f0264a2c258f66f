"""Python's cycle collector runs between requests, never in the middle of one.

Why: on CPython 3.11 (3.11.7 here; Debian 12 ships 3.11.2) a worker serving the large
programme (300 webinars, 3 000 presenters) on SQLite died of SIGSEGV within its first few
pages. The collector, started automatically in the middle of a request while the ORM was
loading thousands of rows, found an object it had already freed (an ``InstanceState``
whose ``load_path`` pointed at freed memory). It happens with SQLAlchemy's C extensions,
markupsafe's speedups and greenlet all disabled, so in the interpreter itself; the same
pages, data and packages on CPython 3.12 never crash, and neither does 3.11 when the
collector only runs between requests (measured: ``bench/public_pages.py --size large``,
and ``tests/test_collector.py`` runs that scenario in a child process).

So a process that serves HTTP turns automatic collection off at its first request and,
after each response is closed, collects what CPython's own thresholds say is due (the
same generational rule, applied at a point where no request holds half-built objects).
Commands (the email worker, imports) never pass through here and keep the usual collector.
Side benefit: no collection pause lands inside a request.
"""

from __future__ import annotations

import gc

from werkzeug.wsgi import ClosingIterator


class CollectBetweenRequests:
    """WSGI middleware around the app and its page cache: the collection follows the close of
    the whole response (static files, answered by WhiteNoise outside it, make no cycles)."""

    def __init__(self, wsgi_app) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        if gc.isenabled():
            gc.disable()  # this process serves requests: collect between them from now on
        answer = self.wsgi_app(environ, start_response)
        file_wrapper = environ.get("wsgi.file_wrapper")
        if isinstance(file_wrapper, type) and isinstance(answer, file_wrapper):
            return answer  # a file download (sendfile): it makes no cycles to collect
        return ClosingIterator(answer, collect_if_due)


def collect_if_due() -> int | None:
    """Collect as CPython would have during the request: when the youngest generation passed
    its threshold, the oldest generation whose count did too. Returns the generation
    collected, or ``None`` when nothing was due (or collection is switched off: threshold 0)."""
    counts, thresholds = gc.get_count(), gc.get_threshold()
    if not thresholds[0] or counts[0] < thresholds[0]:
        return None
    generation = next(g for g in (2, 1, 0) if g == 0 or counts[g] >= thresholds[g])
    gc.collect(generation)
    return generation
