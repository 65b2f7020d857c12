"""The operations team's Prometheus scrape: GET /metrics behind a bearer token, requests by
endpoint name, what the database says read in a fixed number of statements, failed logins and
lockouts, and a real gunicorn whose workers' counts add up whichever of them is asked."""

import gc
import re
import secrets
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from feedback_intranet import clock as app_clock
from feedback_intranet import create_app
from feedback_intranet.extensions import db, limiter
from feedback_intranet.inboxes import counters
from feedback_intranet.models import (
    AuditEvent,
    CaseStatus,
    Heartbeat,
    InboundMail,
    InboundOutcome,
    OutboxKind,
    OutboxMessage,
    OutboxStatus,
)
from feedback_intranet.monitoring import rounds
from feedback_intranet.rules.banking_days import BankingCalendar

from .conftest import DEFAULT_NOW, PASSWORD, free_port

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "a-token-for-the-tests-" + "x" * 20
# Statements one scrape runs, whatever the data: outbox, heartbeats, units, inbound mail.
SCRAPE_STATEMENTS = 4


def metrics_app(database_url, clock, **settings):
    """An app with /metrics on; in the test's transaction like the shared app."""
    return create_app({"CONFIG": "testing", "SQLALCHEMY_DATABASE_URI": database_url,
                       "CLOCK": clock, "METRICS_TOKEN": TOKEN, **settings})


@pytest.fixture
def scraped(data, database_url, clock):
    app = metrics_app(database_url, clock)
    yield app
    with app.app_context():
        db.engine.dispose()


def scrape(client, token=TOKEN):
    response = client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.get_data(as_text=True)
    return Exposition(response.get_data(as_text=True))


class Exposition:
    """A scrape, parsed: each sample's value by its name and labels."""

    def __init__(self, text):
        self.text = text
        self.families = list(text_string_to_metric_families(text))
        self.samples = {(sample.name, frozenset(sample.labels.items())): sample.value
                        for family in self.families for sample in family.samples}

    def value(self, name, **labels):
        """The sample's value; None when there is no such sample."""
        return self.samples.get((name, frozenset(labels.items())))

    def labelled(self, name):
        """{its label's value: the sample's value} of a metric with one label."""
        return {label_value: value for (sample, labels), value in self.samples.items()
                if sample == name for _label, label_value in labels}

    def label_values(self):
        return {value for (_name, labels) in self.samples for _label, value in labels}


def audit_rows():
    return db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))


# --- The endpoint and its token --------------------------------------------------------------


def test_without_a_token_set_there_is_no_metrics_endpoint(client, data):
    before = audit_rows()

    answers = [client.get("/metrics"),
               client.get("/metrics", headers={"Authorization": "Bearer "}),
               client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})]

    assert [answer.status_code for answer in answers] == [404, 404, 404]
    assert audit_rows() == before


@pytest.mark.parametrize("header", [
    None, "", "Bearer", "Bearer ", "Bearer wrong", f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}",
    f"Basic {TOKEN}", TOKEN, f"Token {TOKEN}",
])
def test_a_missing_or_wrong_token_is_refused_with_401(scraped, header):
    client = scraped.test_client()
    before = audit_rows()

    response = client.get("/metrics", headers={} if header is None else {"Authorization": header})

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert "feedback_" not in response.get_data(as_text=True)
    assert "Set-Cookie" not in response.headers
    assert audit_rows() == before


@pytest.fixture
def default_rate_limit():
    """A default limit on every route, which RATELIMIT_DEFAULT sets on the one limiter object
    every app shares: what it changes there is put back after the test."""
    saved = dict(vars(limiter)), dict(vars(limiter.limit_manager))
    yield "2 per minute"
    vars(limiter).update(saved[0])
    vars(limiter.limit_manager).update(saved[1])


