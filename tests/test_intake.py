"""The public feedback form and staff registration: rules, masking, matching and routing."""

import logging
import os
import re

import pytest
import sqlalchemy as sa

from config import Config
from feedback_intranet.extensions import db
from feedback_intranet.models import (
    Case,
    CaseEvent,
    MatchMethod,
    OutboxMessage,
    RoutingRule,
    Segment,
)

from .conftest import said
from .test_case_pages import post_action

IBAN = "FI21 1234 5600 0007 85"
HETU = "131052-308T"
CARD = "4111 1111 1111 1111"


def form(bank, **changes):
    data = {
        "name": "Aino Virtanen", "street": "Bulevardi 1", "postal_code": "00120",
        "city": "Helsinki", "phone": "040 123 4567", "email": "aino.virtanen@example.fi",
        "segment": "private", "topic": str(bank["topics"]["branch"].id), "case_type": "complaint",
        "message": "Konttorin jono oli tunnin mittainen.", "reply_wanted": "yes",
        "reply_channel": "email", "language": "fi", "submission_token": "token-1",
    }
    data.update(changes)
    if data.get("submission_token"):
        data["submission_token"] = data["submission_token"].ljust(16, "x")  # the token's shape
    return {key: value for key, value in data.items() if value is not None}


def only_case():
    cases = db.session.scalars(sa.select(Case)).all()
    assert len(cases) == 1
    return cases[0]


def count_cases():
    return db.session.scalar(sa.select(sa.func.count()).select_from(Case))


def test_the_form_shows_the_warnings_and_service_hours(client, bank):
    page = " ".join(client.get("/feedback").get_data(as_text=True).split())
    assert "do not write account numbers, personal identity codes" in page
    assert "encrypted messages in the netbank" in page
    assert ("Private customers: call customer service on "
            '<a href="tel:+35810247010" class="phone">010 247 010</a>, weekdays '
            '<span class="hours">8–20</span>.') in page
    assert ("Business customers: call business customer service on "
            '<a href="tel:+358102476700" class="phone">010 247 6700</a>, weekdays '
            '<span class="hours">8–18</span>.') in page
    assert 'name="website"' in page


def test_a_customer_gets_a_reference_and_the_promised_date(client, bank, clock):
    response = client.post("/feedback", data=form(bank))
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    case = only_case()
    assert re.fullmatch(r"FB-2026-\d{6}", case.reference)
    assert case.reference in page
    # Received Wednesday 25 November 2026: due Monday 30 November.
    assert "30.11.2026" in page
    assert case.status == "new" and case.current_unit.code == "cs"
    assert case.contact_phone == "+358401234567"
    assert case.contact_email == "aino.virtanen@example.fi"
    assert case.case_type == "complaint" and case.reply_channel == "email"
    assert [e.kind for e in case.events] == ["received"]


def test_the_case_appears_at_once_in_the_customer_service_inbox(client, bank, make_user, login):
    make_user("cs.agent", units=[bank["units"]["cs"]])
    client.post("/feedback", data=form(bank))
    login("cs.agent")
    inbox = client.get("/inbox/cs").get_data(as_text=True)
    assert only_case().reference in inbox
    assert "due in 3 banking days" in inbox


