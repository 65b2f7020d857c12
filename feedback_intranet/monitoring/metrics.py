"""Prometheus metrics: every request counted and timed by its endpoint's name, failed logins and
lockouts counted where they happen, and `GET /metrics` for the scraper.

Under gunicorn each worker is a process of its own: with PROMETHEUS_MULTIPROC_DIR set (the
directory must exist and start empty; deploy/gunicorn.conf.py empties it) prometheus_client
keeps every worker's counts in files there and a scrape adds them up, so whichever worker
answers, the figures are the whole server's. Without it (the development server) the process's
own registry is read. What the database says (outbox, heartbeats, inboxes, inbound mail) and
readiness are read at scrape time (monitoring.collector), the same whichever worker asks.

`/metrics` exists only when METRICS_TOKEN is set, and answers only the bearer of that token. It
needs no login, reads no session, writes no audit row and counts against no rate limit.
"""

import collections
import gc
import hmac
import os
import time

from flask import Response, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

from ..extensions import limiter

# The _created series say when a worker started counting: noise beside its totals, and absent in
# multiprocess mode anyway.
disable_created_metrics()

# A request that matches no route: its URL is the visitor's text, never a label.
UNMATCHED = "unmatched"
# Any other method is a visitor's text too.
METHODS = frozenset({"GET", "HEAD", "POST"})
# Server-rendered pages take milliseconds; a report or an export may take seconds.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUESTS = Counter(
    "feedback_http_requests", "HTTP requests answered, by endpoint name (unmatched: no route), "
    "method and status code.", ["endpoint", "method", "status"])
LATENCY = Histogram(
    "feedback_http_request_duration_seconds", "Time from the request's arrival in the app to "
    "its response (a streamed download's body not included), by endpoint name and method.",
    ["endpoint", "method"], buckets=LATENCY_BUCKETS)
LOGIN_FAILURES = Counter(
    "feedback_login_failures", "Failed logins, by reason (password: wrong username or password; "
    "throttled: refused by the login rate limit; locked, inactive, directory_down, ...).",
    ["reason"])
LOCKOUTS = Counter(
    "feedback_account_lockouts", "Accounts locked after too many failed logins in a row.")
GC_PAUSES = Histogram(
    "feedback_gc_pause_seconds", "Time each garbage collection of a worker took (the request it "
    "fell in waited that long), by generation (2: a full collection, which walks every object "
    "not set aside).",
    ["generation"], buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5))


def login_failed(reason=None):
    LOGIN_FAILURES.labels(reason or "password").inc()


def account_locked():
    LOCKOUTS.inc()


def register_metrics(app):
    """Called right after the request log (web/request_log.py), whose start of the request it
    times from."""
    app.after_request(_count)
    if _time_collection not in gc.callbacks:  # once per process, however many apps it makes
        gc.callbacks.append(_time_collection)
    if app.config.get("METRICS_TOKEN"):
        # Without a token the route does not exist: /metrics is a 404 like any unknown address.
        app.add_url_rule("/metrics", "metrics", limiter.exempt(metrics))


def _count(response):
    endpoint = request.endpoint or UNMATCHED
    method = request.method if request.method in METHODS else "other"
    REQUESTS.labels(endpoint, method, str(response.status_code)).inc()
    _count_collections()
    began = g.get("request_began")
    if began is not None:
        LATENCY.labels(endpoint, method).observe(time.monotonic() - began)
    return response


_collection_began = time.perf_counter()
# (generation, seconds) of the collections not yet counted. A collection may start inside the
# metrics' own lock (an allocation while a count is written), which counting there would wait for
# forever: they are counted after each request and at a scrape instead. A process that serves no
# requests (a flask command's loop) keeps only the latest.
_collections = collections.deque(maxlen=1000)


def _time_collection(phase, info):
    # Collections never overlap: the interpreter runs one at a time.
    global _collection_began
    if phase == "start":
        _collection_began = time.perf_counter()
    else:
        _collections.append((str(info["generation"]), time.perf_counter() - _collection_began))


def _count_collections():
    while True:
        try:
            generation, seconds = _collections.popleft()
        except IndexError:  # none left (another thread may have taken the last)
            return
        GC_PAUSES.labels(generation).observe(seconds)


def metrics():
    """The scrape. Answered directly, never through abort(): an error page's handler would write
    a refusal to the audit log."""
    if not _bearer_matches(request.headers.get("Authorization", ""),
                           current_app.config["METRICS_TOKEN"]):
        # 401, not 404: the scraper's owner sees at once that the token is wrong, not the path;
        # that /metrics exists is no secret.
        return Response("The metrics need the bearer token METRICS_TOKEN.\n", 401,
                        {"WWW-Authenticate": 'Bearer realm="metrics"'}, mimetype="text/plain")
    from .collector import DatabaseCollector

    _count_collections()

    return Response(generate_latest(_Scrape(_request_metrics(), DatabaseCollector())),
                    content_type=CONTENT_TYPE_LATEST)


def _bearer_matches(header, token):
    scheme, _space, given = header.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(),
                                                              token.encode())


def _request_metrics():
    """Every worker's counts (multiprocess mode), or this process's registry."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return MultiProcessCollector(None)
    return REGISTRY


class _Scrape:
    """The collectors of one scrape, read in turn."""

    def __init__(self, *collectors):
        self.collectors = collectors

    def collect(self):
        for collector in self.collectors:
            yield from collector.collect()
