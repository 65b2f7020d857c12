"""The log as IT operations read it: with LOG_FORMAT=json one JSON object a line on standard
error, a line per request (its id, the user's id, the endpoint, the status, the duration) and
per worker round; the request id from a trusted proxy or new, on every response; no personal
data in any line, whatever carries it; and text that a developer reads."""

import json
import logging
import os
import re
import secrets
import signal
import subprocess
import threading
import urllib.error
import urllib.request
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from config import ConfigurationError
from feedback_intranet import create_app
from feedback_intranet.extensions import db
from feedback_intranet.logs import HANDLER, get_logger

from .conftest import free_port
from .test_config_and_cli import FLASK, GUNICORN, ROOT, config_read_again, listening, wait_until
from .test_intake import form

HEX_ID = re.compile(r"[0-9a-f]{32}")
UTC_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
# A Finnish identity code, a card number and an email address, as a customer might write them.
HETU, CARD, EMAIL = "131052-308T", "4111 1111 1111 1111", "aino.virtanen@example.fi"
SECRETS = (HETU, "131052", "4111 1111", "4111111111111111", "aino.virtanen", "virtanen%40")


@pytest.fixture
def make_app(app, database_url, clock):
    """An app of the test's own settings, on the test's transaction; `prepare` may add routes
    before its first request."""
    made = []

    def make(prepare=None, **settings):
        new = create_app({"CONFIG": "testing", "SQLALCHEMY_DATABASE_URI": database_url,
                          "CLOCK": clock, "LOG_FORMAT": "json", **settings})
        if prepare:
            prepare(new)
        made.append(new)
        return new

    yield make
    for new in made:
        with new.app_context():
            db.engine.dispose()


@pytest.fixture
def read_log(capfd):
    """The lines written to standard error since the last call, parsed (all must be JSON)."""
    capfd.readouterr()

    def read():
        return [json.loads(line) for line in capfd.readouterr().err.splitlines()]

    return read


def requests_written(capfd):
    """The request lines on standard error since the last look, in either format (a background
    thread of another test's app, such as the development outbox worker, may log beside them)."""
    return [line for line in capfd.readouterr().err.splitlines()
            if "feedback_intranet.requests" in line]


def request_lines(lines):
    return [line for line in lines if line["logger"] == "feedback_intranet.requests"]


def failing_routes(app):
    """Routes that write personal data where a careless view might: a message, an extra field,
    an exception's text."""
    log = get_logger("feedback_intranet.test_views")

    def tell():
        log.warning("Customer %s paid with %s, wrote from %s", HETU, CARD, EMAIL,
                    extra={"note": f"{HETU} {CARD} {EMAIL}", "tried": [CARD],
                           "card": 4111111111111111, "logger": "forged"})
        return "told"

    def fail():
        raise RuntimeError(f"No customer {HETU} ({EMAIL}) for card {CARD}")

    app.add_url_rule("/tell", "tell", tell)
    app.add_url_rule("/fail", "fail", fail)


def test_a_request_is_one_json_line_with_its_fields(make_app, read_log):
    client = make_app().test_client()
    before = datetime.now(UTC).replace(microsecond=0)
    response = client.get("/login", buffered=True)
    after = datetime.now(UTC)
    (line,) = read_log()
    assert response.status_code == 200
    assert list(line) == ["time", "level", "logger", "message", "request_id", "user_id", "method",
                          "endpoint", "path", "status", "duration_ms"]
    assert UTC_TIME.fullmatch(line["time"])
    assert before <= datetime.strptime(line["time"], "%Y-%m-%dT%H:%M:%S.%f%z") <= after
    assert (line["level"], line["logger"], line["user_id"], line["method"], line["endpoint"],
            line["path"], line["status"]) == (
        "INFO", "feedback_intranet.requests", None, "GET", "auth.login", "/login", 200)
    assert HEX_ID.fullmatch(line["request_id"]) and line["request_id"] == response.headers[
        "X-Request-ID"]
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert line["message"] == f"GET /login 200 {line['duration_ms']:.1f} ms"


def test_the_line_names_the_user_by_id_after_login_and_the_endpoint_not_the_url(
        make_app, read_log, units, make_user, make_case):
    staff = make_user("branch.staff", units=[units["helsinki"]])
    case = make_case(units["helsinki"])
    client = make_app().test_client()
    client.get("/login", buffered=True)
    client.post("/login", data={"username": "branch.staff", "password": "correct horse battery"},
                buffered=True)
    client.get(f"/cases/{case.reference}", buffered=True)
    client.post("/logout", buffered=True)
    page, login, case_page, logout = read_log()
    assert page["user_id"] is None
    # The login itself is the user's first request under their id; logging out is the last.
    assert login["user_id"] == case_page["user_id"] == staff.id and logout["user_id"] is None
    assert (case_page["endpoint"], case_page["path"]) == ("cases.show", f"/cases/{case.reference}")
    assert "branch.staff" not in json.dumps([page, login, case_page, logout])


