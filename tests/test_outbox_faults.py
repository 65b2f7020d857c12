"""The outbox against a mail server that misbehaves on purpose.

A retry never leaves a message "sending"; a message the server accepted (250 to DATA) is never
sent again; the real reason of a failure is recorded; an email that can never be written fails at
once; an address the customer's mail server refused gets no more email; only the messages of a
worker that died wait, for one lease.
"""

import asyncio
import collections
import contextlib
import email
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from email.header import decode_header, make_header
from pathlib import Path

import pytest
import sqlalchemy as sa

from feedback_intranet import create_app
from feedback_intranet.extensions import db
from feedback_intranet.models import (
    Answer,
    AnswerStatus,
    CallbackTask,
    CaseStatus,
    OutboxMessage,
    UnitKind,
)
from feedback_intranet.outbox import claim, deliver_due, enqueue, run_forever

from .conftest import free_port, running_smtp_server
from .test_case_pages import post_action
from .test_intake import form, only_case
from .test_replies import NOW, answer

ROOT = Path(__file__).resolve().parent.parent
ON_POSTGRESQL = (os.environ.get("TEST_DATABASE_URL") or "").startswith("postgresql")
needs_postgresql = pytest.mark.skipif(not ON_POSTGRESQL, reason="several workers need PostgreSQL")


class MisbehavingServer:
    """An aiosmtpd handler following a fixed schedule: for each recipient, what happens on each of
    its attempts (counted at RCPT TO). Attempts past the schedule go through."""

    REPLIES = {"451 at RCPT": "451 4.3.0 Try again later", "421 at RCPT": "421 4.7.0 Shutting down",
               "550 at RCPT": "550 5.1.1 User unknown",
               "554 relaying denied at RCPT": "554 5.7.1 Relaying denied"}
    SLOW_SECONDS = 0.15

    def __init__(self):
        self.schedule = {}
        self.attempts = collections.Counter()
        self.kept = []  # every message the server kept, copies included
        self.lock = threading.Lock()
        self.on_data = None
        self.holding, self.release = threading.Event(), threading.Event()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self.lock:
            attempt = self.attempts[address]
            self.attempts[address] += 1
        steps = self.schedule.get(address, ())
        session.step = step = steps[attempt] if attempt < len(steps) else "ok"
        if step == "hold":  # the worker waits for the reply until the test lets go
            self.holding.set()
            while not self.release.is_set():
                await asyncio.sleep(0.02)
        if step == "drop at RCPT":
            server.transport.abort()
        if step in self.REPLIES:
            return self.REPLIES[step]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.on_data:
            self.on_data()
        if session.step == "451 after DATA":
            return "451 4.3.0 Try again later"
        if session.step == "550 after DATA":
            return "550 5.7.1 Message refused"
        if session.step == "slow":
            await asyncio.sleep(self.SLOW_SECONDS)
        with self.lock:
            self.kept.append(email.message_from_bytes(envelope.content))
        if session.step == "drop after DATA":  # the server has the message; the worker never hears
            server.transport.abort()
        return "250 OK"

    async def handle_QUIT(self, server, session, envelope):
        if getattr(session, "step", "") == "drop at QUIT":
            server.transport.abort()
        return "221 Bye"

    def copies(self):
        with self.lock:
            return collections.Counter(m["Message-ID"] for m in self.kept)


@contextlib.contextmanager
def misbehaving_server():
    handler = MisbehavingServer()
    with running_smtp_server(handler):
        try:
            yield handler
        finally:
            handler.release.set()


@pytest.fixture
def smtp_server():
    """Overrides conftest's: conftest's `mail_app` and `run_worker` then talk to this one."""
    with misbehaving_server() as handler:
        yield handler


@pytest.fixture
def server(smtp_server):
    return smtp_server