def test_the_right_token_gets_the_metrics_without_login_cookie_audit_or_rate_limit(
        data, database_url, clock, default_rate_limit):
    app = metrics_app(database_url, clock, RATELIMIT_DEFAULT=default_rate_limit)
    client = app.test_client()
    before = audit_rows()
    try:
        answers = [client.get("/metrics", headers={"Authorization": f"bearer {TOKEN}"})
                   for _ in range(5)]
        written = audit_rows() - before
        # The default limit holds elsewhere: the scrape is exempt, not the limiter missing.
        others = [client.get("/login").status_code for _ in range(3)]
    finally:
        with app.app_context():
            db.engine.dispose()

    assert [answer.status_code for answer in answers] == [200] * 5
    assert others[-1] == 429
    assert written == 0
    response = answers[-1]
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    assert "Set-Cookie" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"
    exposition = Exposition(response.get_data(as_text=True))
    assert exposition.value("feedback_http_requests_total", endpoint="metrics", method="GET",
                            status="200") >= 4
    assert exposition.value("feedback_ready", check="database") == 1


# --- Requests --------------------------------------------------------------------------------


def test_requests_count_under_their_endpoint_name_never_their_address(
        scraped, make_unit, make_user, make_case):
    cs = make_unit(code="cs")
    make_user("cs.agent", units=[cs])
    cases = [make_case(cs), make_case(cs)]
    client = scraped.test_client()
    client.post("/login", data={"username": "cs.agent", "password": PASSWORD})
    before = scrape(client)

    for case in cases:
        assert client.get(f"/cases/{case.reference}").status_code == 200
    assert client.get(f"/no-such-page/{cases[0].reference}").status_code == 404
    assert client.open("/login", method="PROPFIND").status_code == 405
    after = scrape(client)

    def grew(name, **labels):
        return (after.value(name, **labels) or 0) - (before.value(name, **labels) or 0)

    assert grew("feedback_http_requests_total", endpoint="cases.show", method="GET",
                status="200") == 2
    assert grew("feedback_http_request_duration_seconds_count", endpoint="cases.show",
                method="GET") == 2
    assert grew("feedback_http_request_duration_seconds_bucket", endpoint="cases.show",
                method="GET", le="+Inf") == 2
    assert grew("feedback_http_requests_total", endpoint="unmatched", method="GET",
                status="404") == 1
    assert grew("feedback_http_requests_total", endpoint="unmatched", method="other",
                status="405") == 1
    labels = after.label_values()
    assert not any(case.reference in value for case in cases for value in labels)
    assert not any("/" in value or "PROPFIND" in value for value in labels)


# --- What the database says ------------------------------------------------------------------


def outbox_message(status, created_at, number):
    return OutboxMessage(kind=OutboxKind.ANSWER, recipient="aino@example.fi",
                         sender="feedback@bank.example", subject="Answer", body_text="Hello",
                         message_id=f"<m{number}@bank.example>", status=status,
                         next_attempt_at=created_at, created_at=created_at)


def inbound_mail(outcome, processed_at, uid):
    return InboundMail(mailbox="INBOX", uidvalidity=1, uid=uid, sha256=f"{uid:064x}",
                       processed_at=processed_at, outcome=outcome)