@pytest.mark.parametrize("missing", ["name", "street", "postal_code", "city", "phone", "email"])
def test_an_answer_needs_all_four_contact_details(client, bank, missing):
    response = client.post("/feedback", data=form(bank, **{missing: ""}))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert re.search(rf'id="{missing}-error">Required when you want an answer.', page)
    assert count_cases() == 0


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"email": "aino@"}, "email", "Check the email address"),
        ({"phone": "12"}, "phone", "Check the phone number"),
        ({"postal_code": "0012"}, "postal_code", "A Finnish postal code has five digits"),
        ({"postal_code": "00 120"}, "postal_code", "A Finnish postal code has five digits"),
        ({"message": ""}, "message", "Write your feedback."),
        ({"message": "   \n  "}, "message", "Write your feedback."),
        ({"message": "x" * 5001}, "message", "Keep it under 5000 characters."),
        ({"reply_channel": None}, "reply_channel", "Choose how you want the answer."),
        ({"reply_channel": "fax"}, "reply_channel", "Not a valid choice"),
        ({"topic": "99999"}, "topic", "Choose a topic."),
        ({"topic": "cards"}, "topic", "Choose a topic."),
        ({"topic": ""}, "topic", "Choose a topic."),
        ({"topic": None}, "topic", "Choose a topic."),
        ({"segment": "martian"}, "segment", "Not a valid choice"),
    ],
)
def test_each_rule_answers_at_its_field_and_keeps_what_was_typed(client, bank, changes, field,
                                                                 message):
    response = client.post("/feedback", data=form(bank, **changes))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert re.search(rf'id="{field}-error">[^<]*{re.escape(message)}', page), page
    assert 'value="Bulevardi 1"' in page and 'value="Aino Virtanen"' in page
    assert count_cases() == 0


def test_the_message_comes_back_after_an_error(client, bank):
    page = client.post("/feedback", data=form(bank, email="bad")).get_data(as_text=True)
    assert "Konttorin jono oli tunnin mittainen.</textarea>" in page


def test_without_an_answer_contact_details_are_optional(client, bank):
    response = client.post("/feedback", data=form(
        bank, reply_wanted="no", reply_channel=None, name="", street="", postal_code="", city="",
        phone="", email=""))
    assert response.status_code == 302
    case = only_case()
    assert not case.reply_wanted and case.reply_channel is None
    assert "You did not ask for an answer" in client.get(response.headers["Location"]).get_data(
        as_text=True)