@pytest.fixture
def case(make_unit, make_user, make_case, clock):
    clock.set(NOW)
    unit = make_unit(code="cs", name="Customer service", kind=UnitKind.CUSTOMER_SERVICE)
    agent = make_user("cs.agent", units=[unit])
    case = make_case(unit, received_at=NOW, status=CaseStatus.ASSIGNED, assignee=agent,
                     contact_name="Åsa Lindqvist")
    case.contact_phone = "+358401234567"
    db.session.commit()
    return case


def outbox():
    db.session.expire_all()
    return db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)).all()


def queue(*recipients, now=NOW):
    for n, recipient in enumerate(recipients):
        enqueue(kind="notification", recipient=recipient, subject=f"Case {n}", body_text="Hello.",
                now=now)
    db.session.commit()


def header(value):
    return str(make_header(decode_header(value)))


def channel_input(page, channel):
    return re.search(rf'<input[^>]*value="{channel}"[^>]*>', page).group(0)


# Never stalls


def test_a_retry_that_comes_due_while_the_worker_is_busy_is_not_left_sending(
    data, server, run_worker, clock
):
    # The server takes a minute a message: the first one's retry (60 s) comes due in the round.
    server.schedule = {"first@bank.example": ["451 after DATA"]}
    server.on_data = lambda: clock.advance(timedelta(seconds=61))
    queue("first@bank.example", "second@bank.example")
    assert run_worker() == {"queued": 1, "sent": 1}
    first = outbox()[0]
    assert (first.status, first.claimed_by) == ("queued", None)
    assert run_worker() == {"sent": 1}  # the next round sends it, not one after a lease
    assert sorted(server.copies().values()) == [1, 1]


def test_a_message_whose_handling_failed_unexpectedly_is_queued_again_at_once(
    data, server, run_worker, clock, monkeypatch
):
    from feedback_intranet import outbox as worker

    real, calls = worker._transmit, []

    def broken_once(*args):
        calls.append(args)
        if len(calls) == 1:
            raise RuntimeError("a bug")
        return real(*args)

    monkeypatch.setattr(worker, "_transmit", broken_once)
    queue("staff@bank.example")
    assert run_worker() == {}
    [message] = outbox()
    assert (message.status, message.claimed_by, message.attempts) == ("queued", None, 1)
    clock.advance(timedelta(seconds=60))
    assert run_worker() == {"sent": 1}


def test_only_the_messages_of_a_worker_that_died_wait_for_its_lease(
    data, mail_app, server, run_worker, clock, caplog
):
    queue("one@bank.example", "two@bank.example")
    with mail_app.app_context():
        claimed = claim("host:4242:dead", NOW)  # and the worker dies
        db.session.remove()
    assert run_worker() == {}
    clock.advance(timedelta(seconds=mail_app.config["OUTBOX_LEASE_SECONDS"] + 1))
    with caplog.at_level("WARNING"):
        assert run_worker() == {"sent": 2}
    assert [f"Outbox message {n} is queued again: the lease of worker host:4242:dead ran out"
            for n in claimed] == [r.getMessage() for r in caplog.records if "queued again" in r.msg]


# Sent once


def test_a_message_the_server_accepted_is_sent_even_when_the_connection_drops_at_quit(
    case, login, client, server, run_worker, clock
):
    server.schedule = {"aino@example.fi": ["drop at QUIT"]}
    login("cs.agent")
    answer(client, case, body="Vastaus.")
    assert run_worker() == {"sent": 1}
    clock.advance(timedelta(days=1))
    assert run_worker() == {}
    assert list(server.copies().values()) == [1]
    [message] = outbox()
    assert (message.status, message.attempts, message.last_error) == ("sent", 1, "")
    assert case.status == CaseStatus.ANSWERED


@pytest.mark.parametrize(("step", "reason"), [
    ("421 at RCPT", "421 4.7.0 Shutting down (at RCPT TO)"),
    ("451 after DATA", "451 4.3.0 Try again later (at DATA)"),
    ("drop at RCPT", "the connection to the mail server broke at RCPT TO: SMTPServerDisconnected"),
    ("drop after DATA", "the connection to the mail server broke at DATA: SMTPServerDisconnected"),
])
def test_a_temporary_failure_records_its_real_reason(data, server, run_worker, step, reason):
    server.schedule = {"staff@bank.example": [step]}
    queue("staff@bank.example")
    assert run_worker() == {"queued": 1}
    [message] = outbox()
    assert message.last_error.startswith(reason)