def test_the_database_figures_are_read_at_the_scrape(scraped, make_unit, make_user, make_case,
                                                     clock):
    now = DEFAULT_NOW
    long_ago = now - timedelta(days=10)
    cs, helsinki = make_unit(code="cs"), make_unit(code="helsinki-centre")
    make_unit(code="turku")
    make_unit(code="closed-down", active=False)
    agent = make_user("cs.agent", units=[cs])
    make_case(cs)  # new: open and unassigned
    make_case(cs, status=CaseStatus.ASSIGNED, assignee=agent, received_at=long_ago)  # overdue
    make_case(cs, status=CaseStatus.ASSIGNED, assignee=agent)
    make_case(cs, reply_wanted=False, received_at=long_ago)  # unassigned, awaits no answer
    make_case(cs, status=CaseStatus.CLOSED, received_at=long_ago)
    make_case(helsinki, received_at=long_ago)  # open, overdue, unassigned
    db.session.add_all([
        outbox_message(OutboxStatus.QUEUED, now - timedelta(minutes=20), 1),
        outbox_message(OutboxStatus.QUEUED, now - timedelta(minutes=5), 2),
        outbox_message(OutboxStatus.SENDING, now - timedelta(minutes=1), 3),
        outbox_message(OutboxStatus.FAILED, now - timedelta(days=2), 4),
        outbox_message(OutboxStatus.SENT, now - timedelta(days=3), 5),
        inbound_mail(InboundOutcome.THREADED, now - timedelta(hours=1), 1),
        inbound_mail(InboundOutcome.QUARANTINED, now - timedelta(hours=2), 2),
        inbound_mail(InboundOutcome.QUARANTINED, now - timedelta(hours=25), 3),
        Heartbeat(job=rounds.RETENTION, worker="host:1", finished_at=now - timedelta(hours=5),
                  seconds=2.5),
    ])
    db.session.commit()
    clock.advance(timedelta(seconds=30))
    rounds.finished(rounds.OUTBOX, rounds.started())

    exposition = scrape(scraped.test_client())

    assert exposition.labelled("feedback_outbox_messages") == {
        "queued": 2, "sending": 1, "failed": 1}
    # The oldest queued one, from the app's clock.
    assert exposition.value("feedback_outbox_oldest_unsent_age_seconds") == 20 * 60 + 30
    assert exposition.value("feedback_job_last_round_timestamp_seconds",
                            background_job="outbox") == (now + timedelta(seconds=30)).timestamp()
    assert exposition.value("feedback_job_last_round_timestamp_seconds",
                            background_job="retention") == (now - timedelta(hours=5)).timestamp()
    assert exposition.value("feedback_job_last_round_duration_seconds",
                            background_job="retention") == 2.5
    assert exposition.value("feedback_job_last_round_timestamp_seconds",
                            background_job="reminders") is None
    assert exposition.labelled("feedback_cases_open") == {
        "cs": 3, "helsinki-centre": 1, "turku": 0}
    assert exposition.labelled("feedback_cases_overdue") == {
        "cs": 1, "helsinki-centre": 1, "turku": 0}
    assert exposition.labelled("feedback_cases_unassigned") == {
        "cs": 2, "helsinki-centre": 1, "turku": 0}
    assert exposition.labelled("feedback_inbound_mails_last_24h") == {
        "threaded": 1, "quarantined": 1, "new_feedback": 0, "automatic_reply": 0, "bounce": 0}
    # The inbox's own filters, as its tabs count them.
    today = app_clock.today()
    next_bd = BankingCalendar().add_banking_days(today, 1)
    for unit in (cs, helsinki):
        shown, _held = counters.unit_counts(unit.id, today, next_bd)
        for name in ("open", "overdue", "unassigned"):
            assert exposition.value(f"feedback_cases_{name}", unit=unit.code) == shown[name]


def test_a_unit_closed_down_with_cases_still_left_is_reported(scraped, make_unit, make_case):
    unit = make_unit(code="old-branch")
    make_case(unit)
    unit.active = False
    db.session.commit()

    assert scrape(scraped.test_client()).value("feedback_cases_open", unit="old-branch") == 1


def test_a_scrape_runs_the_same_few_statements_whatever_the_data(scraped, make_unit, make_user,
                                                                 make_case):
    client = scraped.test_client()
    headers = {"Authorization": f"Bearer {TOKEN}"}
    empty = client.get("/metrics", headers=headers)
    units = [make_unit() for _ in range(6)]
    agent = make_user("agent", units=units)
    for number, unit in enumerate(units):
        make_case(unit)
        make_case(unit, status=CaseStatus.ASSIGNED, assignee=agent,
                  received_at=DEFAULT_NOW - timedelta(days=number + 5))
        db.session.add_all([outbox_message(OutboxStatus.QUEUED, DEFAULT_NOW, number),
                            inbound_mail(InboundOutcome.NEW_FEEDBACK, DEFAULT_NOW, number)])
    db.session.add_all([Heartbeat(job=job, finished_at=DEFAULT_NOW) for job in rounds.JOBS])
    db.session.commit()

    full = client.get("/metrics", headers=headers)

    assert full.status_code == empty.status_code == 200
    assert full.headers["X-Query-Count"] == empty.headers["X-Query-Count"] == str(
        SCRAPE_STATEMENTS)
    assert len(Exposition(full.get_data(as_text=True)).labelled("feedback_cases_open")) == 6