def test_the_language_is_preselected_from_the_browser(client, bank):
    page = client.get("/feedback", headers={"Accept-Language": "sv-FI,sv;q=0.9"}).get_data(
        as_text=True)
    assert '<option selected value="sv">' in page
    page = client.get("/feedback", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert '<option selected value="fi">' in page


def test_sensitive_numbers_never_reach_the_database_the_pages_or_the_logs(
    client, bank, caplog, make_user, login
):
    caplog.set_level(logging.DEBUG)
    message = f"Tilini {IBAN}, hetu {HETU}, kortti {CARD}. Maksoin 24.12.2026 summan 120,50 €."
    response = client.post("/feedback", data=form(bank, message=message, street=f"Box {HETU}"))
    received_page = client.get(response.headers["Location"]).get_data(as_text=True)
    case = only_case()
    assert case.message == ("Tilini [account number …0785 removed], hetu [identity code removed], "
                            "kortti [card number …1111 removed]. Maksoin 24.12.2026 summan 120,50 €.")
    assert case.contact_street == "Box [identity code removed]"
    assert case.masked_kinds == "card_number,iban,identity_code"
    make_user("cs.agent", units=[bank["units"]["cs"]])
    login("cs.agent")
    case_page = client.get(f"/cases/{case.reference}").get_data(as_text=True)
    inbox = client.get("/inbox/cs").get_data(as_text=True)
    assert "sensitive data removed" in case_page
    # The inbox's narrow row says it short, and in full in the flag's title and accessible name.
    assert 'aria-label="Sensitive data was removed on arrival">masked</span>' in inbox

    stored = " ".join(
        str(value) for table in db.metadata.sorted_tables
        for row in db.session.execute(sa.select(table)) for value in row
    )
    for secret in (IBAN, IBAN.replace(" ", ""), HETU, CARD, CARD.replace(" ", "")):
        for where in (stored, received_page, case_page, inbox, caplog.text):
            assert secret not in where


def test_the_public_form_is_csrf_protected(database_url, _schema, clock, bank):
    from feedback_intranet import create_app

    app = create_app({"CONFIG": "testing", "SQLALCHEMY_DATABASE_URI": database_url,
                      "CLOCK": clock, "WTF_CSRF_ENABLED": True})
    client = app.test_client()
    assert client.post("/feedback", data=form(bank)).status_code == 400
    page = client.get("/feedback").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert client.post("/feedback", data=form(bank, csrf_token=token)).status_code == 302
    assert count_cases() == 1


def test_a_double_submit_makes_one_case(client, bank):
    first = client.post("/feedback", data=form(bank, submission_token="same"))
    second = client.post("/feedback", data=form(bank, submission_token="same"))
    assert first.headers["Location"] == second.headers["Location"]
    assert count_cases() == 1
    client.post("/feedback", data=form(bank, submission_token="another"))
    assert count_cases() == 2


def test_the_honeypot_drops_bot_posts_quietly(client, bank):
    response = client.post("/feedback", data=form(bank, website="http://spam.example"))
    assert response.status_code == 200
    assert "Thank you for your feedback" in response.get_data(as_text=True)
    assert count_cases() == 0


def test_posts_are_rate_limited_per_client_address(app, client, bank):
    app.config["FEEDBACK_RATE_LIMIT"] = "2 per minute"
    for n in range(2):
        assert client.post("/feedback", data=form(bank, submission_token=f"t{n}")).status_code == 302
    refused = client.post("/feedback", data=form(bank, submission_token="t3"))
    assert refused.status_code == 429
    assert "Try again later" in refused.get_data(as_text=True)
    assert count_cases() == 2
    # Reading the form is never limited.
    assert client.get("/feedback").status_code == 200


def test_the_default_limit_is_ten_posts_a_minute():
    assert Config.FEEDBACK_RATE_LIMIT == "10 per minute"
    assert Config.RATELIMIT_STORAGE_URI == "memory://"
    assert Config.TRUSTED_PROXIES == 0


def test_behind_a_trusted_proxy_each_customer_has_their_own_limit(
    database_url, _schema, clock, bank
):
    from feedback_intranet import create_app

    def post(app, address, token):
        return app.test_client().post("/feedback", data=form(bank, submission_token=token),
                                      headers={"X-Forwarded-For": address})

    proxied = create_app({"CONFIG": "testing", "SQLALCHEMY_DATABASE_URI": database_url,
                          "CLOCK": clock, "FEEDBACK_RATE_LIMIT": "1 per minute",
                          "TRUSTED_PROXIES": 1})
    assert post(proxied, "198.51.100.1", "a").status_code == 302
    assert post(proxied, "198.51.100.2", "b").status_code == 302
    assert post(proxied, "198.51.100.1", "c").status_code == 429

    direct = create_app({"CONFIG": "testing", "SQLALCHEMY_DATABASE_URI": database_url,
                         "CLOCK": clock, "FEEDBACK_RATE_LIMIT": "1 per minute"})
    assert post(direct, "198.51.100.3", "d").status_code == 302
    # Without a trusted proxy the header is ignored: the same client address is limited.
    assert post(direct, "198.51.100.4", "e").status_code == 429


def test_a_body_over_one_megabyte_is_refused_clearly(client, bank):
    response = client.post("/feedback", data=form(bank, message="x" * (1024 * 1024 + 10)))
    assert response.status_code == 413
    assert "larger than we accept" in response.get_data(as_text=True)
    assert count_cases() == 0


def outbox():
    return db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)).all()


def test_the_confirmation_email_never_echoes_what_was_typed(app, client, bank):
    client.post("/feedback", data=form(bank, name="Mallory Attacker",
                                       message="Click http://evil.example now"))
    case = only_case()
    [sent] = outbox()
    assert (sent.kind, sent.recipient, sent.case_id) == (
        "confirmation", "aino.virtanen@example.fi", case.id)
    # In the customer's language (Finnish here).
    assert sent.subject == f"Olemme vastaanottaneet palautteesi {case.reference}"
    assert case.reference in sent.body_text and "30.11.2026" in sent.body_text
    assert "Kiitos palautteestasi." in sent.body_text
    assert case.reference in sent.body_html and "Mallory" not in sent.body_html
    for typed in ("Mallory", "evil.example", "Bulevardi"):
        assert typed not in sent.subject and typed not in sent.body_text