def test_without_a_mail_server_the_reason_says_so(data, mail_app, run_worker):
    mail_app.extensions["mail"].port = free_port()  # nothing listens there
    queue("staff@bank.example")
    assert run_worker() == {"queued": 1}
    assert outbox()[0].last_error.startswith(
        "no connection to the mail server: ConnectionRefusedError")


# Never sendable


def test_an_email_that_cannot_be_written_fails_at_once_and_flags_the_case(
    case, login, client, server, run_worker
):
    case.current_unit.name = "Customer service\nBcc: everyone@example.com"  # saved before the fix
    db.session.commit()
    login("cs.agent")
    answer(client, case, body="Vastaus.")
    assert run_worker() == {"failed": 1}
    [message] = outbox()
    assert message.attempts == 1
    assert message.last_error.startswith("the email cannot be written: BadHeaderError")
    assert db.session.scalar(sa.select(Answer.status)) == AnswerStatus.FAILED
    assert case.delivery_problem.startswith("Email could not be delivered: the email cannot be")
    assert "Not delivered." in client.get(f"/cases/{case.reference}").get_data(as_text=True)
    assert server.kept == []


def test_an_address_that_cannot_be_encoded_fails_at_once(data, server, run_worker):
    queue("staff@" + "ä" * 64 + ".fi")  # a domain label longer than IDNA allows
    assert run_worker() == {"failed": 1}
    [message] = outbox()
    assert message.attempts == 1 and "UnicodeError" in message.last_error


def test_a_comma_in_the_units_name_keeps_the_senders_address(case, login, client, server,
                                                            run_worker):
    case.current_unit.name = "Turku, Åbo"
    db.session.commit()
    login("cs.agent")
    answer(client, case, body="Vastaus.")
    assert run_worker() == {"sent": 1}
    assert header(server.kept[0]["From"]) == "Turku, Åbo <feedback@bank.example>"


# A refused address


@pytest.mark.parametrize(("steps", "refused"), [
    (["550 at RCPT"], True),
    (["550 after DATA"], False),  # about the message, not the address
    (["554 relaying denied at RCPT"] * 6, False),  # the bank's relay, not the address
    (["451 at RCPT"] * 6, False),  # given up after temporary failures
])
def test_only_an_address_the_customers_server_refused_stops_email_answers(
    case, login, client, server, run_worker, clock, steps, refused
):
    server.schedule = {"aino@example.fi": steps}
    login("cs.agent")
    answer(client, case, body="Vastaus.")
    for _ in steps:
        run_worker()
        clock.advance(timedelta(days=1))
    assert [m.status for m in outbox()] == ["failed"]
    assert case.email_refused == ("aino@example.fi" if refused else "")
    page = client.get(f"/cases/{case.reference}").get_data(as_text=True)
    assert ("disabled" in channel_input(page, "email")) is refused
    assert ("checked" in channel_input(page, "email")) is not refused


def test_after_the_address_was_refused_email_waits_for_a_corrected_one(
    case, login, client, server, run_worker
):
    server.schedule = {"aino@example.fi": ["550 at RCPT"]}
    login("cs.agent")
    answer(client, case, body="Vastaus.")
    assert run_worker() == {"failed": 1}
    page = client.get(f"/cases/{case.reference}").get_data(as_text=True)
    assert "mail server refused this address; correct the email in the contact details" in page
    assert "checked" in channel_input(page, "phone")

    refused = answer(client, case, body="Toinen vastaus.").get_data(as_text=True)
    assert "This case cannot be answered by email: the customer" in refused
    post_action(client, case, "interim_notice", estimate="2026-12-04",
                text="Päätös viimeistään 4.12.2026.")
    assert len(outbox()) == 1  # the notice goes by phone instead
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CallbackTask)) == 1

    page = client.get(f"/cases/{case.reference}/correct").get_data(as_text=True)
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', page).group(1)
    version = re.search(r'name="version" type="hidden" value="([^"]+)"', page).group(1)
    client.post(f"/cases/{case.reference}/correct", data={
        "contact_name": "Åsa Lindqvist", "contact_phone": "+358401234567",
        "contact_email": "asa@example.fi", "topic_id": str(case.topic_id),
        "case_type": "feedback", "segment": "private", "version": version, "token": token})
    answer(client, case, body="Kolmas vastaus.")
    assert [m.recipient for m in outbox()] == ["aino@example.fi", "asa@example.fi"]


