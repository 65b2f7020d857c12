"""The case page reads as a conversation: a header that says where the case stands, the customer's
words first, then what the bank did; the customer's other cases beside it (only those the reader
may see); what waits for the customer in place of the composer; every refusal summarised at the
top with nothing chosen lost; and all of it in at most 8 statements, however much data."""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from feedback_intranet.extensions import db
from feedback_intranet.models import (
    CaseEvent,
    CaseStatus,
    CaseType,
    Customer,
    EventKind,
    Language,
    OutboxMessage,
    Segment,
    UnitKind,
)

from .conftest import DEFAULT_NOW
from .test_case_pages import post_action


@pytest.fixture
def org(make_unit, make_user):
    units = {
        "cs": make_unit(code="cs", name="Customer service", kind=UnitKind.CUSTOMER_SERVICE),
        "helsinki": make_unit(code="helsinki-centre", name="Helsinki Centre"),
        "turku": make_unit(code="turku", name="Turku"),
    }
    people = {
        "cs.agent": make_user("cs.agent", units=[units["cs"]], full_name="Cecilia Agent"),
        "cs.lead": make_user("cs.lead", lead_of=[units["cs"]]),
        "branch.staff": make_user("branch.staff", units=[units["helsinki"]]),
    }
    return units, people


@pytest.fixture
def case(org, make_case):
    return make_case(org[0]["cs"], message="Korttini hylättiin kaupassa. Miksi?")