def test_no_email_without_an_address(app, client, bank):
    client.post("/feedback", data=form(bank, reply_wanted="no", email=""))
    assert outbox() == [] and count_cases() == 1


# Routing


def test_business_customers_land_in_business_customer_service(client, bank):
    client.post("/feedback", data=form(bank, segment="business"))
    case = only_case()
    assert case.current_unit.code == "business-cs"
    assert case.service_unit_id == bank["units"]["business-cs"].id


def test_a_routing_rule_sends_the_case_straight_to_a_unit(client, bank, make_user, login):
    rule = RoutingRule(name="Card complaints to Cards", topic_id=bank["topics"]["cards"].id,
                       segment=Segment.PRIVATE, unit_id=bank["units"]["cards"].id)
    db.session.add(rule)
    db.session.commit()
    client.post("/feedback", data=form(bank, topic=str(bank["topics"]["cards"].id)))
    case = only_case()
    assert case.current_unit.code == "cards"
    routed = case.events[-1]
    assert (routed.kind, routed.from_unit.code, routed.to_unit.code) == ("routed", "cs", "cards")
    assert said(routed) == "Routed from Customer service to Cards by the rule “Card complaints to Cards”."

    # Customer service still reads it; another branch does not.
    make_user("cs.agent", units=[bank["units"]["cs"]])
    make_user("turku.staff", units=[bank["units"]["turku"]])
    login("cs.agent")
    assert client.get(f"/cases/{case.reference}").status_code == 200
    assert case.reference not in client.get("/inbox/cs").get_data(as_text=True)
    client.post("/logout")
    login("turku.staff")
    assert client.get(f"/cases/{case.reference}").status_code == 404


def test_a_rule_for_the_other_segment_or_an_inactive_rule_does_not_apply(client, bank):
    db.session.add_all([
        RoutingRule(name="Business cards", topic_id=bank["topics"]["cards"].id,
                    segment=Segment.BUSINESS, unit_id=bank["units"]["cards"].id),
        RoutingRule(name="Old rule", topic_id=bank["topics"]["cards"].id, segment=None,
                    unit_id=bank["units"]["turku"].id, active=False),
    ])
    db.session.commit()
    client.post("/feedback", data=form(bank, topic=str(bank["topics"]["cards"].id)))
    assert only_case().current_unit.code == "cs"


def test_a_rule_for_the_segment_beats_a_rule_for_any_segment(client, bank):
    db.session.add_all([
        RoutingRule(name="Any", topic_id=bank["topics"]["cards"].id, segment=None,
                    unit_id=bank["units"]["turku"].id),
        RoutingRule(name="Private", topic_id=bank["topics"]["cards"].id, segment=Segment.PRIVATE,
                    unit_id=bank["units"]["cards"].id),
    ])
    db.session.commit()
    client.post("/feedback", data=form(bank, topic=str(bank["topics"]["cards"].id)))
    assert only_case().current_unit.code == "cards"


def test_without_customer_service_the_form_says_try_later(client, bank):
    bank["units"]["cs"].active = False
    db.session.commit()
    response = client.post("/feedback", data=form(bank))
    assert response.status_code == 503
    assert count_cases() == 0


# Matching and the suggested forward target