def test_a_confirmation_that_cannot_be_delivered_flags_the_case(client, bank, server, run_worker):
    server.schedule = {"aino.virtanen@example.fi": ["550 at RCPT"]}
    client.post("/feedback", data=form(bank))
    assert run_worker() == {"failed": 1}
    case = only_case()
    assert case.delivery_problem.startswith("Confirmation email could not be delivered: 550 5.1.1")
    assert case.events[-1].kind == "delivery_failed"
    assert case.email_refused == "aino.virtanen@example.fi"


# The worker's manners


@pytest.mark.committed  # the worker runs in a thread with its own connection
@needs_postgresql
def test_the_worker_holds_no_transaction_while_it_sleeps(data, server, database_url, clock):
    worker_app = create_app({
        "CONFIG": "testing", "SQLALCHEMY_DATABASE_URI": f"{database_url}?application_name=sleeper",
        "CLOCK": clock, "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": server.port,
        "MAIL_SUPPRESS_SEND": False,
    })
    queue("staff@bank.example")

    class Stop(threading.Event):
        sleeping = threading.Event()

        def wait(self, timeout=None):
            self.sleeping.set()
            return super().wait(timeout)

    def work():
        with worker_app.app_context():
            run_forever(60, stop)
            db.engine.dispose()

    stop = Stop()
    thread = threading.Thread(target=work)
    thread.start()
    try:
        assert stop.sleeping.wait(30), "the worker never finished its round"
        states = db.session.scalars(sa.text(
            "SELECT state FROM pg_stat_activity WHERE application_name = 'sleeper'")).all()
        db.session.commit()
    finally:
        stop.set()
        thread.join(30)
    assert states and "idle in transaction" not in states
    assert len(server.kept) == 1


@pytest.mark.committed  # worker processes read the database
def test_in_development_the_worker_prints_no_email(data, server, database_url, capfd):
    development = create_app({
        "CONFIG": "development", "SQLALCHEMY_DATABASE_URI": database_url,
        "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": server.port,
    })
    with development.app_context():
        enqueue(kind="answer", recipient="aino@example.fi", subject="Vastaus",
                body_text="Kortti on avattu.", now=datetime.now(UTC))
        db.session.commit()
        assert deliver_due() == {"sent": 1}
        db.session.remove()
        db.engine.dispose()
    printed = "".join(capfd.readouterr())
    assert "aino@example.fi" not in printed and "Kortti" not in printed


# Two worker processes, 200 messages, a misbehaving server


MESSAGES = 200
LEASE_SECONDS = 4
MAX_ATTEMPTS = 6
TEMPORARY = ["451 at RCPT", "421 at RCPT", "drop at RCPT", "451 after DATA"]
LAST = ["ok"] * 8 + ["slow", "drop at QUIT"]


def fault_schedule(recipients, seed=15):
    """For each recipient: some temporary failures (a third of them), maybe a drop after DATA
    (a copy the server keeps), then success, sometimes slow or dropped at QUIT."""
    rng = random.Random(seed)
    schedule = {}
    for recipient in recipients:
        failing = rng.choices(TEMPORARY, k=rng.randint(1, 3)) if rng.random() < 0.33 else []
        if rng.random() < 0.1:
            failing.append("drop after DATA")
        rng.shuffle(failing)
        assert len(failing) < MAX_ATTEMPTS
        schedule[recipient] = [*failing, rng.choice(LAST)]
    return schedule


