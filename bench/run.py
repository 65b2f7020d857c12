"""Benchmark the intranet over HTTP, run as in production, on SQLite or PostgreSQL.

    python bench/run.py --db sqlite --cases 1000000
    python bench/run.py --db postgres --cases 1000000 --workers 4

Seeds bench/data/bench-<N>.sqlite or the PostgreSQL database bench_<N> when it has fewer than N
cases, copies it for the run (form submissions add cases, so every run starts from the same data),
starts gunicorn with FLASK_CONFIG=production and deploy/gunicorn.conf.py (metrics on, scraped every
15 s), logs in as demo users and measures each page: p50 and
p95 of sequential requests from one keep-alive client, requests per second from concurrent clients,
SQL statements per request (X-Query-Count) and the workers' peak memory. Prints one table and
appends it to bench/results.md. Standard library and SQLAlchemy only.

    python bench/run.py --db sqlite --cases 1000000 --mix --duration 60

runs the mix instead: eight customer service agents reading the inbox, opening cases and acting on
them, and their team lead reading the workload and the reports, all at once; timed by gunicorn's
access log and by the client (see "The mixed run" below and bench/results.md).

    python bench/run.py --db sqlite --cases 1000000 --reminders

times one banking morning's reminders (`reminders send`) on a copy, and a second run the same
morning, which must send nothing (bench/morning.py).

    python bench/run.py --db sqlite --cases 1000000 --exports

exports customer service's inbox as CSV in each of its filters, a fresh gunicorn worker for each:
the rows, the first byte and the whole file, and how much the export grew the worker's peak
memory, which streaming keeps the same whatever the number of rows.

    python bench/run.py --db postgres --cases 1000000 --actions

posts the case actions one after another on a quiet server, as one agent works the inbox: take,
note and answer a case, forward another; enough of each for a p95, which the mixed run (a few
answers a minute) cannot give.

    python bench/run.py --db sqlite --cases 1000000 --floor --duration 20

measures the stack's floor: two pages of bench/floor.py that read no case (signed in; the layout
around an empty page) beside the unchanged inbox and the case page, each loaded by eight clients
at once, with requests a second, server p50 and p95 and the CPU a request took.
"""

import argparse
import collections
import contextlib
import html
import html.parser
import http.client
import importlib.metadata
import itertools
import math
import os
import platform
import random
import re
import secrets
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
VENV = ROOT / ".venv"
DATA = BENCH / "data"
RESULTS = BENCH / "results.md"
PASSWORD = "demo"  # every demo user's password
SERVICE_UNIT = "cs"  # customer service: the inbox most of the pages show
TEXT_SEARCH = "mobiilisovellus kaatuu"  # words of a demo message ("the mobile app crashes")
REPORTS = ["backlog", "promise", "answer-time", "volumes", "forwarding"]

# The targets, at 1 000 000 cases on both databases.
PAGE_P95_MS = 25
SEARCH_P95_MS = 50
REPORT_P95_MS = 1000
FORM_P95_MS = 50
EXPORT_P95_MS = 2000  # the whole file of customer service's open cases
DEEPEST_RATIO = 1.20
MAX_QUERIES = 8
INBOX_RPS = 300
INBOX_CACHES = ("memory", "redis", "none")
WORKER_PEAK_MB = 200

MET, MISSED = "✓", "✗"


class BenchError(Exception):
    """Something the benchmark cannot measure around: it stops rather than time an error page."""


# --- HTTP ----------------------------------------------------------------------------------------


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def expect(self, status, what):
        if self.status != status:
            raise BenchError(f"{what} answered {self.status}, expected {status}:\n{self.excerpt()}")

    def expect_redirect(self, prefix, what):
        location = self.headers.get("Location", "")
        if self.status not in (302, 303) or not urllib.parse.urlsplit(location).path.startswith(prefix):
            raise BenchError(f"{what} answered {self.status} {location!r}, expected a redirect to "
                             f"{prefix}...:\n{self.excerpt()}")

    def query_count(self):
        value = self.headers.get("X-Query-Count")
        if value is None:
            raise BenchError("The app sent no X-Query-Count header: COUNT_QUERIES=1 did not take effect.")
        return int(value)

    def excerpt(self):
        return self.body[:600].decode("utf-8", "replace")


class Client:
    """One keep-alive connection with its own cookie jar: one browser, in effect.

    Cookies are kept by hand because production marks the session cookie Secure, which a cookie
    jar would refuse to send over plain HTTP; only name and value matter here.
    """

    def __init__(self, port, cookies=None):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.cookies = dict(cookies or {})

    def request(self, method, path, form=None, headers=None):
        """The reply, read whole; `first_byte` keeps when its status line and headers came."""
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                self.first_byte = time.perf_counter()
                reply = Reply(response.status, response.headers, response.read())
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # The server dropped an idle keep-alive connection: retry once on a new one. A
                # repeated form post is harmless, its one-time token makes it one case.
                self.conn.close()
                if attempt == 2:
                    raise
        for header in reply.headers.get_all("Set-Cookie") or []:
            name, _eq, value = header.split(";", 1)[0].partition("=")
            if value:
                self.cookies[name.strip()] = value
            else:  # an emptied cookie is a deleted one
                self.cookies.pop(name.strip(), None)
        return reply

    def close(self):
        self.conn.close()


class FormFields(html.parser.HTMLParser):
    """The inputs of a page as a browser would post them: text and hidden values, checked
    radios, selected (else first) options; plus every option of each select."""

    def __init__(self, page):
        super().__init__()
        self.values, self.options, self._select = {}, {}, None
        self.feed(page.decode("utf-8"))

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name:
            if attrs.get("type") == "submit":
                pass  # a browser sends only the button clicked: the caller names it
            elif attrs.get("type") not in ("radio", "checkbox"):
                self.values.setdefault(name, attrs.get("value") or "")
            elif "checked" in attrs:
                self.values[name] = attrs.get("value") or "on"
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select:
            self.options.setdefault(self._select, []).append(attrs.get("value") or "")
            if self._select not in self.values or "selected" in attrs:
                self.values[self._select] = attrs.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None


def log_in(port, username):
    client = Client(port)
    login = client.request("GET", "/login")
    login.expect(200, "GET /login")
    reply = client.request("POST", "/login", {
        "csrf_token": FormFields(login.body).values.get("csrf_token", ""),
        "username": username, "password": PASSWORD, "next": "",
    })
    location = reply.headers.get("Location", "")
    if reply.status != 302 or "/login" in location:
        raise BenchError(f"{username} could not log in with the password {PASSWORD!r} "
                         f"(answered {reply.status} {location!r}).")
    client.close()  # only its cookies are used: each measuring client copies them
    return client


# --- The pages -----------------------------------------------------------------------------------


@dataclass
class Page:
    """One measured request: its row in the table and its targets."""

    key: str
    label: str
    user: str | None  # None: an anonymous customer
    path: str
    p95_target_ms: float
    rps_target: float | None = None
    most_requests: int | None = None  # a slow download is timed fewer times than a page

    def once(self, client):
        """One timed request: (seconds, SQL statements)."""
        start = time.perf_counter()
        reply = client.request("GET", self.path)
        elapsed = time.perf_counter() - start
        reply.expect(200, f"GET {self.path} as {self.user}")
        return elapsed, reply.query_count()


@dataclass
class FormSubmission(Page):
    """The public form: an untimed GET for a fresh one-time token and CSRF token, then the timed
    POST, which masks, matches, routes and stores the case."""

    contact: dict = field(default_factory=dict)

    def once(self, client):
        page = client.request("GET", self.path)
        page.expect(200, f"GET {self.path}")
        form = FormFields(page.body)
        fields = {
            **form.values,  # csrf_token, submission_token and the defaults (segment, language...)
            "topic": next(value for value in form.options["topic"] if value),  # not "Choose"
            # A card number and an IBAN for the masking to find.
            "message": "Korttini 4111 1111 1111 1111 hylättiin kaupassa, vaikka tilillä "
                       "FI21 1234 5600 0007 85 oli katetta. Miksi?",
            "reply_wanted": "yes",
            "reply_channel": "email",
            "website": "",  # the honeypot stays empty
            **self.contact,  # a register customer's details, so matching finds them
        }
        start = time.perf_counter()
        reply = client.request("POST", self.path, fields)
        elapsed = time.perf_counter() - start
        reply.expect_redirect("/feedback/received/", f"POST {self.path}")
        return elapsed, reply.query_count()


def build_pages(targets):
    case_ref, case_events = targets["case"]
    inbox = f"/inbox/{SERVICE_UNIT}"
    pages = [
        Page("inbox", "Inbox, first page", "cs.agent", inbox, PAGE_P95_MS, INBOX_RPS),
        Page("inbox-overdue", "Inbox, overdue filter", "cs.agent", f"{inbox}?filter=overdue",
             PAGE_P95_MS),
        Page("inbox-middle", "Inbox, a page in the middle (a cursor)", "cs.agent",
             f"{inbox}?after={targets['middle']}", PAGE_P95_MS),
        Page("inbox-last", "Inbox, deepest page", "cs.agent", f"{inbox}?page=last", PAGE_P95_MS),
        Page("inbox-customer", "Inbox by customer", "cs.agent", f"{inbox}?sort=customer",
             PAGE_P95_MS),
        Page("inbox-topic-last", "Inbox by topic, descending, deepest page", "cs.agent",
             f"{inbox}?sort=topic&order=desc&page=last", PAGE_P95_MS),
        Page("export", "Inbox as CSV, every open case", "cs.agent", f"{inbox}/export.csv",
             EXPORT_P95_MS, most_requests=20),
        Page("case", f"Case page, longest timeline ({case_events} events)", "cs.agent",
             f"/cases/{case_ref}", PAGE_P95_MS),
        Page("my-cases", "My cases", "cs.agent", "/my-cases", PAGE_P95_MS),
        Page("workload", "Team lead's workload", "cs.lead", f"/workload/{SERVICE_UNIT}", PAGE_P95_MS),
        Page("search-text", "Search, words of a message", "cs.agent",
             "/cases/search?" + urllib.parse.urlencode({"q": TEXT_SEARCH}), SEARCH_P95_MS),
        Page("search-reference", "Search, a reference", "cs.agent",
             "/cases/search?" + urllib.parse.urlencode({"q": case_ref}), SEARCH_P95_MS),
        # The demo messages' commonest word and three-letter prefix, a two-letter query (exact
        # keys only), and the words of a message as a branch employee sees them.
        Page("search-common", "Search, the commonest word", "cs.agent",
             "/cases/search?q=inte", SEARCH_P95_MS),
        Page("search-prefix", "Search, a common three-letter prefix", "cs.agent",
             "/cases/search?q=kon", SEARCH_P95_MS),
        Page("search-short", "Search, two letters", "cs.agent", "/cases/search?q=ka",
             SEARCH_P95_MS),
        Page("search-text-branch", "Search, words of a message, branch employee", "branch.staff",
             "/cases/search?" + urllib.parse.urlencode({"q": TEXT_SEARCH}), SEARCH_P95_MS),
        # A name on thousands of cases, few of them the branch's: found among the newest cases
        # only after reading many, so PostgreSQL's index of words and units lists them.
        Page("search-name-branch", f"Search, the commonest name ({targets['name']}), branch employee",
             "branch.staff", "/cases/search?" + urllib.parse.urlencode({"q": targets["name"]}),
             SEARCH_P95_MS),
    ]
    # The backlog is "now", whatever the period, and lives at /reports/.
    pages += [Page(f"report-{name}", f"Report: {name}", "admin",
                   "/reports/" if name == "backlog" else f"/reports/{name}?period=last_month",
                   REPORT_P95_MS) for name in REPORTS]
    pages.append(FormSubmission("form", "Public form submission (POST)", None, "/feedback",
                                FORM_P95_MS, contact=targets["contact"]))
    return pages