@pytest.mark.parametrize(
    ("changes", "method", "number"),
    [
        ({}, MatchMethod.EMAIL, "C0000001"),
        ({"email": "AINO.VIRTANEN@EXAMPLE.FI"}, MatchMethod.EMAIL, "C0000001"),
        ({"email": "other@example.fi"}, MatchMethod.PHONE, "C0000001"),
        ({"email": "other@example.fi", "phone": "+358 40 000 0000"}, MatchMethod.NAME_POSTAL_CODE,
         "C0000001"),
        ({"email": "other@example.fi", "phone": "+358 40 000 0000", "name": "AINO  virtanen"},
         MatchMethod.NAME_POSTAL_CODE, "C0000001"),
        ({"email": "nobody@example.fi", "phone": "+358 40 000 0000", "name": "Nobody"},
         MatchMethod.NONE, None),
    ],
)
def test_matching_the_customer_register(client, bank, changes, method, number):
    client.post("/feedback", data=form(bank, **changes))
    case = only_case()
    assert case.match_method == method
    assert (case.customer.customer_number if case.customer else None) == number


def test_the_suggested_target_is_the_home_office_or_the_products_unit(client, bank):
    client.post("/feedback", data=form(bank, submission_token="a"))
    client.post("/feedback", data=form(bank, submission_token="b",
                                       topic=str(bank["topics"]["cards"].id)))
    branch, cards = db.session.scalars(sa.select(Case).order_by(Case.id)).all()
    assert branch.suggested_unit.code == "helsinki-centre"
    assert cards.suggested_unit.code == "cards"


def test_several_candidates_link_none_and_are_shown(client, bank, make_user, login):
    client.post("/feedback", data=form(bank, name="Matti Meikäläinen", postal_code="20100",
                                       email="new@example.fi", phone="+358 40 999 9999"))
    case = only_case()
    assert case.customer is None and case.match_method == MatchMethod.AMBIGUOUS
    make_user("cs.agent", units=[bank["units"]["cs"]])
    login("cs.agent")
    page = client.get(f"/cases/{case.reference}").get_data(as_text=True)
    assert "Several possible customers" in page
    assert "C0000002" in page and "C0000003" in page


def test_customer_service_links_the_customer_by_hand(client, bank, make_user, login):
    client.post("/feedback", data=form(bank, email="x@example.fi", phone="+358 40 999 9999",
                                       name="Someone Else"))
    case = only_case()
    make_user("cs.agent", units=[bank["units"]["cs"]])
    login("cs.agent")
    for query in ("meikäläinen", "C0000002", "matti@example.fi", "+358501112222"):
        page = client.get(f"/cases/{case.reference}", query_string={"q": query}).get_data(
            as_text=True)
        assert "C0000002" in page, query
    customer = bank["customers"][1]
    page = client.get(f"/cases/{case.reference}", query_string={"q": "C0000002"}).get_data(
        as_text=True)
    response = post_action(client, case, "customer", page=page, customer_id=str(customer.id))
    assert response.status_code == 302
    db.session.expire_all()
    assert case.customer_id == customer.id and case.match_method == MatchMethod.MANUAL
    assert case.suggested_unit.code == "turku"
    event = db.session.scalars(sa.select(CaseEvent).where(CaseEvent.case_id == case.id)
                               .order_by(CaseEvent.id.desc())).first()
    assert event.kind == "customer_matched" and event.actor.username == "cs.agent"
    assert said(event) == "Cs Agent linked the case to Matti Meikäläinen (C0000002)."


def test_other_units_cannot_link_a_customer(client, bank, make_user, login):
    client.post("/feedback", data=form(bank))
    case = only_case()
    make_user("turku.staff", units=[bank["units"]["turku"]])
    login("turku.staff")
    response = client.post(f"/cases/{case.reference}/customer", data={
        "customer-customer_id": bank["customers"][1].id, "customer-version": "1",
        "customer-token": "t"})
    assert response.status_code == 404
    db.session.expire_all()
    assert case.customer.customer_number == "C0000001"


# Staff registration