def test_a_database_that_cannot_be_reached_leaves_readiness_and_the_requests(clock):
    url = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/test"
    app = create_app({"CONFIG": "testing", "SQLALCHEMY_DATABASE_URI": url, "CLOCK": clock,
                      "METRICS_TOKEN": TOKEN})

    exposition = scrape(app.test_client())

    assert exposition.value("feedback_ready", check="database") == 0
    assert exposition.value("feedback_ready", check="schema") == 0
    assert not exposition.labelled("feedback_outbox_messages")
    assert "feedback_http_request_duration_seconds" in {f.name for f in exposition.families}


# --- Failed logins and lockouts ----------------------------------------------------------------


def test_failed_logins_and_lockouts_are_counted_by_reason(data, database_url, clock, make_user):
    make_user("anna")
    app = metrics_app(database_url, clock, LOCKOUT_FAILURES=3,
                      LOGIN_LIMIT_PER_USERNAME="4 per minute")
    client = app.test_client()
    try:
        before = scrape(client)
        answers = [client.post("/login", data={"username": username, "password": "wrong"})
                   for username in ["anna"] * 4 + ["nobody"] + ["anna"]]
        after = scrape(client)
    finally:
        with app.app_context():
            db.engine.dispose()

    def grew(name, **labels):
        return (after.value(name, **labels) or 0) - (before.value(name, **labels) or 0)

    # Three wrong passwords lock anna's account; the fourth finds it locked; a username nobody
    # has is a wrong password too; her fifth attempt is over the throttle's limit.
    assert [answer.status_code for answer in answers] == [200] * 5 + [429]
    assert grew("feedback_login_failures_total", reason="password") == 4
    assert grew("feedback_login_failures_total", reason="locked") == 1
    assert grew("feedback_login_failures_total", reason="throttled") == 1
    assert grew("feedback_account_lockouts_total") == 1


# --- The alert rules name what is exposed ------------------------------------------------------


def test_the_alert_rules_use_only_metrics_the_intranet_exposes(scraped):
    families = {family.name for family in scrape(scraped.test_client()).families}
    rules = (ROOT / "deploy" / "prometheus" / "alerts.yml").read_text()

    used = set(re.findall(r"\bfeedback_[a-z0-9_]+", rules))

    assert used
    # A counter's family is named without its _total.
    assert {name for name in used if name.removesuffix("_total") not in families} == set()


def test_garbage_collections_are_timed_by_generation(scraped):
    client = scraped.test_client()
    before = scrape(client)
    full = before.value("feedback_gc_pause_seconds_count", generation="2") or 0
    took = before.value("feedback_gc_pause_seconds_sum", generation="2") or 0
    gc.collect()
    after = scrape(client)
    assert after.value("feedback_gc_pause_seconds_count", generation="2") >= full + 1
    assert after.value("feedback_gc_pause_seconds_sum", generation="2") > took
    assert after.value("feedback_gc_pause_seconds_count", generation="0") > 0


def test_a_collection_that_starts_while_a_count_is_written_is_timed_without_waiting(tmp_path):
    """A collection may start at any allocation, also while a worker writes a count under the
    metrics' lock (one for the whole process in gunicorn's multiprocess mode): its timing must
    not wait for that lock, which the same thread holds. In a process of its own, as a worker."""
    script = f"""
import gc, os
os.environ["PROMETHEUS_MULTIPROC_DIR"] = {str(tmp_path)!r}
from prometheus_client import mmap_dict
from feedback_intranet.monitoring import metrics
gc.callbacks.append(metrics._time_collection)
write = mmap_dict.MmapedDict.write_value
def write_and_collect(self, *args):
    write(self, *args)
    gc.collect()  # under the lock, as an allocation there may start one
mmap_dict.MmapedDict.write_value = write_and_collect
metrics.LOCKOUTS.inc()
mmap_dict.MmapedDict.write_value = write
metrics._count_collections()
print(metrics.GC_PAUSES.labels("2")._sum.get() > 0)
"""
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True"