def test_a_trusted_proxys_request_id_is_used_and_returned(make_app, read_log):
    client = make_app(TRUSTED_PROXIES=1).test_client()
    for given in ("lb-7f3a.01:2", "x" * 128):
        response = client.get("/login", headers={"X-Request-ID": given}, buffered=True)
        (line,) = read_log()
        assert response.headers["X-Request-ID"] == line["request_id"] == given


def test_without_a_trusted_proxy_the_header_is_ignored(make_app, read_log):
    client = make_app(TRUSTED_PROXIES=0).test_client()
    response = client.get("/login", headers={"X-Request-ID": "chosen-by-the-client"},
                          buffered=True)
    (line,) = read_log()
    assert HEX_ID.fullmatch(line["request_id"])
    assert response.headers["X-Request-ID"] == line["request_id"] != "chosen-by-the-client"


@pytest.mark.parametrize("given", [
    "abc\ninjected", "abc\r\n{\"level\": \"INFO\"}", "x" * 129, 'quoted"id', "it's", "a b",
    "tab\tid", "älä", "id;rm", "", "<script>",
])
@pytest.mark.parametrize("log_format", ["json", "text"])
def test_a_malformed_request_id_is_replaced_so_no_line_can_be_forged(
        make_app, capfd, given, log_format):
    client = make_app(TRUSTED_PROXIES=1, LOG_FORMAT=log_format).test_client()
    capfd.readouterr()
    response = client.get("/login", environ_overrides={"HTTP_X_REQUEST_ID": given},
                          buffered=True)
    (written,) = requests_written(capfd)
    generated = response.headers["X-Request-ID"]
    assert HEX_ID.fullmatch(generated) and generated in written
    if given:
        assert given not in written


def test_writing_the_line_reads_nothing_from_the_database(
        make_app, read_log, units, make_user, make_case):
    """The case page commits (its audit row) before the line is made: reading the user's own
    attributes for the line would load the user again, a statement no page count shows."""
    make_user("branch.staff", units=[units["helsinki"]])
    case = make_case(units["helsinki"])
    client = make_app(COUNT_QUERIES=True).test_client()
    client.post("/login", data={"username": "branch.staff", "password": "correct horse battery"})
    page, executed, thread = f"/cases/{case.reference}", [], threading.get_ident()

    def count(*_args):
        if threading.get_ident() == thread:
            executed.append(1)

    # On every engine: the test's requests run on the connection the test's transaction holds.
    sa.event.listen(sa.engine.Engine, "before_cursor_execute", count)
    try:
        response = client.get(page, buffered=True)
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", count)
    (*_login, line) = request_lines(read_log())
    assert response.status_code == 200 and line["endpoint"] == "cases.show"
    assert line["user_id"] is not None
    assert len(executed) == int(response.headers["X-Query-Count"])


def test_every_response_carries_the_id_of_its_line(make_app, read_log, bank):
    client = make_app(failing_routes, PROPAGATE_EXCEPTIONS=False, FEEDBACK_RATE_LIMIT="1 per minute",
                      WTF_CSRF_ENABLED=True).test_client()
    responses = [
        client.get("/no-such-page", buffered=True),
        client.get("/fail", buffered=True),
        client.post("/login", data={"username": "a", "password": "b"}, buffered=True),  # no token
        client.get("/static/css/app.css", buffered=True),
    ]
    csrf_free = make_app(FEEDBACK_RATE_LIMIT="1 per minute").test_client()
    responses += [csrf_free.post("/feedback", data=form(bank, submission_token=token),
                                 buffered=True) for token in ("first", "second")]
    lines = read_log()
    assert [r.status_code for r in responses] == [404, 500, 400, 200, 302, 429]
    by_id = {line["request_id"]: line for line in request_lines(lines)}
    for response in responses:
        line = by_id[response.headers["X-Request-ID"]]
        assert line["status"] == response.status_code
    assert [by_id[r.headers["X-Request-ID"]]["endpoint"] for r in responses] == [
        None, "fail", "auth.login", "static", "intake.feedback", "intake.feedback"]