# --- Measuring -----------------------------------------------------------------------------------


@dataclass
class Result:
    page: Page
    p50_ms: float
    p95_ms: float
    rps: float
    queries: set


def nearest_rank(sorted_values, fraction):
    return sorted_values[max(0, math.ceil(fraction * len(sorted_values)) - 1)]


def sequential(page, client, warmup, count):
    for _ in range(warmup):
        page.once(client)
    times, queries = [], set()
    for _ in range(count):
        seconds, statements = page.once(client)
        times.append(seconds * 1000)
        queries.add(statements)
    times.sort()
    return nearest_rank(times, 0.50), nearest_rank(times, 0.95), queries


def alternating(first, second, client, warmup, count):
    """The p50s of two pages requested in turns on one client. Whatever the machine does during
    the run falls on both alike, so their ratio is the pages' own; measured one after the
    other, a 3 ms page moved by 20 % between the two runs on a shared machine."""
    times = ([], [])
    for index in range(warmup + count):
        for page, kept in zip((first, second), times, strict=True):
            seconds, _statements = page.once(client)
            if index >= warmup:
                kept.append(seconds * 1000)
    return tuple(nearest_rank(sorted(kept), 0.50) for kept in times)


def concurrent(page, clients, seconds):
    """Requests per second from clients each on its own connection, for `seconds`."""
    done = [0] * len(clients)
    errors = []
    stop = threading.Event()
    start_line = threading.Barrier(len(clients) + 1)

    def work(index, client):
        try:
            page.once(client)  # connect and warm up before the clock starts
            start_line.wait()
            while not stop.is_set():
                page.once(client)
                done[index] += 1
        except Exception as error:  # reported by the main thread
            errors.append(error)
            stop.set()
            start_line.abort()

    threads = [threading.Thread(target=work, args=(i, c), daemon=True) for i, c in enumerate(clients)]
    for thread in threads:
        thread.start()
    with contextlib.suppress(threading.BrokenBarrierError):  # a client failed: reported below
        start_line.wait()
    started = time.perf_counter()
    stop.wait(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return sum(done) / (time.perf_counter() - started)


def measure(pages, sessions, port, args):
    results = []
    for page in pages:
        print(f"  {page.label}: {page.path}", flush=True)
        cookies = sessions[page.user].cookies if page.user else {}
        client = Client(port, cookies)
        requests = min(args.requests, page.most_requests or args.requests)
        p50, p95, queries = sequential(page, client, min(args.warmup, requests), requests)
        client.close()
        clients = [Client(port, cookies) for _ in range(args.clients)]
        rps = concurrent(page, clients, args.duration)
        for each in clients:
            each.close()
        results.append(Result(page, p50, p95, rps, queries))
        print(f"    p50 {p50:.1f} ms, p95 {p95:.1f} ms, {rps:.0f} req/s, "
              f"{'/'.join(map(str, sorted(queries)))} SQL", flush=True)
    by_key = {page.key: page for page in pages}
    pairs = {}
    for other in ("inbox-middle", "inbox-last"):
        if "inbox" not in by_key or other not in by_key:
            continue
        print(f"  The first inbox page and {by_key[other].label.lower()} in turns", flush=True)
        client = Client(port, sessions[by_key["inbox"].user].cookies)
        pairs[other] = alternating(by_key["inbox"], by_key[other], client, args.warmup,
                                   args.requests)
        client.close()
        print(f"    p50 {pairs[other][0]:.1f} ms and {pairs[other][1]:.1f} ms", flush=True)
    return results, pairs


# --- The server ----------------------------------------------------------------------------------


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def worker_pids(master):
    """The gunicorn workers: the master's child processes."""
    try:
        text = Path(f"/proc/{master}/task/{master}/children").read_text()
        return sorted(int(pid) for pid in text.split())
    except OSError:  # a kernel without CONFIG_PROC_CHILDREN: look through /proc
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                # The parent pid is the second field after the parenthesised command name.
                if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == master:
                    pids.append(int(stat.parent.name))
            except (OSError, IndexError, ValueError):
                continue
        return sorted(pids)


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_ticks(pid):
    """A process's user and system CPU so far, in clock ticks (0 once it has gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])  # utime, stime: the stat's 14th and 15th fields


def postgres_pids():
    """The local PostgreSQL server's processes (its backends among them)."""
    pids = []
    for comm in Path("/proc").glob("[0-9]*/comm"):
        with contextlib.suppress(OSError):
            if comm.read_text().strip() == "postgres":
                pids.append(int(comm.parent.name))
    return pids


@dataclass
class CpuUse:
    """Where the machine's CPU went over a stretch: the whole machine (/proc/stat), gunicorn's
    workers, the database server's processes and this client, each in seconds of one core."""

    machine: tuple  # (busy ticks, all ticks)
    workers: int
    database: dict  # pid: ticks
    client: float

    @classmethod
    def now(cls, workers):
        cpu = [int(n) for n in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = cpu[3] + cpu[4]  # idle and iowait
        return cls((sum(cpu) - idle, sum(cpu)), sum(process_ticks(pid) for pid in workers),
                   {pid: process_ticks(pid) for pid in postgres_pids()}, time.process_time())

    def since(self, start):
        """{what: seconds of one core} from `start` to this snapshot; a database process that
        started in between counts whole."""
        database = sum(ticks - start.database.get(pid, 0) for pid, ticks in self.database.items())
        busy = (self.machine[0] - start.machine[0]) / CLOCK_TICKS
        used = {"workers": (self.workers - start.workers) / CLOCK_TICKS,
                "database": database / CLOCK_TICKS, "client": self.client - start.client}
        return {"machine": busy, **used, "rest": max(busy - sum(used.values()), 0.0),
                "elapsed": (self.machine[1] - start.machine[1]) / CLOCK_TICKS / os.cpu_count()}


def peak_memory_mb(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise BenchError(f"No VmHWM for process {pid}.")


class Server:
    """gunicorn with the production configuration, on a free local port; always stopped on exit.

    With metrics on (the default) it runs as deploy/gunicorn.conf.py sets it up, the workers
    counting in PROMETHEUS_MULTIPROC_DIR, and a thread scrapes /metrics as Prometheus would.
    """

    def __init__(self, args, database_url, access_log=None, app="wsgi:app"):
        self.port = free_port()
        self.log_path = DATA / "gunicorn.log"
        self.command = [str(VENV / "bin" / "gunicorn"), "--workers", str(args.workers),
                        "--bind", f"127.0.0.1:{self.port}"]
        self.metrics_token = None if args.no_metrics else secrets.token_hex(16)
        if self.metrics_token:
            self.command += ["--config", str(ROOT / "deploy" / "gunicorn.conf.py")]
        if access_log is not None:
            self.command += ["--access-logfile", str(access_log), "--access-logformat", ACCESS_FORMAT]
        if args.worker_class == "gthread":
            self.command += ["--worker-class", "gthread", "--threads", str(args.threads)]
        self.command.append(app)
        self.env = {
            **os.environ,
            "FLASK_CONFIG": "production",
            "SECRET_KEY": secrets.token_hex(32),
            "DATABASE_URL": database_url,
            "COUNT_QUERIES": "1",
            "FEEDBACK_RATE_LIMIT": "1000000 per minute",
            "OUTBOX_WORKER_THREAD": "0",
            "RATELIMIT_STORAGE_URI": "memory://",
            "INBOX_CACHE_URI": args.redis_url if args.inbox_cache == "redis"
            else f"{args.inbox_cache}://",
            # The access log only where the bench asks for it (the mix), as before.
            "GUNICORN_ACCESS_LOG": "",
        }
        for name in ("METRICS_TOKEN", "PROMETHEUS_MULTIPROC_DIR"):
            self.env.pop(name, None)
        if self.metrics_token:
            self.env.update(METRICS_TOKEN=self.metrics_token,
                            PROMETHEUS_MULTIPROC_DIR=str(DATA / "metrics"))
        self.workers = args.workers
        self.scrape_interval = args.scrape_interval
        self.scrapes = []  # (HTTP status, ms) of each scrape of /metrics
        self.scraping = threading.Event()
        self.scraper = None
        self.process = None

    def __enter__(self):
        log = self.log_path.open("w")
        # A session of its own: Ctrl-C reaches only this script, which then stops gunicorn in order.
        self.process = subprocess.Popen(self.command, cwd=ROOT, env=self.env, stdout=log, stderr=log,
                                        start_new_session=True)
        log.close()
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise
        if self.metrics_token:
            self.scraper = threading.Thread(target=self._scrape_until_stopped, daemon=True)
            self.scraper.start()
        return self

    def scrape(self):
        """GET /metrics as Prometheus does: (status, ms, the exposition)."""
        started = time.perf_counter()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request("GET", "/metrics",
                         headers={"Authorization": f"Bearer {self.metrics_token}"})
            response = conn.getresponse()
            text = response.read().decode()
            return response.status, (time.perf_counter() - started) * 1000, text
        finally:
            conn.close()

    def _scrape_until_stopped(self):
        while not self.scraping.wait(self.scrape_interval):
            try:
                status, took, _text = self.scrape()
            except (OSError, http.client.HTTPException) as error:
                status, took = type(error).__name__, 0.0
            self.scrapes.append((status, took))

    def metrics_line(self):
        """One summary line on the scrapes, or None with metrics off."""
        if not self.metrics_token:
            return None
        status, took, text = self.scrape()
        scrapes = [*self.scrapes, (status, took)]
        failed = [str(status) for status, _ms in scrapes if status != 200]
        times = sorted(ms for _status, ms in scrapes)
        counted = sum(float(found[1]) for found in re.finditer(
            r"^feedback_http_requests_total\{[^}]*\} (\S+)$", text, re.MULTILINE))
        return (f"- Metrics on (multiprocess, deploy/gunicorn.conf.py): /metrics scraped every "
                f"{self.scrape_interval:g} s and at the end, {len(scrapes)} scrapes, p50 "
                f"{times[len(times) // 2]:.0f} ms, slowest {times[-1]:.0f} ms, "
                f"{mark(not failed)} {'all 200' if not failed else 'failed: ' + ', '.join(failed)}; "
                f"{counted:.0f} requests counted in all{full_collections(text)}")

    def __exit__(self, *_exc):
        self.stop()

    def _wait_until_ready(self, timeout=90):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"gunicorn exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                conn.request("GET", "/login")
                status = conn.getresponse().status
                conn.close()
                if status == 200 and len(self.worker_pids()) == self.workers:
                    return
                if status != 200:
                    raise BenchError(f"GET /login answered {status}:\n{self.log_tail()}")
            except (OSError, http.client.HTTPException):
                pass  # not listening yet
            time.sleep(0.2)
        raise BenchError(f"gunicorn did not answer within {timeout} s:\n{self.log_tail()}")

    def worker_pids(self):
        return worker_pids(self.process.pid)

    def log_tail(self, lines=30):
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:]) + f"\n(the whole log: {self.log_path})"

    def stop(self):
        self.scraping.set()
        if self.scraper is not None:
            self.scraper.join()
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()  # gunicorn's graceful shutdown
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def full_collections(text):
    """The workers' full garbage collections since gunicorn started, from a scrape of /metrics:
    how many, their time in all, and how many took over 50 ms."""
    def sample(suffix, extra=""):
        found = re.search(rf'^feedback_gc_pause_seconds_{suffix}\{{(?=[^}}]*generation="2"){extra}'
                          rf'[^}}]*\}} (\S+)$', text, re.MULTILINE)
        return float(found[1]) if found else None

    count, total, within = sample("count"), sample("sum"), sample("bucket", r'(?=[^}]*le="0\.05")')
    if count is None:
        return ""
    return (f"; full garbage collections in the workers {count:.0f}, {total * 1000:.0f} ms in all, "
            f"{count - within:.0f} over 50 ms")


# --- Databases -----------------------------------------------------------------------------------


def engine(url, **kwargs):
    import sqlalchemy as sa  # imported here: only after the script is running in the virtualenv

    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return sa.create_engine(url, **kwargs)


def query(url, sql, **params):
    import sqlalchemy as sa

    db = engine(url)
    try:
        with db.connect() as conn:
            return conn.execute(sa.text(sql), params).all()
    finally:
        db.dispose()


def count_cases(url):
    import sqlalchemy as sa

    db = engine(url)
    try:
        if not sa.inspect(db).has_table("feedback_case"):
            return 0
        with db.connect() as conn:
            return conn.execute(sa.text("SELECT COUNT(*) FROM feedback_case")).scalar_one()
    finally:
        db.dispose()


class SqliteDatabase:
    kind = "SQLite"

    def __init__(self, args):
        self.path = DATA / f"bench-{args.cases}.sqlite"
        self.copy_path = DATA / f"run-{args.cases}.sqlite"
        self.url = f"sqlite:///{self.path}"
        self.copy_url = f"sqlite:///{self.copy_path}"

    def exists(self):
        return self.path.exists()

    def create(self):
        pass  # db upgrade creates the file

    def drop(self):
        for path in DATA.glob(f"{self.path.name}*"):  # with any -journal or -wal file
            path.unlink()

    def after_seed(self):
        pass  # seed-demo's ANALYZE is all; the app runs one only in a migration adding an index

    def after_carry_forward(self):
        pass  # SQLite leaves no dead rows behind

    def make_copy(self):
        self.drop_copy()
        # The backup API gives a consistent copy whatever journal the seed left behind.
        source, target = sqlite3.connect(self.path), sqlite3.connect(self.copy_path)
        try:
            source.backup(target)
        finally:
            source.close()
            target.close()

    def drop_copy(self):
        for path in DATA.glob(f"{self.copy_path.name}*"):
            path.unlink()


class PostgresDatabase:
    kind = "PostgreSQL"

    def __init__(self, args):
        self.server = args.postgres_url.rstrip("/")
        self.name = f"bench_{args.cases}"
        self.copy_name = f"{self.name}_run"
        self.url = f"{self.server}/{self.name}"
        self.copy_url = f"{self.server}/{self.copy_name}"

    def _admin(self, *statements):
        import sqlalchemy as sa

        # CREATE and DROP DATABASE cannot run in a transaction.
        db = engine(f"{self.server}/postgres", isolation_level="AUTOCOMMIT")
        try:
            with db.connect() as conn:
                for statement in statements:
                    conn.execute(sa.text(statement))
        finally:
            db.dispose()

    def exists(self):
        return bool(query(f"{self.server}/postgres",
                          "SELECT 1 FROM pg_database WHERE datname = :name", name=self.name))

    def create(self):
        self._admin(f'CREATE DATABASE "{self.name}"')

    def drop(self):
        self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def after_seed(self):
        # Statistics and the visibility map as autovacuum would leave them on a live database,
        # so the plans do not depend on when autovacuum last came by.
        self._vacuum()

    def after_carry_forward(self):
        # The rows carry-forward emptied, gone as autovacuum would take them (a run's copy starts
        # with no statistics, so autovacuum would never come by during the run).
        self._vacuum("inbox_count")

    def _vacuum(self, table=""):
        import sqlalchemy as sa

        db = engine(self.url, isolation_level="AUTOCOMMIT")
        try:
            with db.connect() as conn:
                conn.execute(sa.text(f"VACUUM ANALYZE {table}"))
        finally:
            db.dispose()

    def make_copy(self):
        self.drop_copy()
        self._admin(f'CREATE DATABASE "{self.copy_name}" TEMPLATE "{self.name}"')

    def drop_copy(self):
        self._admin(f'DROP DATABASE IF EXISTS "{self.copy_name}" WITH (FORCE)')


def flask(*command, database_url):
    env = {**os.environ, "DATABASE_URL": database_url, "FLASK_CONFIG": "development",
           "OUTBOX_WORKER_THREAD": "0"}
    done = subprocess.run([str(VENV / "bin" / "flask"), "--app", "wsgi", *command], cwd=ROOT, env=env)
    if done.returncode:
        raise BenchError(f"flask {' '.join(command)} failed with {done.returncode}.")


def prepare(database, args):
    """The seeded database, schema up to date, then a copy for this run; returns the case count."""
    if args.reseed and database.exists():
        print(f"Dropping {database.url}", flush=True)
        database.drop()
    if not database.exists():
        database.create()
    # Always upgrade: the schema must be the one of the code being measured.
    flask("db", "upgrade", database_url=database.url)
    cases = count_cases(database.url)
    if cases < args.cases:
        print(f"Seeding {database.url}: {cases} -> {args.cases} cases", flush=True)
        started = time.monotonic()
        flask("seed-demo", "--cases", str(args.cases), database_url=database.url)
        database.after_seed()
        cases = count_cases(database.url)
        print(f"Seeded in {time.monotonic() - started:.0f} s", flush=True)
        if cases < args.cases:
            raise BenchError(f"seed-demo left {cases} cases, fewer than {args.cases}.")
    # As the nightly timer leaves the inbox counters of a database seeded days ago.
    flask("counters", "carry-forward", database_url=database.url)
    database.after_carry_forward()
    print(f"Copying {database.url} for the run", flush=True)
    database.make_copy()
    return cases


def pick_targets(url):
    """The case with the longest timeline in customer service's inbox, a register customer for
    the form (private, so the form's default segment fits) and the commonest contact name."""
    case = query(url, """
        SELECT c.reference, COUNT(*) AS events
        FROM feedback_case c JOIN case_event e ON e.case_id = c.id
        WHERE c.current_unit_id = (SELECT id FROM unit WHERE code = :unit)
        GROUP BY c.id, c.reference
        ORDER BY events DESC, c.id
        LIMIT 1""", unit=SERVICE_UNIT)
    if not case:
        raise BenchError(f"No case in the {SERVICE_UNIT!r} inbox: is the database seeded?")
    customer = query(url, """
        SELECT name, street_address, postal_code, city, phone, email FROM customer
        WHERE segment = 'private' AND email <> '' AND phone <> '' ORDER BY id LIMIT 1""")
    if not customer:
        raise BenchError("No private customer with an email and a phone in the register.")
    name, street, postal_code, city, phone, email = customer[0]
    contact = {"name": name, "street": street, "postal_code": postal_code, "city": city,
               "phone": phone, "email": email}
    name = query(url, """
        SELECT contact_name FROM feedback_case WHERE contact_name <> ''
        GROUP BY contact_name ORDER BY COUNT(*) DESC, contact_name LIMIT 1""")
    if not name:
        raise BenchError("No case with a contact name: is the database seeded?")
    return {"case": tuple(case[0]), "contact": contact, "middle": middle_cursor(url),
            "name": name[0][0]}


def middle_cursor(url):
    """The cursor of the middle of customer service's open inbox in its default order (due,
    received, id), as its "Next" link would write it after paging through half of it."""
    where = """current_unit_id = (SELECT id FROM unit WHERE code = :unit)
               AND status IN ('new', 'assigned') AND reply_wanted"""
    # Table and column names are fixed here, never from input.
    row = query(url, f"""
        SELECT effective_due_date, received_at, id FROM feedback_case WHERE {where}
        ORDER BY effective_due_date, received_at, id
        LIMIT 1 OFFSET (SELECT COUNT(*) / 2 FROM feedback_case WHERE {where})""",  # nosec B608
                unit=SERVICE_UNIT)[0]
    due, received, case_id = row
    due = due if isinstance(due, date) else date.fromisoformat(due)
    received = received if isinstance(received, datetime) else datetime.fromisoformat(received)
    received = received if received.tzinfo else received.replace(tzinfo=UTC)
    return f"{due.isoformat()}_{received.astimezone(UTC).isoformat()}_{case_id}"


# --- The report ----------------------------------------------------------------------------------


def cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def postgres_version(args):
    """The server's version and its shared buffers: a table larger than them is read from the
    operating system's cache, page by page, which long lists of matches feel."""
    try:
        db = engine(f"{args.postgres_url.rstrip('/')}/postgres", connect_args={"connect_timeout": 3})
        try:
            with db.connect() as conn:
                version = conn.exec_driver_sql("SHOW server_version").scalar_one()
                buffers = conn.exec_driver_sql("SHOW shared_buffers").scalar_one()
                return f"{version}, shared buffers {buffers}"
        finally:
            db.dispose()
    except Exception as error:  # the machine's description should not stop a SQLite run
        return f"not reachable ({type(error).__name__})"


def metrics_text(args):
    return "metrics off" if args.no_metrics else "metrics on"


def workers_text(args):
    text = f"{args.workers} {args.worker_class} worker{'s' if args.workers > 1 else ''}"
    return text + (f" × {args.threads} threads" if args.worker_class == "gthread" else "")


def python_speed():
    """Seconds for ten million additions in a Python loop, best of three: how fast this machine
    runs Python, so runs on different machines (or the same shared one on another day) compare."""
    best = math.inf
    for _ in range(3):
        started, total = time.perf_counter(), 0
        for number in range(10_000_000):
            total += number
        best = min(best, time.perf_counter() - started)
    return best


def describe(args, cases):
    workers = workers_text(args)
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return [
        f"Machine: {os.cpu_count()} cores, {cpu_model()}, {memory:.0f} GB RAM, {platform.system()} "
        f"{platform.release()}; load average {args.load:.2f} before the run (other work skews figures); "
        f"Python speed {args.speed:.2f} s for ten million additions (lower is faster)",
        f"Software: Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, PostgreSQL "
        f"{postgres_version(args)}, gunicorn {importlib.metadata.version('gunicorn')}",
        f"Run: {args.db}, {thousands(args.cases)} cases asked ({thousands(cases)} in the database), "
        f"{workers}, inbox cache {args.inbox_cache}, {metrics_text(args)}; {args.requests} "
        f"sequential requests after "
        f"{args.warmup} warm-up; {args.clients} "
        f"concurrent clients for {args.duration:g} s",
    ]


def thousands(number):
    return f"{number:,}".replace(",", " ")


def mark(ok):
    return MET if ok else MISSED


def table(results, workers_mb, pairs):
    """The markdown table and the summary lines, each figure marked against its target;
    also how many targets were met of how many."""
    checks = []

    def judged(text, ok):
        checks.append(ok)
        return f"{text} {mark(ok)}"

    rows = ["| page | request | user | p50 ms | p95 ms | p95 target | req/s | SQL per request |",
            "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    for r in results:
        page = r.page
        rps = f"{r.rps:.0f}"
        if page.rps_target:
            rps = judged(rps, r.rps >= page.rps_target) + f" (≥ {page.rps_target})"
        queries = "/".join(map(str, sorted(r.queries)))
        # A page must stay under the limit, cached or computed (two counts: an inbox page served
        # from the cache and one computed); the form post writes a case, so it need be constant.
        if isinstance(page, FormSubmission):
            queries = judged(queries, len(r.queries) == 1)
        else:
            queries = judged(queries, max(r.queries) <= MAX_QUERIES)
        method = "POST" if isinstance(page, FormSubmission) else "GET"
        rows.append(f"| {page.label} | `{method} {page.path}` | {page.user or 'anonymous'} "
                    f"| {r.p50_ms:.1f} | {judged(f'{r.p95_ms:.1f}', r.p95_ms <= page.p95_target_ms)} "
                    f"| ≤ {page.p95_target_ms:g} | {rps} | {queries} |")

    lines = []
    for key, name in (("inbox-middle", "Middle page"), ("inbox-last", "Deepest page")):
        if key in pairs:
            first, other = pairs[key]
            ratio = other / first
            lines.append(f"- {name} / first page, p50, requested in turns: {other:.1f} ms / "
                         f"{first:.1f} ms = {judged(f'{ratio:.2f}×', ratio <= DEEPEST_RATIO)} "
                         f"(target ≤ {DEEPEST_RATIO:.2f}×)")
    reports = [r for r in results if r.page.key.startswith("report-")]
    if reports:
        largest = max(reports, key=lambda r: r.p50_ms)  # the median: a stray slow request is no size
        lines.append(f"- Largest (slowest by p50) report: {largest.page.label.split(': ')[1]}, p95 "
                     f"{judged(f'{largest.p95_ms:.0f} ms', largest.p95_ms <= REPORT_P95_MS)} "
                     f"(target ≤ {REPORT_P95_MS} ms)")
    peaks = ", ".join(f"{mb:.0f} MB" for mb in workers_mb)
    lines.append(f"- Workers' peak memory (VmHWM): {judged(peaks, max(workers_mb) <= WORKER_PEAK_MB)} "
                 f"(target ≤ {WORKER_PEAK_MB} MB each)")
    lines.append(f"- Targets met: {sum(checks)} of {len(checks)}")
    return rows, lines


HEADER = f"""# Benchmark results

`bench/run.py` runs the intranet as in production (gunicorn with `deploy/gunicorn.conf.py`,
`FLASK_CONFIG=production`, metrics on: `METRICS_TOKEN` set, the workers counting in
`PROMETHEUS_MULTIPROC_DIR`, `/metrics` scraped every 15 s; `--no-metrics` turns them off) on a copy of
a seeded demo database and measures its pages over HTTP, logged in as the demo users (cs.agent,
cs.lead, admin) or as an anonymous customer on the public form:

```sh
.venv/bin/python bench/run.py --db sqlite --cases 1000000
.venv/bin/python bench/run.py --db postgres --cases 1000000 --workers 4
```

The seeded databases are kept (`bench/data/bench-N.sqlite`, PostgreSQL database `bench_N` on
`--postgres-url`) and topped up with `seed-demo` when they have fewer than N cases; `--reseed`
rebuilds them. PostgreSQL gets a `VACUUM ANALYZE` after seeding, as autovacuum would do on a live
database; SQLite gets only the `ANALYZE` that `seed-demo` and a migration adding an index run. Both
get `flask counters carry-forward` before each run, as the nightly timer would leave them
(PostgreSQL then a `VACUUM ANALYZE` of the counters, as autovacuum would). Each
run works on a throwaway copy, because the form submissions add cases. `--help` lists the other
options (`--workers`, `--worker-class`, `--requests`, `--clients`, `--duration`, `--pages`, ...).

Method: p50 and p95 (nearest rank) of sequential requests from one keep-alive client after a
warm-up; req/s from concurrent clients, each with its own connection, for a fixed time; SQL
statements per request from the `X-Query-Count` header (`COUNT_QUERIES=1`); the public form is a
fresh GET (tokens) and a timed POST, and its req/s counts GET+POST pairs; peak memory is `VmHWM` of
each gunicorn worker at the end. The client runs on the same machine as the server. gunicorn's sync
workers (the production command's) close the connection after each response, so there each request
opens a new one (a fraction of a millisecond on loopback); `--worker-class gthread` keeps it alive.

Targets, at 1 000 000 cases on both databases (✓ meets, ✗ misses; smaller runs are marked against
the same targets):

- every page p95 ≤ {PAGE_P95_MS} ms; a search ≤ {SEARCH_P95_MS} ms; the largest report ≤ {REPORT_P95_MS} ms;
  the public form submission ≤ {FORM_P95_MS} ms
- a page in the middle (reached by a cursor, as "Next" gives it) and the deepest inbox page within
  {DEEPEST_RATIO - 1:.0%} of the first page (p50; each is also requested in turns with the first, so a
  change in the machine's speed during the run falls on both)
- SQL statements per request constant, and ≤ {MAX_QUERIES} on every page (the form submission, which writes
  a case, only constant)
- the inbox's first page ≥ {INBOX_RPS} requests/s with 8 concurrent clients
- a worker's peak memory ≤ {WORKER_PEAK_MB} MB

Runs follow, newest at the end.
"""


def heading(args, what):
    """A run's section heading in bench/results.md: when, the database, the cases, `what`."""
    parts = [f"{datetime.now().astimezone():%Y-%m-%d %H:%M %Z}", args.db,
             f"{thousands(args.cases)} cases", what]
    return "## " + " · ".join(parts)


def machine_lines(args, cases):
    """The machine and software, for runs the pages' run settings do not apply to."""
    return [f"- {line}" for line in describe(args, cases) if not line.startswith("Run:")]


def publish(args, section):
    """Print a run's section and, unless --no-record, append it to bench/results.md."""
    print("\n" + section)
    if args.no_record:
        return
    text = RESULTS.read_text() if RESULTS.exists() else HEADER
    RESULTS.write_text(text.rstrip("\n") + "\n\n" + section)
    print(f"Appended to {RESULTS.relative_to(ROOT)}")


def record(args, cases, results, workers_mb, pairs, metrics=None):
    rows, lines = table(results, workers_mb, pairs)
    if metrics:
        lines.insert(-1, metrics)
    section = "\n".join([heading(args, workers_text(args)), "",
                         *(f"- {line}" for line in describe(args, cases)), "",
                         *rows, "", *lines]) + "\n"
    publish(args, section)


# --- The mixed run -------------------------------------------------------------------------------
#
# Customer service at work: agents read the inbox and act on cases while a team lead reads the
# workload and the reports, all at once against one server. Timed on the server by gunicorn's
# access log (%(D)s: from the request read to the last byte written) and on the client; each
# request carries X-Bench-Id and X-Bench-Kind, which the log records, so the two are matched.

# The targets of the mix (issue #18), on the server's time, at 1 000 000 cases on both databases.
MIX_PAGE_P95_MS = 10  # inbox, case page, my cases, workload
MIX_ACTION_P95_MS = 30  # take, note, forward, answer (the POST; the page it redirects to is a case page)
MIX_SEARCH_P95_MS = 50
MIX_REPORT_P95_MS = 500
MIX_EXPORT_FIRST_BYTE_MS = 200  # the client's time to the first byte: the log has only the whole
MIX_CHANGES_PER_S = 1
MIX_AGENTS = 8
MIX_LEAD = "cs.lead"
MIX_ACCESS_LOG = DATA / "mixed-access.log"
# Method, status, microseconds, the bench's id and kind, path and query (bench data is synthetic;
# production leaves the query out).
ACCESS_FORMAT = '%(m)s %(s)s %(D)s "%({x-bench-id}i)s" "%({x-bench-kind}i)s" "%(U)s" "%(q)s"'
ACCESS_LINE = re.compile(r'^(\S+) (\d{3}) (\d+) "([^"]*)" "([^"]*)" "([^"]*)" "([^"]*)"$')
INBOX_FILTERS = ["open", "unassigned", "mine", "overdue", "due_today", "no_answer", "answered"]
INBOX_SORTS = ["due", "received", "customer", "topic"]
SEARCH_WORDS = ["mobiilisovellus kaatuu", "korttini hylättiin", "lainahakemukseni", "nätbanken loggar",
                "fondsparande avgifter", "konttori lauantaisin"]
REPORT_PERIODS = ["this_week", "this_month", "last_month", "custom"]
ACTION_WEIGHTS = {"take": 3, "note": 3, "answer": 6, "forward": 1}  # an offered answer is taken up most
CHANGED = b"This case changed since you opened it"  # the page after a version conflict says so
CASE_LINK = re.compile(r'href="/cases/([A-Z]+-\d+-\d+)"')
NEXT_LINK = re.compile(r'<a href="([^"]+)" rel="next">')
CUSTOMER_CELL = re.compile(r'<td class="col-customer" title="([^"]*)"')
EMAIL_RADIO = re.compile(rb'<input[^>]*name="answer-channel"[^>]*>')


@dataclass(frozen=True)
class MixKind:
    key: str
    label: str
    method: str
    target_ms: float


MIX_KINDS = [
    MixKind("inbox", "Inbox: any filter, sort and page", "GET", MIX_PAGE_P95_MS),
    MixKind("case", "Case page (also after an action)", "GET", MIX_PAGE_P95_MS),
    MixKind("my-cases", "My cases", "GET", MIX_PAGE_P95_MS),
    MixKind("workload", "Team lead's workload", "GET", MIX_PAGE_P95_MS),
    *(MixKind(name, f"Action: {name}", "POST", MIX_ACTION_P95_MS) for name in ACTION_WEIGHTS),
    MixKind("search", "Search (words, a reference, a name)", "GET", MIX_SEARCH_P95_MS),
    *(MixKind(f"report-{name}", f"Report: {name}", "GET", MIX_REPORT_P95_MS) for name in REPORTS),
    MixKind("export", "Inbox as CSV (first byte, client)", "GET", MIX_EXPORT_FIRST_BYTE_MS),
]


@dataclass(slots=True)
class Sample:
    """One request as the client saw it."""

    number: int
    kind: str
    path: str
    started: float  # seconds since the mix began
    client_ms: float
    first_byte_ms: float
    status: int
    queries: int | None  # SQL statements (X-Query-Count)


class Pacer:
    """Turns at a steady rate shared by all threads: one per `interval` seconds, and after a slow
    spell at most one turn to catch up, not a burst."""

    def __init__(self, interval, first):
        self.interval, self.next, self.lock = interval, first, threading.Lock()

    def due(self):
        return time.monotonic() >= self.next

    def take(self):
        with self.lock:
            now = time.monotonic()
            if now < self.next:
                return False
            self.next = max(self.next, now - self.interval) + self.interval
            return True


class Mix:
    def __init__(self, port, args):
        self.port, self.args = port, args
        self.samples, self.failures = [], []
        self.numbers = itertools.count(1)
        self.stop = threading.Event()
        self.started = time.monotonic()
        self.changes = Pacer(1 / args.change_rate, self.started)
        self.exports = Pacer(args.export_every, self.started + args.export_every / 2)
        self.outcomes = collections.Counter()  # (action, "done" / "conflict" / "refused" / status)
        self.refusals = collections.Counter()  # the first words of a refused action's page

    def request(self, client, kind, method, path, form=None):
        """A tagged, timed request; None when it failed (recorded)."""
        number = next(self.numbers)
        started = time.perf_counter()
        try:
            reply = client.request(method, path, form,
                                   headers={"X-Bench-Id": str(number), "X-Bench-Kind": kind})
        except (OSError, http.client.HTTPException) as error:
            self.failures.append(f"{method} {path}: {type(error).__name__} {error}")
            return None
        ended = time.perf_counter()
        self.samples.append(Sample(number, kind, path, time.monotonic() - self.started,
                                   (ended - started) * 1000, (client.first_byte - started) * 1000,
                                   reply.status, int(reply.headers.get("X-Query-Count", -1))))
        if reply.status >= 500 or (method == "GET" and reply.status != 200):
            self.failures.append(f"{method} {path} answered {reply.status}: {reply.excerpt()[:200]!r}")
            return None
        return reply

    def run(self, agents, lead):
        threads = [threading.Thread(target=self._guarded, args=(self.agent, index, cookies), daemon=True)
                   for index, cookies in enumerate(agents)]
        threads.append(threading.Thread(target=self._guarded, args=(self.lead, len(agents), lead),
                                        daemon=True))
        for thread in threads:
            thread.start()
        self.stop.wait(self.args.warmup_seconds + self.args.duration)
        self.stop.set()
        self.ended = time.monotonic() - self.started
        for thread in threads:
            thread.join()

    def _guarded(self, work, index, cookies):
        try:
            work(random.Random(self.args.seed * 100 + index), Client(self.port, cookies))
        except Exception as error:  # a bug in the bench: stop the run and say so
            self.failures.append(f"client thread {index} stopped: {type(error).__name__} {error}")
            self.stop.set()

    def agent(self, rng, client):
        seen, names, held = [], [], []  # held: cases this agent took, to answer or pass on later
        while not self.stop.is_set():
            listing = {"filter": rng.choice(INBOX_FILTERS)}
            sort = rng.choice(INBOX_SORTS)
            if sort != "due":
                listing["sort"] = sort
            if rng.random() < 0.5:
                listing["order"] = "desc"
            page = self.request(client, "inbox", "GET",
                                f"/inbox/{SERVICE_UNIT}?{urllib.parse.urlencode(listing)}")
            # Sometimes a page or two further, by the page's own "Next" link (a cursor).
            while page is not None and rng.random() < self.args.deeper:
                following = NEXT_LINK.search(page.body.decode())
                if not following:
                    break
                page = self.request(client, "inbox", "GET", html.unescape(following[1]))
            if page is not None:
                text = page.body.decode()
                seen = (CASE_LINK.findall(text) + seen)[:200]
                names = ([html.unescape(n) for n in CUSTOMER_CELL.findall(text) if n != "—"] + names)[:200]
            if seen or held:
                # Half the time back to a case of one's own, else one from the list.
                reference = held.pop(0) if held and (rng.random() < 0.5 or not seen) \
                    else rng.choice(seen[:50])
                case = self.request(client, "case", "GET", f"/cases/{reference}")
                if case is not None and self.changes.due() \
                        and self.act(rng, client, reference, case) == "take":
                    held = [*held, reference][-10:]
            chance = rng.random()
            if chance < self.args.search_share:
                query = rng.choice([rng.choice(SEARCH_WORDS), *(seen[:1] or []), *(names[:1] or [])])
                self.request(client, "search", "GET",
                             "/cases/search?" + urllib.parse.urlencode({"q": query}))
            elif chance < self.args.search_share + self.args.my_cases_share:
                self.request(client, "my-cases", "GET", "/my-cases")
            if self.exports.due() and self.exports.take():
                self.request(client, "export", "GET", f"/inbox/{SERVICE_UNIT}/export.csv?"
                             + urllib.parse.urlencode({"filter": rng.choice(INBOX_FILTERS)}))

    def act(self, rng, client, reference, case):
        """One change to the case, of those its page offers, when the pacer gives a turn; the
        action when done."""
        page = FormFields(case.body)
        choices = [name for name in ACTION_WEIGHTS if name in offered_actions(page, case.body)]
        if not choices or not self.changes.take():
            return
        action = rng.choices(choices, weights=[ACTION_WEIGHTS[name] for name in choices])[0]
        reply = self.request(client, action, "POST", f"/cases/{reference}/{action}",
                             action_form(page, action, rng))
        if reply is None:
            return
        if reply.status in (302, 303):
            self.outcomes[action, "done"] += 1
            location = urllib.parse.urlsplit(reply.headers.get("Location", ""))
            self.request(client, "case", "GET", location.path + (f"?{location.query}" if location.query
                                                                  else ""))
            return action
        elif reply.status == 200 and CHANGED in reply.body:
            self.outcomes[action, "conflict"] += 1
        elif reply.status == 200:
            self.outcomes[action, "refused"] += 1
            summary = re.search(rb'class="error-summary".*?<li>(.*?)</li>', reply.body, re.S)
            self.refusals[action, re.sub(r"<[^>]+>", "", summary[1].decode()).strip()[:80]
                          if summary else "no summary on the page"] += 1
        else:
            self.outcomes[action, reply.status] += 1
            self.failures.append(f"POST /cases/{reference}/{action} answered {reply.status}")

    def lead(self, rng, client):
        today = datetime.now().date()
        turn = 0
        while not self.stop.is_set():
            turn += 1
            if turn % 4 == 1:
                self.request(client, "workload", "GET", f"/workload/{SERVICE_UNIT}")
            elif turn % 4 == 3:
                self.request(client, "my-cases", "GET", "/my-cases")
            else:
                name = rng.choice(REPORTS)
                period = {"period": rng.choice(REPORT_PERIODS)}
                if period["period"] == "custom":  # up to a year, ending yesterday
                    end = today - timedelta(days=1)
                    period.update(start=(end - timedelta(days=rng.randint(6, 365))).isoformat(),
                                  end=end.isoformat())
                path = "/reports/" if name == "backlog" else \
                    f"/reports/{name}?{urllib.parse.urlencode(period)}"
                self.request(client, f"report-{name}", "GET", path)
            self.stop.wait(self.args.lead_pause)


def offered_actions(page, body):
    """The actions a case page offers (`page`, its FormFields); an answer only by email."""
    offered = {name.split("-")[0] for name in page.values if name.endswith("-token")}
    email = [tag for tag in EMAIL_RADIO.findall(body) if b'value="email"' in tag]
    if page.values.get("answer-channel") != "email" or not email or b" disabled" in email[0]:
        offered.discard("answer")  # answers go by email here, where the page allows it
    return offered


def action_form(page, action, rng):
    """The action's form as its case page filled it, with what an agent writes in it."""
    form = {name: value for name, value in page.values.items() if name.startswith(f"{action}-")}
    if action == "note":
        form["note-text"] = "Soitin asiakkaalle, selvitän asiaa korttipalveluista."
    elif action == "forward":
        form["forward-unit"] = rng.choice(page.options["forward-unit"])
        form["forward-note"] = "Kuuluu teille: asiakas kysyy kortin rajoista."
    elif action == "answer":
        form["answer-body"] = "Kiitos palautteestasi. Selvitimme asian ja olemme korjanneet sen."
        form["answer-send"] = "Send the answer"
    return form


def read_access_log(path):
    """Server times by the bench's request number: {number: (status, ms)}."""
    times = {}
    for line in path.read_text(errors="replace").splitlines():
        found = ACCESS_LINE.match(line)
        if found and found[4].isdigit():
            times[int(found[4])] = (int(found[2]), int(found[3]) / 1000)
    return times


def add_agents(url, count):
    """Customer service agents cs.agent2... beside the demo's cs.agent, on the run's copy: rows
    copied from cs.agent (same password hash, same membership), under other names."""
    import sqlalchemy as sa

    db = engine(url)
    try:
        columns = [c["name"] for c in sa.inspect(db).get_columns("staff_user") if c["name"] != "id"]
        names = []
        with db.begin() as conn:
            for number in range(2, count + 1):
                username = f"cs.agent{number}"
                names.append(username)
                if conn.execute(sa.text("SELECT 1 FROM staff_user WHERE username = :u"),
                                {"u": username}).first():
                    continue
                picked = ", ".join({"username": ":username", "full_name": ":full_name",
                                    "email": ":email"}.get(c, c) for c in columns)
                conn.execute(sa.text(f"INSERT INTO staff_user ({', '.join(columns)}) "
                                     f"SELECT {picked} FROM staff_user WHERE username = 'cs.agent'"),
                             {"username": username, "full_name": f"Agent {number} Asiakaspalvelu",
                              "email": f"{username}@bank.example"})
                conn.execute(sa.text(
                    "INSERT INTO membership (user_id, unit_id, is_team_lead) "
                    "SELECT u.id, m.unit_id, m.is_team_lead FROM staff_user u, membership m "
                    "JOIN staff_user a ON a.id = m.user_id "
                    "WHERE u.username = :username AND a.username = 'cs.agent'"), {"username": username})
        return ["cs.agent", *names]
    finally:
        db.dispose()


def percentile_pair(values):
    values = sorted(values)
    return (nearest_rank(values, 0.50), nearest_rank(values, 0.95)) if values else (None, None)


def times_header(first):
    """The head of a table of timed requests, one row each with `timings`."""
    return [f"| {first} | requests | server p50 ms | server p95 ms | client p50 ms | client p95 ms "
            "| p95 target | | SQL per request |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | :-: | ---: |"]


def timings(samples, server, client_ms):
    """Of the samples: the server's p50 and p95 from its access log (`server`), the client's of
    `client_ms`, and the range of SQL statements a request sent, as the table writes it."""
    s50, s95 = percentile_pair([server[s.number][1] for s in samples if s.number in server])
    c50, c95 = percentile_pair(client_ms)
    queries = sorted({s.queries for s in samples if s.queries >= 0})
    return s50, s95, c50, c95, (f"{queries[0]}–{queries[-1]}" if len(queries) > 1
                                else "".join(map(str, queries)))


def verdict(value, target, checks):
    """✓ or ✗ for a p95 against its target, noted in `checks`; "no requests" without one."""
    if value is None:
        return "no requests"
    checks.append(value <= target)
    return mark(checks[-1])


def ms(value):
    return "—" if value is None else f"{value:.0f}" if value >= 100 else f"{value:.1f}"


def mix_report(mix, server, args, workers_mb, loads):
    """The table and summary lines of a mixed run, judged on the server's times."""
    window = (args.warmup_seconds, args.warmup_seconds + args.duration)
    measured = [s for s in mix.samples if window[0] <= s.started < window[1]]
    seconds = args.duration
    checks = []

    def judged(text, ok):
        checks.append(ok)
        return f"{text} {mark(ok)}"

    rows = times_header("page kind")
    unmatched = 0
    for kind in MIX_KINDS:
        samples = [s for s in measured if s.kind == kind.key]
        unmatched += sum(s.number not in server for s in samples)
        export = kind.key == "export"  # judged on the first byte; the server's is the whole file
        s50, s95, c50, c95, queries = timings(
            samples, server, [s.first_byte_ms if export else s.client_ms for s in samples])
        note = "server: whole file; client: first byte" if export else ""
        result = verdict(c95 if export else s95, kind.target_ms, checks)
        rows.append(f"| {kind.label} | {len(samples)} | {ms(s50)} | {ms(s95)} | {ms(c50)} | {ms(c95)} "
                    f"| ≤ {kind.target_ms:g} | {result}{f' ({note})' if note else ''} | {queries} |")
    lines = []
    inbox = [s for s in measured if s.kind == "inbox"]
    lines.append(f"- Inbox requests per second in the mix: "
                 f"{judged(f'{len(inbox) / seconds:.0f}', len(inbox) / seconds >= INBOX_RPS)} "
                 f"(target ≥ {INBOX_RPS}); all requests: {len(measured) / seconds:.0f}/s")
    done = sum(n for (action, outcome), n in mix.outcomes.items() if outcome == "done")
    measured_changes = sum(1 for s in measured if s.kind in ACTION_WEIGHTS and s.status in (302, 303))
    rate = measured_changes / seconds
    by_action = ", ".join(f"{action} {mix.outcomes[action, 'done']}" for action in ACTION_WEIGHTS)
    lines.append(f"- Changes to customer service's cases: "
                 f"{judged(f'{rate:.2f}/s', rate >= MIX_CHANGES_PER_S)} "
                 f"(target ≥ {MIX_CHANGES_PER_S}/s, paced at {args.change_rate:g}/s); over the whole "
                 f"run {done}: {by_action}")
    conflicts = sum(n for (_a, outcome), n in mix.outcomes.items() if outcome == "conflict")
    refused = sum(n for (_a, outcome), n in mix.outcomes.items() if outcome == "refused")
    lines.append(f"- Version conflicts (two agents on one case; not failures): {conflicts}; refused "
                 f"actions: {refused}" + "".join(f"; {action} “{why}” ×{n}"
                                                  for (action, why), n in mix.refusals.most_common(3)))
    lines.append(f"- Failures (5xx, unexpected status, connection errors): "
                 f"{judged(str(len(mix.failures)), not mix.failures)}"
                 + "".join(f"\n  - {failure}" for failure in mix.failures[:5]))
    if unmatched:
        lines.append(f"- Requests missing from the access log: {unmatched}")
    inbox_rows = []
    for name in INBOX_FILTERS:
        times = [server[s.number][1] for s in inbox if f"filter={name}&" in s.path + "&"
                 and s.number in server]
        if times:
            inbox_rows.append(f"{name} {ms(percentile_pair(times)[1])}")
    deeper = [server[s.number][1] for s in inbox if "after=" in s.path and s.number in server]
    lines.append(f"- Inbox server p95 ms by filter: {', '.join(inbox_rows)}; pages after the first "
                 f"({len(deeper)}): {ms(percentile_pair(deeper)[1])}")
    busy = collections.Counter()
    for s in measured:
        if s.number in server:
            busy[s.kind] += server[s.number][1]
    total = sum(busy.values()) or 1
    lines.append("- Server time by kind (share of all request time): "
                 + ", ".join(f"{kind} {busy[kind] / total:.0%}" for kind, _t in busy.most_common(6)))
    peaks = ", ".join(f"{mb:.0f} MB" for mb in workers_mb)
    lines.append(f"- Workers' peak memory over the run (VmHWM): "
                 f"{judged(peaks, max(workers_mb) <= WORKER_PEAK_MB)} (target ≤ {WORKER_PEAK_MB} MB each)")
    lines.append(f"- Load average (1 min) {loads[0]:.2f} when the mix began, {loads[1]:.2f} when it "
                 f"ended")
    lines.append(cpu_line(loads[2], len(mix.samples)))
    lines.append(f"- Targets met: {sum(checks)} of {len(checks)}")
    return rows, lines


def cpu_line(cpu, requests):
    """Where the CPU went over the mix, and the most requests a second the machine's cores could
    serve at the run's CPU a request: the ceiling that no server setting lifts."""
    seconds, cores = cpu["elapsed"], os.cpu_count()

    def used(key):
        return f"{cpu[key] / seconds:.2f} cores ({cpu[key] / requests * 1000:.1f} ms a request)"

    ceiling = cores * requests / cpu["machine"] if cpu["machine"] else 0
    return (f"- CPU over the whole run (warm-up too, {requests} requests in {seconds:.0f} s): the "
            f"machine busy {cpu['machine'] / seconds / cores:.0%} of its {cores} cores; gunicorn's "
            f"workers {used('workers')}, the database server {used('database')}, the bench client "
            f"{used('client')}, the rest {used('rest')}. At {cpu['machine'] / requests * 1000:.1f} ms "
            f"of CPU a request, {cores} cores serve at most {ceiling:.0f} requests a second")


def run_mix(args, database, cases):
    print(f"Adding customer service agents to {database.copy_url}", flush=True)
    agents = add_agents(database.copy_url, MIX_AGENTS)
    print(f"Starting gunicorn ({workers_text(args)}), access log {MIX_ACCESS_LOG}", flush=True)
    MIX_ACCESS_LOG.unlink(missing_ok=True)  # gunicorn appends to it
    with Server(args, database.copy_url, access_log=MIX_ACCESS_LOG) as server:
        workers = server.worker_pids()
        sessions = [log_in(server.port, user).cookies for user in agents]
        lead = log_in(server.port, MIX_LEAD).cookies
        print(f"Mixed run: {len(agents)} agents and {MIX_LEAD} for {args.warmup_seconds:g} + "
              f"{args.duration:g} s", flush=True)
        mix = Mix(server.port, args)
        load_start, cpu_start = os.getloadavg()[0], CpuUse.now(workers)
        mix.run(sessions, lead)
        load_end = os.getloadavg()[0]
        cpu = CpuUse.now(workers).since(cpu_start)
        if server.worker_pids() != workers:
            mix.failures.append(f"a gunicorn worker was restarted (its peak memory is lost):\n"
                                f"{server.log_tail()}")
        workers_mb = [peak_memory_mb(pid) for pid in workers if Path(f"/proc/{pid}").exists()]
        metrics = server.metrics_line()
    time.sleep(0.5)  # gunicorn has written its last lines
    rows, lines = mix_report(mix, read_access_log(MIX_ACCESS_LOG), args, workers_mb or [0],
                             (load_start, load_end, cpu))
    if metrics:
        lines.insert(-1, metrics)
    run_line = (f"Run: mixed, {thousands(cases)} cases in the database, {workers_text(args)}, inbox "
                f"cache {args.inbox_cache}, {metrics_text(args)}; {len(agents)} agents (customer "
                f"service) and {MIX_LEAD}, "
                f"{args.warmup_seconds:g} s warm-up then {args.duration:g} s measured; changes paced "
                f"at {args.change_rate:g}/s, an export every {args.export_every:g} s, the lead pausing "
                f"{args.lead_pause:g} s; seed {args.seed}")
    section = "\n".join([heading(args, f"{workers_text(args)} · mixed run"), "",
                         *(f"- {line}" for line in describe(args, cases)[:2]),
                         f"- {run_line}", "", *rows, "", *lines]) + "\n"
    publish(args, section)
    if mix.failures:
        print(f"FAILURES: {len(mix.failures)} requests failed; see above and {server.log_path}",
              file=sys.stderr)


# --- Main ----------------------------------------------------------------------------------------


PAGE_KEYS = ["inbox", "inbox-overdue", "inbox-middle", "inbox-last", "inbox-customer",
             "inbox-topic-last", "export", "case", "my-cases", "workload", "search-text", "search-reference",
             "search-common", "search-prefix", "search-short", "search-text-branch",
             "search-name-branch", *(f"report-{name}" for name in REPORTS), "form"]


# --- One morning's reminders ------------------------------------------------------------------

# Issue #20: one banking morning's run at a million cases, within a minute.
MORNING_TARGET_S = 60
MORNING_AGENTS = 20


def run_morning(args, database, cases):
    """`reminders send` at 7.30 on a banking morning, on the run's copy with twenty agents holding
    cases, then again the same morning; recorded like the other runs."""
    import json

    print(f"Adding customer service agents to {database.copy_url}", flush=True)
    agents = add_agents(database.copy_url, MORNING_AGENTS)
    spread_cases(database.copy_url, agents)
    print("Running one morning's reminders, twice", flush=True)
    done = subprocess.run([str(VENV / "bin" / "python"), str(BENCH / "morning.py"),
                           database.copy_url], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    if done.returncode:
        raise BenchError(f"bench/morning.py failed:\n{done.stderr[-3000:]}")
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    first, second = outcome["runs"]
    lines = [
        f"- The morning of {outcome['morning'][:10]} at 7.30, {len(agents)} customer service "
        "agents holding the unit's assigned cases besides the demo's staff",
        f"- First run: {first['seconds']:.2f} s, {first['statements']} SQL statements, "
        f"{first['sent']} summaries sent, {first['nothing_to_tell']} people with nothing to be "
        f"told, {thousands(first['escalated'])} cases escalated as overdue for the first time; "
        f"largest summary {thousands(outcome['largest_html_bytes'] or 0)} bytes of HTML "
        f"{mark(first['seconds'] <= MORNING_TARGET_S)} (target ≤ {MORNING_TARGET_S} s)",
        f"- Second run the same morning: {second['seconds']:.2f} s, {second['statements']} "
        f"statements, {second['sent']} sent, {second['already_sent']} had theirs already "
        f"{mark(second['sent'] == 0)}",
        *machine_lines(args, cases),
    ]
    publish(args, "\n".join([heading(args, "one morning's reminders"), "", *lines]) + "\n")


# --- A worker's memory over exports of every size ---------------------------------------------

# The inbox's filters, as the team lead (who has them all) exports them.
EXPORT_FILTERS = ["open", "unassigned", "mine", "overdue", "attention", "due_today", "no_answer",
                  "answered"]
EXPORT_ROUNDS = 3
# What an export may add to a worker's peak beyond what the smallest one adds: a few batches of
# rows and the pieces of the file, never a row's worth per row.
EXPORT_GROWTH_SPREAD_MB = 2


def run_exports(args, database, cases):
    """Each filter's export, EXPORT_ROUNDS times, by a gunicorn worker of its own that has first
    served the lead's login and inbox: the growth of its peak memory is what the export held."""
    args.workers = 1
    measured = []
    for name in EXPORT_FILTERS:
        path = f"/inbox/{SERVICE_UNIT}/export.csv?filter={name}"
        with Server(args, database.copy_url) as server:
            [worker] = server.worker_pids()
            client = Client(server.port, log_in(server.port, MIX_LEAD).cookies)
            client.request("GET", f"/inbox/{SERVICE_UNIT}?filter={name}").expect(200, "the inbox")
            before = peak_memory_mb(worker)
            first_bytes, wholes = [], []
            for _round in range(EXPORT_ROUNDS):
                started = time.perf_counter()
                reply = client.request("GET", path)
                wholes.append((time.perf_counter() - started) * 1000)
                first_bytes.append((client.first_byte - started) * 1000)
                reply.expect(200, path)
            measured.append((name, reply.body.count(b"\r\n") - 1, statistics.median(first_bytes),
                             statistics.median(wholes), before, peak_memory_mb(worker)))
            client.close()
        print(f"{name}: {thousands(measured[-1][1])} rows", flush=True)
    measured.sort(key=lambda row: row[1])
    growths = [after - before for *_rest, before, after in measured]
    flat = max(growths) - growths[0] <= EXPORT_GROWTH_SPREAD_MB
    rows = ["| filter | rows | first byte p50 (ms) | whole file p50 (ms) | worker before (MB) "
            "| worker after (MB) | growth (MB) |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    rows += [f"| {name} | {thousands(count)} | {first:.0f} {mark(first <= MIX_EXPORT_FIRST_BYTE_MS)} "
             f"| {whole:.0f} {mark(whole <= EXPORT_P95_MS)} | {before:.1f} | {after:.1f} "
             f"| {after - before:.1f} |" for name, count, first, whole, before, after in measured]
    lines = [
        f"- Customer service's inbox as CSV in each filter, by {MIX_LEAD}: one gunicorn worker a "
        f"filter, which first serves the login and the filter's inbox page; {EXPORT_ROUNDS} exports "
        "each, the medians; the worker's peak memory (VmHWM) before the exports and after them",
        f"- The largest export ({thousands(measured[-1][1])} rows) grew the worker "
        f"{growths[-1]:.1f} MB, the smallest ({thousands(measured[0][1])} rows) {growths[0]:.1f} MB; "
        f"the most any grew it {max(growths) - growths[0]:.1f} MB beyond the smallest "
        f"{mark(flat)} (flat: within {EXPORT_GROWTH_SPREAD_MB} MB)",
        *machine_lines(args, cases),
    ]
    publish(args, "\n".join([heading(args, "a worker's memory over exports"), "", *rows, "",
                              *lines]) + "\n")


# --- The case actions, one after another ---------------------------------------------------

ACTIONS_ACCESS_LOG = DATA / "actions-access.log"
ACTIONS_AGENT = "cs.agent"
ACTION_P95_MS = 30  # the mixed run's target for take, note, answer and forward


def action_cases(client, count):
    """References of unassigned cases in customer service's inbox, `count` or fewer, read from
    its pages by their "Next" links."""
    found, path = [], f"/inbox/{SERVICE_UNIT}?filter=unassigned"
    while path and len(found) < count:
        reply = client.request("GET", path)
        reply.expect(200, path)
        text = reply.body.decode()
        found += [ref for ref in CASE_LINK.findall(text) if ref not in found]
        following = NEXT_LINK.search(text)
        path = html.unescape(following[1]) if following else None
    return found[:count]


def run_actions(args, database, cases):
    """One agent takes, notes and answers each of `--action-cases` cases, and forwards as many
    others, opening the case's page before each; timed by gunicorn's access log and the client.
    The first `--action-warmup` of each action, which compile the workers' statements as the
    mix's warm-up does, are posted first and not counted."""
    rng = random.Random(args.seed)
    ACTIONS_ACCESS_LOG.unlink(missing_ok=True)
    with Server(args, database.copy_url, access_log=ACTIONS_ACCESS_LOG) as server:
        client = Client(server.port, log_in(server.port, ACTIONS_AGENT).cookies)
        mix = Mix(server.port, args)  # its request() tags, times and checks each one
        # Most cases are answered by phone or letter: enough of them that some 60 go by email.
        wanted = args.action_cases + args.action_warmup
        references = action_cases(client, 6 * wanted)
        forwarded, worked = references[:wanted], references[wanted:]
        print(f"Acting on up to {len(references)} cases as {ACTIONS_AGENT}", flush=True)
        load = os.getloadavg()[0]
        for reference, actions in [*((r, ("take", "note", "answer")) for r in worked),
                                   *((r, ("forward",)) for r in forwarded)]:
            if actions[0] == "take" and mix.outcomes["answer", "done"] >= wanted:
                continue
            for action in actions:
                case = mix.request(client, "case", "GET", f"/cases/{reference}")
                page = FormFields(case.body) if case else None
                if page is None or action not in offered_actions(page, case.body):
                    mix.outcomes[action, "not offered"] += 1
                    continue
                reply = mix.request(client, action, "POST", f"/cases/{reference}/{action}",
                                    action_form(page, action, rng))
                done = reply is not None and reply.status in (302, 303)
                mix.outcomes[action, "done" if done else "refused"] += 1
        workers_mb = [peak_memory_mb(pid) for pid in server.worker_pids()]
    time.sleep(0.5)  # gunicorn has written its last lines
    server_times = read_access_log(ACTIONS_ACCESS_LOG)
    rows = times_header("action")
    met = []
    for action in ("take", "note", "answer", "forward"):
        samples = [sample for sample in mix.samples if sample.kind == action
                   and sample.status in (302, 303)][args.action_warmup:]
        s50, s95, c50, c95, queries = timings(samples, server_times,
                                              [sample.client_ms for sample in samples])
        rows.append(f"| {action} | {len(samples)} | {ms(s50)} | {ms(s95)} | {ms(c50)} | {ms(c95)} "
                    f"| ≤ {ACTION_P95_MS} | {verdict(s95, ACTION_P95_MS, met)} | {queries} |")
    outcomes = ", ".join(f"{action} {what} {count}" for (action, what), count in sorted(mix.outcomes.items()))
    lines = [
        f"- {ACTIONS_AGENT} takes, notes and answers (by email, where the case allows it) "
        f"unassigned cases of customer service until {wanted} are answered, and "
        f"forwards {len(forwarded)} others, one request at a time, opening the case's page "
        f"before each action (not counted here); the first {args.action_warmup} of each action "
        "warm the workers and are not counted either",
        f"- Outcomes: {outcomes}; failures: {len(mix.failures)} {mark(not mix.failures)}",
        f"- Load average (1 min) {load:.2f} when the actions began; workers' peak memory "
        f"{', '.join(f'{mb:.0f} MB' for mb in workers_mb)}",
        *machine_lines(args, cases),
        f"- Targets met: {sum(met)} of {len(met)}",
    ]
    publish(args, "\n".join([heading(args, f"{workers_text(args)} · the case actions, one after "
                                            "another"), "", *rows, "", *lines]) + "\n")
    if mix.failures:
        print("FAILURES:\n" + "\n".join(mix.failures[:10]), file=sys.stderr)


# --- The stack's floor ---------------------------------------------------------------------------

FLOOR_ACCESS_LOG = DATA / "floor-access.log"


def run_floor(args, database, cases):
    """What a signed-in page costs before it reads a case (bench/floor.py), and two real pages
    beside it: each loaded by --clients clients for --duration seconds, timed by gunicorn's access
    log, with the CPU each request took."""
    targets = pick_targets(database.copy_url)
    case_ref, case_events = targets["case"]
    pages = [
        Page("signed-in", "Signed in, a line of text", "cs.agent", "/bench-floor/signed-in", PAGE_P95_MS),
        Page("layout", "Signed in, the layout around an empty page", "cs.agent", "/bench-floor/layout",
             PAGE_P95_MS),
        Page("inbox", "Inbox, first page, unchanged (the inbox cache)", "cs.agent",
             f"/inbox/{SERVICE_UNIT}", PAGE_P95_MS),
        Page("case", f"Case page, longest timeline ({case_events} events)", "cs.agent",
             f"/cases/{case_ref}", PAGE_P95_MS),
    ]
    FLOOR_ACCESS_LOG.unlink(missing_ok=True)
    rows = ["| page | requests a second | server p50 ms | server p95 ms | CPU a request, ms: "
            "workers | database | the whole machine | load before |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    with Server(args, database.copy_url, access_log=FLOOR_ACCESS_LOG, app="bench.floor:create()") as server:
        workers = server.worker_pids()
        cookies = log_in(server.port, "cs.agent").cookies
        for page in pages:
            print(f"  {page.label}: {page.path}", flush=True)
            clients = [Client(server.port, cookies) for _ in range(args.clients)]
            concurrent(page, clients, min(args.duration, 3))  # warm: compile, cache, connect
            load, start = os.getloadavg()[0], CpuUse.now(workers)
            rps = concurrent(page, clients, args.duration)
            cpu = CpuUse.now(workers).since(start)
            for each in clients:
                each.close()
            time.sleep(0.5)  # gunicorn has written the page's last lines
            done = rps * args.duration
            # The page's latest lines, in the log's order: the warm-up's came before them.
            s50, s95 = percentile_pair([int(found[3]) / 1000 for found in map(
                ACCESS_LINE.match, FLOOR_ACCESS_LOG.read_text().splitlines())
                if found and found[6] == page.path][-round(done):])
            rows.append(f"| {page.label} | {rps:.0f} | {ms(s50)} | {ms(s95)} | "
                        f"{cpu['workers'] / done * 1000:.2f} | {cpu['database'] / done * 1000:.2f} | "
                        f"{cpu['machine'] / done * 1000:.2f} | {load:.2f} |")
            print(f"    {rps:.0f} req/s, server p95 {ms(s95)} ms", flush=True)
        workers_mb = [peak_memory_mb(pid) for pid in workers]
    lines = [
        f"- {args.clients} clients at once on one page, each its own keep-alive connection, for "
        f"{args.duration:g} s after {min(args.duration, 3):g} s of warm-up; {workers_text(args)}; "
        "the two floor pages are bench/floor.py's, served by the same workers as the intranet's",
        f"- Workers' peak memory {', '.join(f'{mb:.0f} MB' for mb in workers_mb)}",
        *machine_lines(args, cases),
    ]
    publish(args, "\n".join([heading(args, f"{workers_text(args)} · the stack's floor"), "", *rows, "",
                             *lines]) + "\n")


def spread_cases(url, agents):
    """Give the customer service unit's assigned cases to the agents in turn, as a busy morning
    has them (the demo gives them all to cs.agent)."""
    import sqlalchemy as sa

    db = engine(url)
    try:
        with db.begin() as conn:
            ids = conn.execute(sa.text(
                "SELECT id FROM staff_user WHERE username IN :names ORDER BY id").bindparams(
                sa.bindparam("names", expanding=True)), {"names": agents}).scalars().all()
            cases = conn.execute(sa.text(
                "SELECT c.id FROM feedback_case c JOIN unit u ON u.id = c.current_unit_id "
                "WHERE u.code = :unit AND c.status = 'assigned'"), {"unit": SERVICE_UNIT}
            ).scalars().all()
            for offset, holder in enumerate(ids):
                chunk = cases[offset::len(ids)]
                if chunk:
                    conn.execute(sa.text("UPDATE feedback_case SET assignee_id = :holder "
                                         "WHERE id IN :ids").bindparams(
                        sa.bindparam("ids", expanding=True)), {"holder": holder, "ids": chunk})
            # Written past the ORM: the counters are counted again, as the demo loader does.
            conn.execute(sa.text("DELETE FROM inbox_count"))
            conn.execute(sa.text(
                "INSERT INTO inbox_count (unit_id, status, holder_id, reply_wanted, due, count) "
                "SELECT current_unit_id, status, coalesce(assignee_id, 0), reply_wanted, "
                "effective_due_date, count(*) FROM feedback_case "
                "WHERE status IN ('new', 'assigned', 'answered') "
                "GROUP BY current_unit_id, status, coalesce(assignee_id, 0), reply_wanted, "
                "effective_due_date"))
    finally:
        db.dispose()


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgres"], required=True)
    parser.add_argument("--cases", type=int, required=True, help="cases in the database, e.g. 1000000")
    parser.add_argument("--reseed", action="store_true", help="drop the seeded database and build it again")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--worker-class", choices=["sync", "gthread"], default="sync",
                        help="gunicorn worker class; sync (the production command's) closes the "
                             "connection after every response, gthread keeps it alive")
    parser.add_argument("--threads", type=int, default=4, help="threads per gthread worker")
    parser.add_argument("--requests", type=int, default=300, help="sequential requests per page")
    parser.add_argument("--warmup", type=int, default=30, help="warm-up requests per page")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients for req/s")
    parser.add_argument("--duration", type=float, default=None,
                        help="seconds of the concurrent run per page (10), or of the measured mix (60)")
    parser.add_argument("--pages", default=",".join(PAGE_KEYS),
                        help="comma-separated pages to measure, of: " + ", ".join(PAGE_KEYS))
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432",
                        help="the PostgreSQL server, without a database name")
    parser.add_argument("--inbox-cache", choices=INBOX_CACHES, default="memory",
                        help="where the inbox keeps its cached counts and rows: memory (each "
                             "worker, the default), redis (shared; --redis-url) or none (every view "
                             "computed, as the first view after a change is)")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/1",
                        help="the Redis database for --inbox-cache redis")
    parser.add_argument("--no-record", action="store_true", help="print the table only, not to results.md")
    parser.add_argument("--no-metrics", action="store_true",
                        help="serve without /metrics and without deploy/gunicorn.conf.py's "
                             "multiprocess counting, to see what the metrics cost")
    parser.add_argument("--scrape-interval", type=float, default=15,
                        help="seconds between scrapes of /metrics during the run (Prometheus' "
                             "default is 60; 15 is common)")
    parser.add_argument("--floor", action="store_true",
                        help="what a signed-in page costs before it reads a case (bench/floor.py), "
                             "beside the unchanged inbox and the case page, at --clients at once")
    mix = parser.add_argument_group("the mixed run (--mix)")
    parser.add_argument("--reminders", action="store_true",
                        help="time one banking morning's reminders instead of the pages")
    parser.add_argument("--actions", action="store_true",
                        help="time the case actions one after another, not the pages")
    parser.add_argument("--action-cases", type=int, default=60,
                        help="answers (and forwards) in --actions")
    parser.add_argument("--action-warmup", type=int, default=4,
                        help="of each action in --actions, posted first and not counted")
    parser.add_argument("--exports", action="store_true",
                        help="a worker's memory and times over the inbox's exports, not the pages")
    mix.add_argument("--mix", action="store_true",
                     help=f"instead of page by page, {MIX_AGENTS} customer service agents and their team "
                          "lead at once, timed in gunicorn's access log and on the client")
    mix.add_argument("--warmup-seconds", type=float, default=5, help="of the mix, not counted")
    mix.add_argument("--change-rate", type=float, default=2,
                     help="changes per second (take, note, forward, answer) the agents make together")
    mix.add_argument("--export-every", type=float, default=15, help="seconds between CSV exports")
    mix.add_argument("--lead-pause", type=float, default=1, help="the team lead's pause between pages")
    mix.add_argument("--deeper", type=float, default=0.3,
                     help="chance that an agent follows the inbox page's Next link (again)")
    mix.add_argument("--search-share", type=float, default=0.15, help="chance of a search per agent turn")
    mix.add_argument("--my-cases-share", type=float, default=0.1,
                     help="chance of opening My cases per agent turn")
    mix.add_argument("--seed", type=int, default=18, help="of the agents' random choices")
    args = parser.parse_args()
    if args.duration is None:
        args.duration = 60 if args.mix else 10
    args.pages = [key.strip() for key in args.pages.split(",") if key.strip()]
    unknown = set(args.pages) - set(PAGE_KEYS)
    if unknown:
        parser.error(f"unknown pages: {', '.join(sorted(unknown))}")
    if args.requests < 20 or args.cases < 1 or args.workers < 1 or args.clients < 1:
        parser.error("--requests must be at least 20; --cases, --workers and --clients at least 1")
    return args


def main():
    import sqlalchemy.exc

    args = parse_args()
    args.load = os.getloadavg()[0]  # before seeding or serving: what else the machine was doing
    args.speed = python_speed()
    DATA.mkdir(exist_ok=True)
    database = SqliteDatabase(args) if args.db == "sqlite" else PostgresDatabase(args)
    try:
        cases = prepare(database, args)
    except sqlalchemy.exc.OperationalError as error:
        raise BenchError(f"Cannot use the database {database.url}: {error.orig}") from None
    if args.mix or args.reminders or args.exports or args.actions or args.floor:
        run = (run_mix if args.mix else run_morning if args.reminders
               else run_exports if args.exports else run_floor if args.floor else run_actions)
        try:
            run(args, database, cases)
        finally:
            database.drop_copy()
        return
    try:
        print("Choosing the case with the longest timeline", flush=True)
        targets = pick_targets(database.copy_url)
        pages = [page for page in build_pages(targets) if page.key in args.pages]
        print(f"Starting gunicorn ({workers_text(args)})", flush=True)
        with Server(args, database.copy_url) as server:
            workers = server.worker_pids()
            users = {page.user for page in pages if page.user}
            sessions = {user: log_in(server.port, user) for user in sorted(users)}
            print("Measuring", flush=True)
            results, pairs = measure(pages, sessions, server.port, args)
            if server.worker_pids() != workers:
                raise BenchError("A gunicorn worker was restarted during the run, so its peak memory "
                                 f"is lost:\n{server.log_tail()}")
            workers_mb = [peak_memory_mb(pid) for pid in workers]
            metrics = server.metrics_line()
    finally:
        database.drop_copy()
    record(args, cases, results, workers_mb, pairs, metrics)


def in_virtualenv():
    """Run under the project's virtualenv (SQLAlchemy, psycopg), whichever `python` started us."""
    python = VENV / "bin" / "python"
    if Path(sys.prefix).resolve() != VENV.resolve() and python.exists():
        os.execv(python, [str(python), str(Path(__file__).resolve()), *sys.argv[1:]])


if __name__ == "__main__":
    in_virtualenv()
    # A SIGTERM (a CI timeout, say) unwinds like Ctrl-C, so gunicorn and the copy are cleaned up.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        main()
    except BenchError as error:
        sys.exit(f"Benchmark stopped: {error}")
    except KeyboardInterrupt:
        sys.exit("Interrupted.")