# --- Several gunicorn workers ----------------------------------------------------------------


class Stalled:
    """A connection whose request is begun but not finished: the gunicorn worker that accepted
    it waits on it, so other connections go to the other worker."""

    def __init__(self, port, path, headers=None):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode())
        self.headers = headers or {}

    def finish(self):
        lines = "".join(f"{name}: {value}\r\n" for name, value in self.headers.items())
        self.sock.sendall(f"{lines}Connection: close\r\n\r\n".encode())
        data = b""
        while chunk := self.sock.recv(65536):
            data += chunk
        self.sock.close()
        head, _blank, body = data.partition(b"\r\n\r\n")
        return int(head.split()[1]), body.decode()


def get(port, path, headers=None):
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def logins_counted(text):
    return Exposition(text).value("feedback_http_requests_total", endpoint="auth.login",
                                  method="GET", status="200")


def test_gunicorns_settings_make_a_metrics_directory_that_is_not_there_yet(tmp_path):
    """gunicorn reads its settings, then imports the app's package for their logger class: the
    package's counters need the directory by then."""
    metrics_dir = tmp_path / "not-yet" / "metrics"
    subprocess.run([sys.executable, "-c", (
        "import runpy; runpy.run_path('deploy/gunicorn.conf.py'); "
        "import feedback_intranet.gunicorn_logs")],
        cwd=ROOT, env={"PATH": "/usr/bin:/bin", "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)},
        check=True)
    assert metrics_dir.is_dir()


@pytest.mark.committed
def test_two_gunicorn_workers_report_the_same_totals_whichever_is_scraped(
        app, database_url, tmp_path):
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    env = {"PATH": "/usr/bin:/bin", "FLASK_CONFIG": "production",
           "SECRET_KEY": secrets.token_hex(32), "DATABASE_URL": database_url,
           "METRICS_TOKEN": TOKEN, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
           "GUNICORN_ACCESS_LOG": ""}
    # Counts left by an earlier run: gunicorn.conf.py empties the directory at start.
    subprocess.run([sys.executable, "-c", (
        "from feedback_intranet.monitoring.metrics import REQUESTS\n"
        "REQUESTS.labels('auth.login', 'GET', '200').inc(1000)")],
        cwd=ROOT, env=env, check=True)
    assert list(metrics_dir.glob("counter_*.db"))
    port = free_port()
    log = tmp_path / "gunicorn.log"
    with open(log, "w") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "--workers", "2",
             "--bind", f"127.0.0.1:{port}", "wsgi:app"],
            cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if get(port, "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        # One worker waits on a begun request; the other serves ten logins; then the first
        # serves the begun one, and both take turns for twenty more.
        waiting = Stalled(port, "/login")
        first = [get(port, "/login")[0] for _ in range(10)]
        assert waiting.finish()[0] == 200
        rest = [get(port, "/login")[0] for _ in range(20)]
        assert first + rest == [200] * 30
        # Scraped from each worker: one while the other waits on a begun scrape, then that one.
        waiting = Stalled(port, "/metrics", auth)
        status, one = get(port, "/metrics", auth)
        other_status, other = waiting.finish()
    finally:
        server.terminate()
        server.wait(timeout=30)

    assert status == other_status == 200, log.read_text()
    assert logins_counted(one) == logins_counted(other) == 31
    # Each worker kept its own files; the scrape added them up.
    workers = {path.stem.rpartition("_")[2] for path in metrics_dir.glob("counter_*.db")}
    assert len(workers) >= 2
    for text in (one, other):
        assert Exposition(text).value("feedback_http_request_duration_seconds_count",
                                      endpoint="auth.login", method="GET") == 31
