"""gunicorn settings for one app host: ``gunicorn -c deploy/gunicorn.conf.py 'portal:create_app()'``.

Every value can be changed through the environment (``GUNICORN_BIND``,
``GUNICORN_WORKERS``…) so the same file serves the systemd unit, the deployment
test and a laptop.
"""

import json
import multiprocessing
import os
import shutil

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")

# Registration is short database work: two processes per core keep the CPU busy while one waits
# on PostgreSQL. Capped so a large machine does not open more connections than the database allows.
workers = int(os.environ.get("GUNICORN_WORKERS") or min(2 * multiprocessing.cpu_count() + 1, 12))
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# On SIGTERM (systemctl stop/restart) workers finish the requests in hand for up to this long.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "20"))
keepalive = 5
# Recycle workers now and then (a slow leak cannot grow for ever); the jitter keeps them from
# all restarting at the same moment.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "200"))
# Proxy headers are trusted by the app (TRUSTED_PROXIES, werkzeug's ProxyFix), not by gunicorn.
forwarded_allow_ips = ""

# One JSON line per request. Deliberately without the URL: paths carry secret links
# (/registration/<token>); the app's own request log (portal.request) names the route instead.
# The request id ties this line to the app's line.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
access_log_format = json.dumps({
    "time": "%(t)s",
    "logger": "gunicorn.access",
    "request_id": "%({x-request-id}o)s",
    "method": "%(m)s",
    "status": "%(s)s",
    "bytes": "%(B)s",
    "duration_ms": "%(M)s",
    "client": "%(h)s",
    "worker": "%(p)s",
})
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")


def on_starting(server):
    """Prometheus multi-process mode: start from an empty folder (figures of a previous run would
    be added to this one's)."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        shutil.rmtree(folder, ignore_errors=True)
        os.makedirs(folder, exist_ok=True)


def child_exit(server, worker):
    """A dead worker's live gauges must not be reported any more (its counters are kept)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