def wait_until(condition, seconds, what):
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} within {seconds} s")
        time.sleep(0.1)


class Workers:
    """`flask outbox send --loop` processes, as production runs them."""

    def __init__(self, database_url, port, logs):
        self.env = {**os.environ, "FLASK_CONFIG": "testing", "DATABASE_URL": database_url,
                    "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(port), "MAIL_SUPPRESS_SEND": "0",
                    "OUTBOX_LEASE_SECONDS": str(LEASE_SECONDS), "OUTBOX_BACKOFF_SECONDS": "0.05",
                    "OUTBOX_MAX_ATTEMPTS": str(MAX_ATTEMPTS), "PYTHONUNBUFFERED": "1"}
        self.logs, self.processes = logs, {}

    def start(self, count):
        for n in range(count):
            log = open(self.logs / f"worker-{n}.log", "w")  # noqa: SIM115 (closed in stop)
            process = subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", "wsgi", "outbox", "send", "--loop",
                 "--interval", "0.2"], cwd=ROOT, env=self.env, stdout=log, stderr=log)
            self.processes[process.pid] = (process, log)

    def kill(self, pid):
        process, _log = self.processes[pid]
        process.send_signal(signal.SIGKILL)
        process.wait(10)

    def stop(self):
        for process, log in self.processes.values():
            if process.poll() is None:
                process.terminate()
                process.wait(10)
            log.close()

    def log_of(self, pid):
        return Path(self.processes[pid][1].name).read_text()

    def requeued(self, pid):
        return [int(n) for n in re.findall(r"Outbox message (\d+) is queued again", self.log_of(pid))]


@contextlib.contextmanager
def two_workers(database_url, port, logs):
    workers = Workers(database_url, port, logs)
    try:
        workers.start(2)
        yield workers
    finally:
        workers.stop()


def queue_messages(server):
    recipients = [f"customer{n:03}@example.fi" for n in range(MESSAGES)]
    server.schedule = fault_schedule(recipients)
    queue(*recipients, now=datetime.now(UTC) - timedelta(seconds=1))
    return {m.recipient: m.message_id for m in outbox()}


def count(status):
    found = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)
                              .where(OutboxMessage.status == status))
    db.session.commit()
    return found


def predicted_copies(server, message_ids):
    return {message_ids[r]: 1 + steps.count("drop after DATA") for r, steps in server.schedule.items()}


def figures(server, seconds, requeued):
    steps = collections.Counter(s for steps in server.schedule.values() for s in steps)
    return (f"{MESSAGES} messages, 2 workers, {sum(steps[s] for s in TEMPORARY)} temporary failures "
            f"({', '.join(f'{steps[s]} {s}' for s in TEMPORARY)}), {steps['drop after DATA']} drops "
            f"after DATA, {steps['drop at QUIT']} drops at QUIT, {steps['slow']} slow replies: "
            f"{sum(server.copies().values()) - MESSAGES} copies, {requeued} waited on a lease, "
            f"{seconds:.1f} s")


@pytest.mark.committed  # worker processes read the database
@needs_postgresql
def test_two_workers_deliver_through_a_misbehaving_server_with_only_the_predicted_copies(
    data, server, database_url, tmp_path
):
    message_ids = queue_messages(server)
    started = time.monotonic()
    with two_workers(database_url, server.port, tmp_path) as workers:
        wait_until(lambda: count("sent") == MESSAGES, 60, "all 200 messages were not sent")
        seconds = time.monotonic() - started
    assert count("failed") == 0
    assert server.copies() == predicted_copies(server, message_ids)
    assert server.attempts == {r: len(steps) for r, steps in server.schedule.items()}
    assert [workers.requeued(pid) for pid in workers.processes] == [[], []]  # none waited on a lease
    print(figures(server, seconds, 0))