def page_of(client, case):
    response = client.get(f"/cases/{case.reference}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def summary_of(page):
    """The error summary's markup, or None when the page has none."""
    found = re.search(r'<div class="error-summary"[^>]*>.*?</div>', page, re.S)
    return found.group(0) if found else None


def text(html):
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


# The header and the order of the page


def test_the_header_says_where_the_case_stands_and_the_customers_words_come_first(
        client, login, org, case):
    units, people = org
    case.case_type = CaseType.COMPLAINT
    case.status, case.assignee_id = CaseStatus.ASSIGNED, people["cs.agent"].id
    db.session.commit()
    login("cs.agent")
    page = page_of(client, case)
    head = text(page.split('<header class="case-head">')[1].split("</header>")[0])
    for said in (case.reference, "due in 3 banking days · 30.11.2026", "Type Complaint",
                 "Status Held by Cecilia Agent", "Unit Customer service",
                 "Customer Aino Asiakas", "Reply Email, Finnish"):
        assert said in head, said
    assert '<strong class="flag flag-complaint">Complaint</strong>' in page
    # The message, then the answer composer, then the other actions; the details after them
    # in the page's order, beside them on a wide screen.
    order = [page.index(marker) for marker in (
        '<header class="case-head">', 'id="message"', "Korttini hylättiin kaupassa.",
        'id="answer-title"', 'id="actions-title"')]
    assert order == sorted(order)
    assert page.index('id="contact-title"') > page.index('id="message"')


def test_the_message_opens_the_conversation_and_notes_are_marked_internal(
        client, login, org, case):
    login("cs.agent")
    post_action(client, case, "note", text="Soitin konttoriin.")
    page = page_of(client, case)
    conversation = page.split('class="conversation"')[1].split("</section>")[0]
    assert conversation.index("Korttini hylättiin") < conversation.index("Soitin konttoriin.")
    assert "Aino Asiakas" in conversation and "Feedback form → Customer service" in text(
        conversation)
    note = conversation.split('class="event-note"')[1].split("</li>")[0]
    assert "internal, not sent to the customer" in note
    # The arrival is the customer's entry itself, not a second line.
    assert 'class="event-received"' not in conversation


def test_a_closed_case_names_its_holder_beside_its_status(client, login, org, case):
    case.status, case.assignee_id = CaseStatus.CLOSED, org[1]["cs.agent"].id
    db.session.commit()
    login("cs.agent")
    head = text(page_of(client, case).split('<header class="case-head">')[1].split("</header>")[0])
    assert "Status Closed Holder Cecilia Agent" in head


# The customer's other cases


@pytest.fixture
def customer(org, data):
    customer = Customer(customer_number="C0000001", name="Aino Asiakas", street_address="Tie 1",
                        postal_code="00100", city="Helsinki", phone="+358401111111",
                        email="aino.register@example.fi", language=Language.FI,
                        segment=Segment.PRIVATE, home_office_id=org[0]["helsinki"].id)
    db.session.add(customer)
    db.session.commit()
    return customer


def other_cases(page):
    section = page.split('id="other-cases-title"')[1].split("</section>")[0]
    return re.findall(r">(FB-\d{4}-\d{6})</a>", section)


def test_the_customers_other_cases_by_register_email_or_phone_newest_first(
        client, login, org, make_case, customer):
    units = org[0]
    day = timedelta(days=1)
    this = make_case(units["cs"], received_at=DEFAULT_NOW)
    this.customer_id, this.contact_phone = customer.id, "+358402222222"
    by_register = make_case(units["cs"], received_at=DEFAULT_NOW - 3 * day, contact_name="A. A.")
    by_register.customer_id, by_register.contact_email = customer.id, ""
    by_email = make_case(units["cs"], received_at=DEFAULT_NOW - day)  # aino@example.fi
    by_phone = make_case(units["cs"], received_at=DEFAULT_NOW - 2 * day)
    by_phone.contact_email, by_phone.contact_phone = "", "+358402222222"
    stranger = make_case(units["cs"], received_at=DEFAULT_NOW - day)
    stranger.contact_email = "someone@example.fi"
    by_register.status = CaseStatus.CLOSED
    db.session.commit()
    login("cs.agent")
    page = page_of(client, this)
    assert other_cases(page) == [by_email.reference, by_phone.reference, by_register.reference]
    section = text(page.split('id="other-cases-title"')[1].split("</section>")[0])
    assert "Cards · Closed" in section and "22.11.2026" in section


def test_empty_contact_details_match_no_one(client, login, org, make_case):
    units = org[0]
    this = make_case(units["cs"])
    others = [make_case(units["cs"]) for _ in range(2)]
    for case in (this, *others):
        case.contact_email = case.contact_phone = ""
    db.session.commit()
    login("cs.agent")
    page = page_of(client, this)
    assert other_cases(page) == [] and "None that you may see." in page


def test_a_branch_sees_only_the_other_cases_it_may_see(client, login, org, make_case):
    units = org[0]
    mine = make_case(units["helsinki"])
    visible = make_case(units["helsinki"], received_at=DEFAULT_NOW - timedelta(days=1))
    # The same customer wrote to customer service, and that case went to Turku: not the
    # branch's to see, nor even to know of.
    hidden = make_case(units["cs"], received_at=DEFAULT_NOW - timedelta(hours=1))
    hidden.current_unit_id, hidden.service_unit_id = units["turku"].id, units["cs"].id
    db.session.commit()
    login("branch.staff")
    page = page_of(client, mine)
    assert other_cases(page) == [visible.reference]
    assert hidden.reference not in page
    assert client.get(f"/cases/{hidden.reference}").status_code == 404
    client.post("/logout")
    # Customer service received it, so it still reads it; the branch's cases it never held, not.
    login("cs.agent")
    assert other_cases(page_of(client, hidden)) == []
    assert other_cases(page_of(client, make_case(units["cs"]))) == [hidden.reference]


def test_at_most_ten_other_cases(client, login, org, make_case):
    units = org[0]
    this = make_case(units["cs"])
    many = [make_case(units["cs"], received_at=DEFAULT_NOW - timedelta(hours=n + 1))
            for n in range(12)]
    login("cs.agent")
    assert other_cases(page_of(client, this)) == [c.reference for c in many[:10]]


# What waits for the customer


@pytest.mark.parametrize(("channel", "state", "button"), [
    ("email", "on its way by email", "Cancel the email"),
    ("letter", "waiting in the print queue to be posted", "Cancel the letter"),
    ("phone", "callback planned", "Cancel the callback"),
])
def test_an_answer_on_its_way_takes_the_composers_place(client, login, org, case, channel,
                                                       state, button):
    case.contact_phone = "+358401234567"
    case.contact_street, case.contact_postal_code, case.contact_city = "Tie 1", "00100", "Helsinki"
    db.session.commit()
    login("cs.agent")
    fields = {"channel": channel, "body": "Vastaus.", "final": "y", "send": "Send"}
    if channel != "email":
        fields["reason"] = "Asiakas pyysi."
    assert post_action(client, case, "answer", **fields).status_code == 302
    page = page_of(client, case)
    head = text(page.split('<header class="case-head">')[1].split("</header>")[0])
    assert f"Answer: {state}" in head
    assert 'id="answer-title"' not in page and 'name="answer-body"' not in page
    panel = text(page.split('id="waiting-title"')[1].split("</section>")[0])
    assert state in panel and button in panel
    # A call still to make can be moved to another time (tests/test_move_callback.py).
    assert ("Move the callback" in panel) == (channel == "phone")
    # Cancelled, the composer is back.
    answer_id = re.search(r'name="cancel_reply-answer_id" value="(\d+)"', page).group(1)
    assert post_action(client, case, "cancel_reply", page=page,
                       answer_id=answer_id).status_code == 302
    page = page_of(client, case)
    assert 'id="answer-title"' in page and 'id="waiting-title"' not in page


def test_a_delivered_email_says_when_the_mail_server_took_it(client, login, org, case,
                                                             run_worker):
    login("cs.agent")
    post_action(client, case, "answer", channel="email", body="Vastaus.", final="y", send="Send")
    run_worker()
    page = page_of(client, case)
    assert re.search(r"handed to the mail server \d+\.\d+\.2026 \d\d[:.]\d\d", page)
    head = page.split('<header class="case-head">')[1].split("</header>")[0]
    assert "on its way" not in head and 'id="waiting-title"' not in page


# Refusals: summarised at the top, each linked to its field, nothing chosen lost


def assert_summary(page, *links):
    summary = summary_of(page)
    assert summary is not None
    assert 'role="alert"' in summary and 'tabindex="-1"' in summary
    assert "data-error-summary" in summary and ">There is a problem</h2>" in summary
    for target in links:
        assert f'href="#{target}"' in summary, target
        assert f'id="{target}"' in page, target
    return summary


def test_a_forward_without_a_note_keeps_the_chosen_unit(client, login, org, case):
    turku = org[0]["turku"]
    login("cs.agent")
    page = post_action(client, case, "forward", unit=str(turku.id), note="").get_data(
        as_text=True)
    summary = assert_summary(page, "forward-note")
    assert "Write a note for the unit you forward to." in summary
    assert re.search(rf'<option selected value="{turku.id}">Turku</option>', page)
    panel = page.rfind("<details", 0, page.index('id="forward-unit"'))
    assert page.startswith("<details open>", panel)
    assert page.count("<details open>") == 1
    # The focus script comes from our own origin: the CSP forbids inline scripts.
    assert '<script src="/static/js/error-summary.js" defer></script>' in page
    # The other forms beside it are fresh, ready to use: a version, a token, the customer's channel.
    assert re.search(r'name="note-version" type="hidden" value="\d+"', page)
    assert re.search(r'name="answer-token" type="hidden" value="[^"]+"', page)
    assert re.search(r'checked id="answer-channel-0" name="answer-channel" type="radio" '
                     r'value="email"', page)


@pytest.mark.parametrize(("fields", "target", "said"), [
    ({"channel": "email", "body": ""}, "answer-body", "Write the answer."),
    ({"channel": "letter", "body": "Kirjeenä."}, "answer-reason",
     "The customer asked for email: say why you answer another way."),
])
def test_a_refused_answer_keeps_the_channel_and_the_text(client, login, org, case, fields,
                                                        target, said):
    case.contact_street, case.contact_postal_code, case.contact_city = "Tie 1", "00100", "Helsinki"
    db.session.commit()
    login("cs.agent")
    page = post_action(client, case, "answer", final="y", send="Send", **fields).get_data(
        as_text=True)
    assert said in assert_summary(page, target)
    channel = fields["channel"]
    assert re.search(rf'<input checked id="answer-channel-\d" name="answer-channel" '
                     rf'type="radio" value="{channel}">', page)
    assert page.count("checked id=\"answer-channel") == 1
    if fields["body"]:
        assert f"{fields['body']}</textarea>" in page


def test_a_wrong_channel_is_linked_to_its_first_radio_button(client, login, org, case):
    login("cs.agent")
    page = post_action(client, case, "answer", channel="pigeon", body="x", final="y",
                       send="Send").get_data(as_text=True)
    assert_summary(page, "answer-channel-0")


def test_a_refused_interim_notice_keeps_its_date_and_text(client, login, org, case):
    login("cs.agent")
    page = post_action(client, case, "interim_notice", estimate="",
                       text="Päätös viivästyy.").get_data(as_text=True)
    summary = assert_summary(page, "interim_notice-estimate")
    assert "Give the estimated decision date." in summary
    assert "Päätös viivästyy.</textarea>" in page
    # A date given but refused stays as given.
    page = post_action(client, case, "interim_notice", estimate="28.11.2026",
                       text="Päätös viivästyy.").get_data(as_text=True)
    assert "banking day after today" in assert_summary(page, "interim_notice-estimate")
    assert 'value="28.11.2026"' in page


def test_a_refusal_with_no_field_is_in_the_summary_unlinked(client, login, org, case, data):
    login("cs.agent")
    post_action(client, case, "answer", channel="email", body="Vastaus.", final="y", send="Send")
    page = page_of(client, case)
    # The worker claims the email between the page load and the click.
    db.session.execute(sa.update(OutboxMessage).values(status="sending"))
    db.session.commit()
    answer_id = re.search(r'name="cancel_reply-answer_id" value="(\d+)"', page).group(1)
    refused = post_action(client, case, "cancel_reply", page=page,
                          answer_id=answer_id).get_data(as_text=True)
    summary = assert_summary(refused)
    assert "The email has already been handed to the mail server" in summary
    assert "href=" not in summary
    # Said once: in the summary, not again as a message above it.
    assert refused.count("already been handed to the mail server") == 1


def test_a_page_without_a_refusal_has_no_summary(client, login, org, case):
    login("cs.agent")
    assert summary_of(page_of(client, case)) is None
    post_action(client, case, "note", text="Muistiinpano.")
    page = page_of(client, case)
    assert summary_of(page) is None and "Note added to" in page


# What the page costs


def test_the_case_page_costs_at_most_eight_statements_however_many_other_cases(
        client, login, org, make_case, customer):
    """The team lead's view of an open case has every form (assign, forward, answer with its
    templates); the other cases are one statement however many there are."""
    units = org[0]
    this = make_case(units["cs"])
    this.customer_id = customer.id
    db.session.commit()
    login("cs.lead")

    def count():
        response = client.get(f"/cases/{this.reference}")
        assert response.status_code == 200
        return int(response.headers["X-Query-Count"]), other_cases(response.get_data(as_text=True))

    alone, shown = count()
    assert shown == []
    for n in range(15):
        other = make_case(units["helsinki"] if n % 5 == 0 else units["cs"],
                          received_at=DEFAULT_NOW - timedelta(hours=n + 1))
        other.customer_id, other.contact_email = customer.id, f"other{n}@example.fi"
        other.events.append(CaseEvent(kind=EventKind.NOTE, at=DEFAULT_NOW, text="x"))
    db.session.commit()
    many, shown = count()
    assert len(shown) == 10
    assert many == alone <= 8


def test_the_cases_a_case_links_to_cost_no_statement_more(client, login, org, make_case):
    """Of a case it follows up and one it duplicates, the page reads only their references,
    in its own read of the case."""
    units = org[0]
    plain, this = make_case(units["cs"]), make_case(units["cs"])
    earlier, original = make_case(units["cs"]), make_case(units["cs"])
    this.follows_case, this.duplicate_of = earlier, original
    db.session.commit()
    login("cs.lead")

    def count(reference):
        db.session.expunge_all()  # nothing the test loaded stands in for the page's own read
        response = client.get(f"/cases/{reference}")
        assert response.status_code == 200
        return int(response.headers["X-Query-Count"]), response.get_data(as_text=True)

    plain_one, linked_one = plain.reference, this.reference
    references = earlier.reference, original.reference
    alone, _page = count(plain_one)
    linked, page = count(linked_one)
    assert linked == alone
    assert all(f'href="/cases/{reference}">{reference}</a>' in page for reference in references)


def test_a_long_email_address_wraps_after_its_at_sign_not_mid_word(client, login, org, make_case):
    units = org[0]
    case = make_case(units["cs"])
    case.contact_email = "aino.<b>saarinen11@example.fi"
    db.session.commit()
    login("cs.agent")
    page = page_of(client, case)
    assert "<dd>aino.&lt;b&gt;saarinen11@<wbr>example.fi</dd>" in page
