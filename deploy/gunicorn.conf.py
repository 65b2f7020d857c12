"""gunicorn's settings for the intranet: `gunicorn -c deploy/gunicorn.conf.py wsgi:app`.

From the environment (the web service's), each with a default:

    GUNICORN_BIND             address:port to listen on (127.0.0.1:8000, behind the TLS proxy)
    GUNICORN_WORKERS          worker processes (2 per core, plus 1)
    GUNICORN_TIMEOUT          seconds a worker may spend on one request before it is restarted (30)
    GUNICORN_ACCESS_LOG       gunicorn's own access log: - (standard output), a file, or
                              empty for none (the default: the app logs every request itself,
                              in LOG_FORMAT, with its request id)
    PROMETHEUS_MULTIPROC_DIR  where the workers keep their metrics (below); made at start

Options on the command line win over these (`--workers 4`).

Metrics: each worker counts its requests in files in PROMETHEUS_MULTIPROC_DIR, and a scrape of
/metrics adds up every worker's, so whichever worker answers it the figures are the server's.
The directory is emptied when gunicorn starts (counts from an earlier run would be added in);
left unset, a fresh one is made in the temporary directory for this run. Set it for the web
service only: the flask commands (workers, timers) serve no requests and keep no such files.
"""

import glob
import multiprocessing
import os
import shutil
import tempfile

bind = os.environ.get("GUNICORN_BIND") or "127.0.0.1:8000"
workers = int(os.environ.get("GUNICORN_WORKERS") or 2 * multiprocessing.cpu_count() + 1)
# The slowest pages (a year's report over every unit, an export) take well under a second at a
# million cases; a worker silent for this long is stuck and is replaced.
timeout = int(os.environ.get("GUNICORN_TIMEOUT") or 30)
graceful_timeout = timeout
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
# The path without the query string (search terms and email addresses travel in it), the time
# taken in microseconds (%(D)s) and the request id the app answers with.
access_log_format = '%(h)s %(t)s "%(m)s %(U)s" %(s)s %(b)s %(D)s %({x-request-id}o)s'

# gunicorn's own lines (start, workers, signals) in the app's LOG_FORMAT, on the same handler.
logger_class = "feedback_intranet.gunicorn_logs.Logger"

_made_metrics_dir = "PROMETHEUS_MULTIPROC_DIR" not in os.environ
# Set before any worker imports prometheus_client, which reads it once, at import.
METRICS_DIR = os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR",
                                    tempfile.mkdtemp(prefix="feedback-metrics-"))
# Made now: loading logger_class imports the app's package, whose counters need the directory.
os.makedirs(METRICS_DIR, exist_ok=True)


def on_starting(server):
    for path in glob.glob(os.path.join(METRICS_DIR, "*.db")):
        os.remove(path)


def child_exit(server, worker):
    """A worker that ended: its live gauges go (its counters stay, and keep counting in the
    totals)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid, METRICS_DIR)


def on_exit(server):
    if _made_metrics_dir:
        shutil.rmtree(METRICS_DIR, ignore_errors=True)