def staff_form(bank, **changes):
    data = form(bank, **changes)
    data.pop("submission_token")
    data.setdefault("intake_channel", "phone")
    # Received now (the test clock's 25.11.2026 10.00), as the form starts.
    data.setdefault("received_on", "25.11.2026")
    data.setdefault("received_time", "10.00")
    return data


def test_staff_register_phone_feedback_in_their_own_unit(client, bank, make_user, login):
    staff = make_user("branch.staff", units=[bank["units"]["helsinki"]])
    login("branch.staff")
    page = client.get("/register-feedback").get_data(as_text=True)
    assert page.index("Helsinki Centre") < page.index("Business customer service")
    response = client.post("/register-feedback", data=staff_form(
        bank, unit=str(bank["units"]["helsinki"].id), reply_channel="phone", email="", street="",
        postal_code="", city=""))
    assert response.status_code == 302
    case = only_case()
    assert case.current_unit.code == "helsinki-centre" and case.intake_channel == "phone"
    assert case.service_unit_id is None
    received = case.events[0]
    assert received.actor_id == staff.id
    assert f"registered by {staff.full_name}" in client.get(
        f"/cases/{case.reference}").get_data(as_text=True)


@pytest.mark.parametrize(
    ("channel", "missing", "field"),
    [("email", {"email": ""}, "email"), ("phone", {"phone": ""}, "phone"),
     ("letter", {"street": ""}, "street"), ("letter", {"postal_code": ""}, "postal_code"),
     ("email", {"name": ""}, "name")],
)
def test_staff_give_the_name_and_what_the_channel_needs(client, bank, make_user, login, channel,
                                                        missing, field):
    make_user("branch.staff", units=[bank["units"]["helsinki"]])
    login("branch.staff")
    response = client.post("/register-feedback", data=staff_form(
        bank, unit=str(bank["units"]["turku"].id), reply_channel=channel, **missing))
    assert response.status_code == 200
    assert f'id="{field}-error"' in response.get_data(as_text=True)
    assert count_cases() == 0


def test_staff_may_register_into_another_unit(client, bank, make_user, login):
    make_user("branch.staff", units=[bank["units"]["helsinki"]])
    login("branch.staff")
    response = client.post("/register-feedback", data=staff_form(
        bank, unit=str(bank["units"]["turku"].id), intake_channel="counter"))
    assert response.status_code == 302
    assert only_case().current_unit.code == "turku"


def test_registration_needs_a_login(client, bank):
    assert client.get("/register-feedback").status_code == 302
    assert client.post("/register-feedback", data=staff_form(bank)).status_code == 302
    assert count_cases() == 0


WORKER = """
import json, sys
from feedback_intranet import create_app
config, data = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(create_app(config).test_client().post("/feedback", data=data).status_code)
"""


@pytest.mark.committed  # a flask process of its own reads the database
def test_with_redis_storage_separate_workers_share_one_limit(app, database_url, bank):
    """Another process stands for a second gunicorn worker; Redis holds the shared counter."""
    import json
    import subprocess
    import sys
    import uuid

    from feedback_intranet import create_app

    config = {"CONFIG": "testing", "SQLALCHEMY_DATABASE_URI": database_url,
              "FEEDBACK_RATE_LIMIT": "2 per minute",
              "RATELIMIT_STORAGE_URI": os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15"),
              "RATELIMIT_KEY_PREFIX": f"test-{uuid.uuid4().hex}"}
    other_worker = subprocess.run(
        [sys.executable, "-c", WORKER, json.dumps(config),
         json.dumps(form(bank, submission_token="r1"))],
        capture_output=True, text=True, check=True, cwd=os.path.dirname(os.path.dirname(__file__)),
    )
    assert other_worker.stdout.strip() == "302"
    this_worker = create_app(config).test_client()
    assert this_worker.post("/feedback", data=form(bank, submission_token="r2")).status_code == 302
    assert this_worker.post("/feedback", data=form(bank, submission_token="r3")).status_code == 429
    assert count_cases() == 2