def test_a_failure_shows_its_request_id_and_its_traceback_carries_it(make_app, read_log):
    client = make_app(failing_routes, PROPAGATE_EXCEPTIONS=False).test_client()
    response = client.get("/fail", buffered=True)
    failure, line = read_log()
    request_id = response.headers["X-Request-ID"]
    assert response.status_code == 500
    assert f"If you contact support, give them this code: {request_id}" in response.get_data(
        as_text=True)
    assert (failure["level"], failure["logger"], failure["request_id"]) == (
        "ERROR", "feedback_intranet", request_id)
    assert "RuntimeError: No customer" in failure["exception"]
    assert line["request_id"] == request_id and line["status"] == 500


def test_a_streamed_export_is_logged_once_its_rows_are_sent(
        make_app, read_log, units, make_user, make_case):
    make_user("branch.staff", units=[units["helsinki"]])
    for _ in range(3):
        make_case(units["helsinki"])
    client = make_app().test_client()
    client.post("/login", data={"username": "branch.staff", "password": "correct horse battery"},
                buffered=True)
    read_log()
    response = client.get("/inbox/helsinki-centre/export.csv")
    body = iter(response.response)
    first = next(body)
    assert read_log() == [], "logged before the rows were sent"
    rows = first + b"".join(body)
    assert rows.count(b"FB-2026-") == 3 and read_log() == []
    response.close()
    (line,) = read_log()
    assert (line["endpoint"], line["status"]) == ("inboxes.export", 200)
    assert line["request_id"] == response.headers["X-Request-ID"]


def test_probes_are_logged_at_debug_only_when_they_succeed(make_app, read_log):
    client = make_app().test_client()
    assert client.get("/healthz", buffered=True).status_code == 200
    # Without METRICS_TOKEN there are no metrics to scrape: a refusal is a line like any other.
    assert client.get("/metrics", buffered=True).status_code == 404
    assert [(line["path"], line["status"]) for line in read_log()] == [("/metrics", 404)]
    client = make_app(LOG_LEVEL="DEBUG").test_client()
    client.get("/healthz", buffered=True)
    (line,) = read_log()
    assert (line["endpoint"], line["level"]) == ("monitoring.healthz", "DEBUG")


def test_a_worker_round_is_a_json_line_without_a_request_id(make_app, read_log):
    app = make_app()
    result = app.test_cli_runner().invoke(args=["outbox", "send"])
    assert result.exit_code == 0, result.output
    (line,) = read_log()
    assert (line["logger"], line["job"], line["outcome"], line["request_id"]) == (
        "feedback_intranet.monitoring.rounds", "outbox", {}, None)
    assert isinstance(line["duration_ms"], float)
    assert line["message"].startswith("Round of outbox finished in ")
    # The log is the process's standard error, not the command's output.
    assert "Round of outbox" not in result.output


@pytest.mark.parametrize("log_format", ["json", "text"])
def test_no_line_carries_personal_data_wherever_it_was_written(make_app, capfd, log_format):
    client = make_app(failing_routes, LOG_FORMAT=log_format,
                      PROPAGATE_EXCEPTIONS=False).test_client()
    capfd.readouterr()
    client.get("/tell", buffered=True)
    client.get("/fail", buffered=True)
    client.get("/login", query_string={"next": f"/cases/search?q={HETU}", "email": EMAIL,
                                       CARD: "card"}, buffered=True)
    client.get(f"/cases/search/{EMAIL}/{CARD}", buffered=True)
    written = capfd.readouterr().err
    for secret in SECRETS:
        assert secret not in written
    assert "[email]" in written and "RuntimeError" in written and "/login?next=*&email=*" in written
    if log_format == "json":
        told = next(json.loads(line) for line in written.splitlines()
                    if '"feedback_intranet.test_views"' in line)
        assert told["note"] == "[identity code removed] [card number …1111 removed] [email]"
        assert told["tried"] == ["[card number …1111 removed]"]
        assert told["card"] == "[card number …1111 removed]"
        assert told["logger"] == "feedback_intranet.test_views"


def test_text_is_one_readable_line_per_request(make_app, capfd, units, make_user):
    user = make_user("branch.staff", units=[units["helsinki"]])
    client = make_app(LOG_FORMAT="text").test_client()
    client.post("/login", data={"username": "branch.staff", "password": "correct horse battery"},
                buffered=True)
    capfd.readouterr()
    client.get("/cases/search?q=Virtanen", buffered=True)
    client.get("/no-such%0Apage", buffered=True)
    search, missing = requests_written(capfd)
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO feedback_intranet\.requests: "
        rf"GET /cases/search\?q=\* 200 \d+\.\d ms rid=[0-9a-f]{{32}} user={user.id}", search)
    # A line break in the address stays on the line, written out.
    assert "GET /no-such\\npage 404 " in missing and missing.endswith(f"user={user.id}")


