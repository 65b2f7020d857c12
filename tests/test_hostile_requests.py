"""Every form post without its CSRF token is refused with 400, before any view runs; markup
a customer typed comes back escaped."""

import uuid

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from feedback_intranet import create_app
from feedback_intranet.extensions import db
from feedback_intranet.models import Case, CaseStatus, Purpose, Unit
from feedback_intranet.replies.channels.email import email_content
from feedback_intranet.replies.channels.letter import letter_pdf

from .conftest import DEFAULT_NOW as NOW

SAMPLE_ARGS = {"reference": "FB-2026-000001", "action": "note", "unit_code": "helsinki-centre",
               "letter_id": 1, "task_id": 1, "row_id": 1, "user_id": 1, "unit_id": 1,
               "topic_id": 1, "rule_id": 1, "template_id": 1, "token": "x"}


@pytest.fixture
def strict_app(database_url, clock):
    return create_app({"CONFIG": "testing", "SQLALCHEMY_DATABASE_URI": database_url,
                       "WTF_CSRF_ENABLED": True, "CLOCK": clock})


def post_routes(app):
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if "POST" in rule.methods:
                yield rule.rule, rule.build({name: SAMPLE_ARGS[name] for name in rule.arguments},
                                            append_unknown=False)[1]


def test_every_post_route_refuses_a_request_without_the_token(strict_app, app, units, make_user):
    client = strict_app.test_client()
    routes = list(post_routes(strict_app))
    assert len(routes) >= 15
    for rule, path in routes:
        response = client.post(path, data={"text": "x", "username": "a", "password": "b"})
        assert response.status_code == 400, rule
        # The public form answers in Finnish, the customer's default.
        assert b"Bad request" in response.data or b"lang=\"fi\"" in response.data, rule


PAYLOAD = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'


def test_markup_typed_by_a_customer_comes_back_escaped_everywhere(client, login, units, make_user,
                                                                  make_case):
    staff = make_user("branch.staff", units=[units["helsinki"]])
    case = make_case(units["helsinki"], contact_name=PAYLOAD, message=f"Viesti {PAYLOAD}",
                     status=CaseStatus.ASSIGNED, assignee=staff)
    login("branch.staff")
    for path in ("/inbox/helsinki-centre", f"/cases/{case.reference}", "/my-cases",
                 f"/cases/search?q={case.reference}", "/cases/search?q=viesti"):
        page = client.get(path).get_data(as_text=True)
        assert "<script>alert(1)" not in page and "<img src=x" not in page, path
        if "search?q=viesti" not in path:
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page, path
    search = client.get("/cases/search", query_string={"q": PAYLOAD}).get_data(as_text=True)
    assert "<script>alert(1)" not in search


def test_logs_carry_no_personal_data(caplog):
    from feedback_intranet.logs import get_logger

    log = get_logger("feedback_intranet.test")
    with caplog.at_level("WARNING"):
        log.warning("Delivery failed: 550 <aino.asiakas@example.fi> unknown; card %s",
                    "4111 1111 1111 1111")
        try:
            raise ValueError("hetu 131052-308T in aino@example.fi")
        except ValueError:
            log.exception("Round failed")
    text = caplog.text
    assert "aino" not in text and "4111 1111" not in text and "131052-308T" not in text
    assert "[email]" in text and "Round failed" in text and "ValueError" in text


hostile_text = st.one_of(
    st.text(max_size=300),
    st.sampled_from(["' OR 1=1 --", "\x00\x00", "x" * 100_000, "🙂" * 500, "\ud800".encode(
        "utf-8", "surrogatepass").decode("latin-1"), "<script>", "%s%s%n", "${7*7}"]),
)
FIELDS = ("name", "street", "postal_code", "city", "phone", "email", "message", "topic",
          "segment", "case_type", "reply_wanted", "reply_channel", "language")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(field=st.sampled_from(FIELDS), value=hostile_text)
@example(field="reply_channel", value="\r")  # passed Optional() and reached the database
def test_any_value_in_any_public_form_field_is_an_answer_never_a_500(client, bank, field, value):
    from .test_intake import form

    before = db.session.scalar(sa.select(sa.func.count()).select_from(Case))
    # A fresh form token each time: a repeated one is a double submit, rightly one case.
    token = uuid.uuid4().hex
    response = client.post("/feedback", data=form(bank, submission_token=token, **{field: value}))
    assert response.status_code in (200, 302, 413), response.status_code
    after = db.session.scalar(sa.select(sa.func.count()).select_from(Case))
    # Either one whole case (masked and routed) or none at all.
    assert after - before == (1 if response.status_code == 302 else 0)
    if response.status_code == 302:
        case = db.session.scalar(sa.select(Case).order_by(Case.id.desc()).limit(1))
        assert case.current_unit_id and case.due_date and case.events
        assert "\x00" not in case.message and "\x00" not in case.contact_name


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=hostile_text, version=st.one_of(st.text(max_size=20), st.integers()))
def test_any_note_text_or_version_is_an_answer_never_a_500(client, login, units, make_user,
                                                           make_case, text, version):
    if not db.session.scalar(sa.select(sa.func.count()).select_from(Case)):
        make_user("branch.staff", units=[units["helsinki"]])
        make_case(units["helsinki"])
        login("branch.staff")
    case = db.session.scalar(sa.select(Case).limit(1))
    response = client.post(f"/cases/{case.reference}/note", data={"text": text, "version": version,
                                                                  "token": "t" * 32})
    assert response.status_code in (200, 302, 400, 413), response.status_code


def test_markup_is_escaped_in_html_emails_and_literal_in_text_and_letters(client, bank):
    from .test_intake import form
    from .test_replies import pdf_text

    name = "<b>Aino</b> & <i>Co</i>"
    response = client.post("/feedback", data=form(bank, name=name, message="Moi <script>x</script>"))
    assert response.status_code == 302
    case = db.session.scalar(sa.select(Case))
    with client.application.test_request_context():
        subject, text, html = email_content(case, Purpose.ANSWER, f"Hei {name}")
    assert "&lt;b&gt;Aino&lt;/b&gt; &amp; &lt;i&gt;Co&lt;/i&gt;" in html and "<b>Aino</b>" not in html
    assert name in text
    case = db.session.scalar(sa.select(Case))
    unit = db.session.get(Unit, case.current_unit_id)
    text = pdf_text(letter_pdf(case, unit, Purpose.ANSWER, "Vastaus <script>alert(1)</script>", NOW.date()))
    assert "<script>alert(1)</script>" in text and name in text


def test_unhandled_errors_are_logged_without_personal_data(app, caplog):
    with caplog.at_level("ERROR"):
        app.logger.error("Failed for aino@example.fi with card 4111 1111 1111 1111")
    assert "aino@" not in caplog.text and "4111 1111" not in caplog.text