@pytest.mark.committed  # worker processes read the database
@needs_postgresql
def test_a_killed_worker_leaves_only_its_claimed_messages_for_one_lease(
    data, server, database_url, tmp_path
):
    message_ids = queue_messages(server)
    victim = "customer120@example.fi"
    server.schedule[victim] = ["hold"]  # the worker sending it is killed mid-conversation
    started = time.monotonic()
    with two_workers(database_url, server.port, tmp_path) as workers:
        wait_until(server.holding.is_set, 60, f"no worker reached {victim}")
        claimed_by = db.session.scalar(sa.select(OutboxMessage.claimed_by)
                                       .where(OutboxMessage.recipient == victim))
        dead = int(claimed_by.split(":")[-2])
        workers.kill(dead)
        waiting = set(db.session.scalars(sa.select(OutboxMessage.id).where(
            OutboxMessage.claimed_by == claimed_by, OutboxMessage.status == "sending")))
        db.session.commit()
        server.release.set()
        wait_until(lambda: count("sent") == MESSAGES, 60, "all 200 messages were not sent")
        seconds = time.monotonic() - started
        [survivor] = set(workers.processes) - {dead}
        requeued = workers.requeued(survivor)
    assert 1 < len(waiting) <= 20 and sorted(requeued) == sorted(waiting)  # one batch
    assert server.copies() == predicted_copies(server, message_ids)
    assert server.attempts[victim] == 2
    print(figures(server, seconds, len(requeued)))


@pytest.mark.committed  # the worker process reads the database
def test_a_worker_stopped_by_its_service_finishes_the_email_being_sent_and_hands_back_the_rest(
    data, server, database_url, tmp_path
):
    """systemd stops the email worker with SIGTERM: the message the mail server is taking is
    recorded as sent (never sent again), the rest of the worker's claim is queued again at once
    with no attempt counted, and the process ends cleanly."""
    recipients = [f"customer{n}@example.fi" for n in range(5)]
    server.schedule = {recipients[0]: ["hold"]}
    queue(*recipients, now=datetime.now(UTC) - timedelta(seconds=1))
    workers = Workers(database_url, server.port, tmp_path)
    try:
        workers.start(1)
        (pid,) = workers.processes
        wait_until(server.holding.is_set, 60, "the worker did not reach the first message")
        process, _log = workers.processes[pid]
        process.send_signal(signal.SIGTERM)
        server.release.set()
        assert process.wait(30) == 0
    finally:
        workers.stop()

    first, *rest = outbox()
    assert (first.recipient, first.status, first.attempts) == (recipients[0], "sent", 1)
    assert [(m.status, m.attempts, m.claimed_by) for m in rest] == [("queued", 0, None)] * 4
    assert server.copies() == {first.message_id: 1}
    assert "Stopping (SIGTERM) once the message being sent is done" in workers.log_of(pid)
    assert workers.log_of(pid).rstrip().endswith("Stopped.")


def test_a_message_that_can_never_be_handled_fails_after_its_attempts_and_flags_its_case(
    data, case, server, run_worker, clock, monkeypatch, login, client
):
    """A bug that breaks one message every time (here in composing it): retried with the usual
    backoff, then failed like any undeliverable email, not queued again forever."""
    from feedback_intranet import outbox as worker

    login("cs.agent")
    assert answer(client, case, body="Vastaus.", final="y").status_code == 302

    def broken(message):
        raise RuntimeError("a bug")

    monkeypatch.setattr(worker, "_compose", broken)
    attempts = data.config["OUTBOX_MAX_ATTEMPTS"]
    for attempt in range(1, attempts + 1):
        assert run_worker() == {}
        [message] = outbox()
        assert message.attempts == attempt
        clock.advance(timedelta(seconds=data.config["OUTBOX_BACKOFF_SECONDS"] * 2 ** attempt))
    assert (message.status, message.last_error) == (
        "failed", f"gave up after {attempts} attempts (the worker could not handle it (see its "
        "log))")
    assert run_worker() == {}  # and it stays failed
    db.session.expire_all()
    assert case.events[-1].kind == "delivery_failed"