def test_one_handler_however_often_the_app_is_built(make_app, caplog):
    for log_format in ("text", "json", "text"):
        app = make_app(LOG_FORMAT=log_format)
    for name in ("feedback_intranet", "werkzeug"):
        assert logging.getLogger(name).handlers == [HANDLER]
    assert app.logger.handlers == [HANDLER] and app.logger.level == logging.INFO
    with caplog.at_level("WARNING"):
        create_app({"CONFIG": "production", "SECRET_KEY": "k" * 32,
                    "RATELIMIT_STORAGE_URI": "memory://"})
    assert caplog.text.count("the login limits are per worker") == 1
    assert logging.getLogger("feedback_intranet").handlers == [HANDLER]


@pytest.mark.parametrize(("setting", "value"), [
    ("LOG_FORMAT", "xml"), ("LOG_FORMAT", ""), ("LOG_LEVEL", "verbose"), ("LOG_LEVEL", "10"),
])
def test_an_unknown_log_format_or_level_is_refused(setting, value):
    with pytest.raises(ConfigurationError, match=setting) as refusal:
        create_app({"CONFIG": "development", setting: value})
    assert "\n" not in str(refusal.value)


def test_production_logs_json_and_development_text_from_info_on(monkeypatch):
    for name in ("LOG_FORMAT", "LOG_LEVEL"):
        monkeypatch.delenv(name, raising=False)
    defaults = config_read_again()
    assert defaults.ProductionConfig.LOG_FORMAT == "json"
    assert defaults.DevelopmentConfig.LOG_FORMAT == defaults.TestingConfig.LOG_FORMAT == "text"
    assert defaults.Config.LOG_LEVEL == "INFO"
    monkeypatch.setenv("LOG_FORMAT", " JSON ")
    monkeypatch.setenv("LOG_LEVEL", "debug")
    app = create_app({"CONFIG": config_read_again().DevelopmentConfig})
    assert (app.config["LOG_FORMAT"], app.config["LOG_LEVEL"]) == ("json", "DEBUG")


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@pytest.mark.committed  # gunicorn and flask processes of their own
def test_gunicorn_writes_nothing_but_json_lines(tmp_path):
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("FLASK_", "LOG_")) and key not in {"SECRET_KEY", "DATABASE_URL"}}
    env.update(FLASK_CONFIG="production", SECRET_KEY=secrets.token_hex(32), LOG_FORMAT="json",
               TRUSTED_PROXIES="1", DATABASE_URL=f"sqlite:///{tmp_path / 'feedback.sqlite'}")
    migrated = subprocess.run([FLASK, "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=300)
    assert migrated.returncode == 0, migrated.stderr
    port = free_port()
    server = subprocess.Popen(
        [GUNICORN, "--bind", f"127.0.0.1:{port}", "--workers", "2",
         "--logger-class", "feedback_intranet.gunicorn_logs.Logger", "wsgi:app"],
        cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True)
    site = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: listening(port) or server.poll() is not None)

        browser = urllib.request.build_opener(NoRedirects)

        def get(path, **headers):
            try:
                with browser.open(urllib.request.Request(site + path, headers=headers)) as answer:
                    answer.read()
                    return answer.headers["X-Request-ID"]
            except urllib.error.HTTPError as error:
                return error.headers["X-Request-ID"]

        ids = [get("/login", **{"X-Request-ID": "lb-1"}), get(f"/cases/search?q={HETU}"),
               get("/static/css/app.css"), get(f"/no-such-page/{EMAIL}")]
    finally:
        server.send_signal(signal.SIGTERM)
        _, stderr = server.communicate(timeout=60)
    lines = [json.loads(line) for line in stderr.splitlines()]
    assert ids[0] == "lb-1" and all(ids)
    requests = {line["request_id"]: line for line in request_lines(lines)}
    assert [(requests[i]["path"], requests[i]["status"]) for i in ids] == [
        ("/login", 200), ("/cases/search?q=*", 302), ("/static/css/app.css", 200),
        ("/no-such-page/[email]", 404)]
    messages = " ".join(line["message"] for line in lines if line["logger"] == "gunicorn.error")
    assert "Starting gunicorn" in messages and "Booting worker" in messages
    assert "Shutting down" in messages
    assert all(UTC_TIME.fullmatch(line["time"]) for line in lines)
    assert HETU not in stderr and EMAIL not in stderr
