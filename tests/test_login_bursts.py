"""Logins stay throttled when attempts come all at once: a real server (gunicorn, two worker
processes) with the shared Redis store and the production limits, on PostgreSQL, hit by threads
that a barrier starts together.

Every checked password leaves one audit row (a login, or a failed login that is not the throttle's
429), so the rows count the password checks exactly.
"""

import http.client
import os
import re
import secrets
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from config import ProductionConfig
from feedback_intranet.extensions import db
from feedback_intranet.models import AuditEvent, AuditKind, User

from .conftest import PASSWORD, free_port

ROOT = Path(__file__).resolve().parent.parent
# Redis database 7 (or TEST_REDIS_URL's) is these tests' own: it is emptied before every burst.
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/7")
# The production defaults, which the server below runs with.
PER_USERNAME = 5
LOCKOUT_FAILURES = 10
# Settings a developer's shell might carry that would change what is measured.
UNSET = ("LOGIN_LIMIT_PER_USERNAME", "LOGIN_LIMIT_PER_ADDRESS", "LOCKOUT_FAILURES",
         "LOCKOUT_MINUTES", "RATELIMIT_KEY_PREFIX", "TRUSTED_PROXIES", "ARGON2_TIME_COST",
         "ARGON2_MEMORY_COST", "ARGON2_PARALLELISM")

pytestmark = [
    pytest.mark.skipif(not (os.environ.get("TEST_DATABASE_URL") or "").startswith("postgresql"),
                       reason="parallel logins are proved on PostgreSQL"),
    # gunicorn's workers read the users the tests commit.
    pytest.mark.committed,
]


@pytest.fixture(scope="module")
def server(_schema, database_url, tmp_path_factory):
    """gunicorn in production configuration; yields its port."""
    port = free_port()
    env = {key: value for key, value in os.environ.items() if key not in UNSET}
    env.update(FLASK_CONFIG="production", SECRET_KEY=secrets.token_hex(32),
               DATABASE_URL=database_url, RATELIMIT_STORAGE_URI=REDIS_URL)
    log = tmp_path_factory.mktemp("gunicorn") / "server.log"
    # Threads in each worker, so that many attempts are inside the app at the same moment.
    command = [sys.executable, "-m", "gunicorn", "--workers", "2", "--threads", "8",
               "--bind", f"127.0.0.1:{port}", "wsgi:app"]
    with open(log, "w") as output:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output,
                                   stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if Visitor(port).get("/login")[0] == 200:
                    break
            except OSError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture
def redis_store():
    import redis

    store = redis.Redis.from_url(REDIS_URL)
    store.flushdb()
    yield store
    store.close()


@pytest.fixture
def staff(make_user):
    """A user whose password hash has the production cost, so a check takes as long as there."""
    user = make_user("branch.staff")
    user.password_hash = PasswordHasher(
        time_cost=ProductionConfig.ARGON2_TIME_COST, memory_cost=ProductionConfig.ARGON2_MEMORY_COST,
        parallelism=ProductionConfig.ARGON2_PARALLELISM).hash(PASSWORD)
    db.session.commit()
    return user


class Visitor:
    """One browser: its own cookies, plain HTTP to the server."""

    def __init__(self, port):
        self.port = port
        self.cookies = {}

    def request(self, method, path, form=None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {"Accept-Language": "en"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, path, body, headers)
            response = connection.getresponse()
            text = response.read().decode()
            for cookie in response.headers.get_all("Set-Cookie") or ():
                name, _, rest = cookie.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
            return response.status, text
        finally:
            connection.close()

    def get(self, path):
        return self.request("GET", path)

    def open_login_page(self):
        status, page = self.get("/login")
        assert status == 200
        self.csrf_token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)[1]

    def log_in(self, username, password):
        return self.request("POST", "/login", {"csrf_token": self.csrf_token,
                                               "username": username, "password": password})[0]


def burst(port, passwords):
    """Each password from a visitor of its own, all posted at the same moment; their statuses."""
    visitors = [Visitor(port) for _ in passwords]
    for visitor in visitors:
        visitor.open_login_page()
    start = threading.Barrier(len(passwords))
    statuses = [None] * len(passwords)

    def attempt(number):
        start.wait(timeout=30)
        statuses[number] = visitors[number].log_in("branch.staff", passwords[number])

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(len(passwords))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert None not in statuses
    return statuses


def checked_passwords(user, after_id=0):
    """Audit rows that stand for a checked password, newer than `after_id`: kind -> count."""
    db.session.expire_all()
    events = db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.user_id == user.id, AuditEvent.id > after_id)).all()
    checked = [e.kind for e in events
               if e.kind == AuditKind.LOGIN
               or (e.kind == AuditKind.LOGIN_FAILED and e.facts.get("reason") in (None, "locked"))]
    return {kind: checked.count(kind) for kind in (AuditKind.LOGIN, AuditKind.LOGIN_FAILED)}


def last_audit_id():
    return db.session.scalar(sa.select(sa.func.max(AuditEvent.id))) or 0


def test_forty_attempts_at_once_get_no_more_than_five_wrong_passwords_checked(
        server, redis_store, staff):
    passwords = [f"guess number {n}" for n in range(39)]
    passwords.insert(17, PASSWORD)
    statuses = burst(server, passwords)

    assert set(statuses) <= {200, 302, 429}
    wrong_checked = sum(status == 200 for status in statuses)
    logged_in = statuses.count(302)
    # The attempt with the right password is the only one that can log in.
    assert logged_in == (statuses[17] == 302)
    assert statuses.count(429) == len(passwords) - wrong_checked - logged_in
    # Every answer that was not a 429 checked one password, and the audit log has each.
    assert checked_passwords(staff) == {AuditKind.LOGIN: logged_in,
                                        AuditKind.LOGIN_FAILED: wrong_checked}
    # A success gives its slot back, so only failed attempts are limited.
    assert PER_USERNAME - 1 <= wrong_checked <= PER_USERNAME


def test_once_the_lockout_is_recorded_the_right_password_in_the_same_burst_gets_no_session(
        server, redis_store, staff):
    """Bursts against an account one failure from the lockout, with the right password among
    wrong ones: either the right password came first (and reset the count), or it is refused.

    A successful login resets the failure count, so the order matters: a login and a lockout
    in the same burst means a session was issued on an account that had been locked.
    """
    passwords = ["wrong password"] * (PER_USERNAME - 1) + [PASSWORD]
    refused_after_lock = 0
    for round_number in range(30):
        db.session.execute(sa.update(User).where(User.id == staff.id).values(
            failed_logins=LOCKOUT_FAILURES - 1, locked_until=None))
        db.session.commit()
        redis_store.flushdb()
        before = last_audit_id()

        statuses = burst(server, passwords)

        assert 429 not in statuses
        locked = db.session.scalar(sa.select(sa.func.count()).where(
            AuditEvent.kind == AuditKind.LOCKED, AuditEvent.id > before))
        logged_in = statuses[-1] == 302
        assert not (locked and logged_in), f"a session was issued after the lockout (round {round_number})"
        if locked:
            refused_after_lock += 1
            db.session.expire_all()
            assert db.session.get(User, staff.id).locked_until is not None
        # One lockout at most, and every password of the burst was checked once.
        assert locked <= 1
        assert checked_passwords(staff, before) == {AuditKind.LOGIN: int(logged_in),
                                                    AuditKind.LOGIN_FAILED: len(passwords) - logged_in}
    assert refused_after_lock >= 3
