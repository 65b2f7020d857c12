"""The print queue says what each letter is and in which language, and offers to drop an interim
notice whose case's answer waits to go out too; the letters themselves read as a bank's."""

import re
from datetime import datetime
from io import BytesIO

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from feedback_intranet.extensions import db
from feedback_intranet.models import Answer, CaseStatus, Letter, ReplyChannel, UnitKind

from .conftest import HELSINKI, said
from .test_case_pages import post_action

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=HELSINKI)  # Wednesday


@pytest.fixture
def org(make_unit, make_user):
    cs = make_unit(code="cs", name="Customer service", kind=UnitKind.CUSTOMER_SERVICE)
    turku = make_unit(code="turku", name="Turku")
    return cs, {
        "cs.agent": make_user("cs.agent", units=[cs]),
        "cs.other": make_user("cs.other", units=[cs]),
        "turku.staff": make_user("turku.staff", units=[turku]),
    }


@pytest.fixture
def case(org, make_case, clock):
    clock.set(NOW)
    case = make_case(org[0], received_at=NOW, status=CaseStatus.ASSIGNED,
                     assignee=org[1]["cs.agent"], contact_name="Åsa Lindqvist")
    case.contact_street, case.contact_postal_code, case.contact_city = "Slottsgatan 3", "20100", "Åbo"
    case.reply_channel, case.language = ReplyChannel.LETTER, "sv"
    db.session.commit()
    return case


def send_notice(client, case):
    response = post_action(client, case, "interim_notice", estimate="2026-12-04",
                           text="Vi svarar senast 4.12.2026.")
    assert response.status_code == 302


def send_answer(client, case, channel="letter"):
    response = post_action(client, case, "answer", channel=channel, final="y", send="Send",
                           body="Vi har öppnat ditt kort.",
                           **({} if channel == "letter" else {"reason": "Kunden bad om det."}))
    assert response.status_code == 302


def queue(client):
    return client.get("/letters/cs").get_data(as_text=True)


def letters():
    db.session.expire_all()
    return db.session.scalars(sa.select(Letter).order_by(Letter.id)).all()


def row_of(page, letter):
    """The queue's table row of one letter."""
    return next(row for row in re.findall(r"<tr>.*?</tr>", page, re.S)
                if f"/letters/{letter.id}.pdf" in row)


def drop_form(page, letter):
    """The drop form's fields as the queue renders them."""
    form = re.search(rf'action="/letters/{letter.id}/drop">(.*?)</form>', page, re.S).group(1)
    return dict(re.findall(r'name="([^"]+)"[^>]*value="([^"]*)"', form))


def pdf_pages(data):
    return [page.extract_text() for page in PdfReader(BytesIO(data)).pages]


def test_the_queue_says_what_each_letter_is_and_its_language(case, login, client, make_case, org):
    other = make_case(org[0], received_at=NOW, status=CaseStatus.ASSIGNED,
                      assignee=org[1]["cs.agent"], contact_name="Matti Meikäläinen")
    other.contact_street, other.contact_postal_code, other.contact_city = "Katu 1", "00100", "Helsinki"
    other.reply_channel = ReplyChannel.LETTER
    db.session.commit()
    login("cs.agent")
    send_notice(client, case)
    send_answer(client, other)
    page = queue(client)
    notice, answer = letters()
    assert "Interim notice (PDF)" in row_of(page, notice) and "Swedish" in row_of(page, notice)
    assert "Answer (PDF)" in row_of(page, answer) and "Finnish" in row_of(page, answer)
    # Neither waits with the other's case: no warning, nothing to drop.
    assert "waits together" not in page and "/drop" not in page


def test_the_letters_say_what_they_are_in_the_customers_language(case, login, client):
    login("cs.agent")
    send_notice(client, case)
    send_answer(client, case)
    notice, answer = letters()
    [page] = pdf_pages(client.get(f"/letters/{notice.id}.pdf").data)
    assert f"Mellanbesked om din respons {case.reference}" in page
    assert "Mellanbesked" in page.splitlines()[0] and "1 (1)" in page
    assert f"Referens: {case.reference}" in page
    [page] = pdf_pages(client.get(f"/letters/{answer.id}.pdf").data)
    assert f"Svar på din respons {case.reference}" in page and "Svar 1 (1)" in page
    assert "Med vänlig hälsning\nCustomer service" in page


def test_a_letter_abroad_ends_its_address_with_the_country(case, login, client):
    case.contact_street, case.contact_postal_code, case.contact_city = "Storgatan 1", "111 22", \
        "Stockholm"
    case.contact_country = "SE"
    db.session.commit()
    login("cs.agent")
    send_answer(client, case)
    [letter] = letters()
    page = pdf_pages(client.get(f"/letters/{letter.id}.pdf").data)[0]
    assert "Storgatan 1\n111 22 Stockholm\nSWEDEN" in page


def test_a_long_answer_letter_numbers_its_pages_and_repeats_the_reference(case, login, client):
    login("cs.agent")
    body = "\n\n".join(f"Stycke {n}. " + "Vi har gått igenom dina betalningar. " * 10
                       for n in range(12))
    post_action(client, case, "answer", channel="letter", final="y", send="Send", body=body)
    [letter] = letters()
    first, *following = pages = pdf_pages(client.get(f"/letters/{letter.id}.pdf").data)
    assert following
    assert f"Svar 1 ({len(pages)})" in first and f"Svar på din respons {case.reference}" in first
    for number, page in enumerate(following, start=2):
        assert f"Svar {number} ({len(pages)})" in page and f"Referens: {case.reference}" in page
        assert "Slottsgatan 3" not in page and "Svar på din respons" not in page


def test_the_queue_warns_when_a_notice_waits_with_its_cases_answer_and_drops_it(
        case, login, client):
    login("cs.agent")
    send_notice(client, case)
    assert "waits together" not in queue(client)
    send_answer(client, case)
    page = queue(client)
    notice, answer = letters()
    assert "1 interim notice waits together with the answer of its case" in page
    assert "Its answer waits too (letter)" in row_of(page, notice)
    assert "/drop" in row_of(page, notice) and "/drop" not in row_of(page, answer)

    response = client.post(f"/letters/{notice.id}/drop", data=drop_form(page, notice))
    assert response.status_code == 302
    page = client.get(response.location).get_data(as_text=True)
    assert f"Interim notice for {case.reference} dropped" in page
    assert f"/letters/{notice.id}.pdf" not in page and f"/letters/{answer.id}.pdf" in page
    assert "waits together" not in page
    db.session.expire_all()
    assert notice.answer.status == "cancelled" and answer.answer.status == "pending"
    event = case.events[-1]
    assert event.kind == "reply_cancelled" and event.actor.username == "cs.agent"
    assert said(event).startswith(
        "Cs Agent cancelled the interim notice letter before it was posted. Its answer was on its "
        "way too")
    assert said(event, "fi").startswith("Cs Agent perui väliilmoituskirjeen")
    # The customer never hears of the notice's estimate: the due date holds again.
    assert case.estimated_decision_date is None


def test_the_warning_names_an_answer_on_its_way_by_another_channel(case, login, client):
    case.contact_phone = "+358401234567"
    db.session.commit()
    login("cs.agent")
    send_notice(client, case)
    send_answer(client, case, channel="phone")
    [notice] = letters()
    assert "Its answer waits too (phone call)" in row_of(queue(client), notice)


def test_a_notice_is_not_dropped_from_a_queue_loaded_before_the_case_changed(
        case, login, client):
    login("cs.agent")
    send_notice(client, case)
    send_answer(client, case)
    page = queue(client)
    notice, answer = letters()
    # Making the answer's letter again (a corrected address, say) moves the case's version.
    client.post(f"/letters/{answer.id}/regenerate",
                data={f"letter{answer.id}-token": "regenerate-token-1"})
    response = client.post(f"/letters/{notice.id}/drop", data=drop_form(page, notice))
    assert "changed meanwhile. Nothing was done" in client.get(response.location).get_data(
        as_text=True)
    db.session.expire_all()
    assert notice.answer.status == "pending"
    assert "reply_cancelled" not in [event.kind for event in case.events]


def test_a_notice_is_not_dropped_once_its_answer_no_longer_waits(case, login, client):
    login("cs.agent")
    send_notice(client, case)
    send_answer(client, case)
    notice, answer = letters()
    client.post(f"/letters/{answer.id}/posted",
                data={f"letter{answer.id}-token": "posted-token-16ch"})
    # The queue offers no drop now; the request is made as an old tab would make it.
    form = dict(re.findall(rf'name="(letter{notice.id}-csrf_token)"[^>]*value="([^"]*)"',
                           queue(client)))
    db.session.expire_all()
    form |= {f"letter{notice.id}-token": "drop-after-posting",
             f"letter{notice.id}-version": str(case.version)}
    response = client.post(f"/letters/{notice.id}/drop", data=form)
    assert "no longer waits to go out" in client.get(response.location).get_data(as_text=True)
    db.session.expire_all()
    assert notice.answer.status == "pending"


def test_only_those_who_work_the_queue_may_drop_a_notice(case, login, client):
    login("cs.agent")
    send_notice(client, case)
    send_answer(client, case)
    page = queue(client)
    notice, _answer = letters()
    data = drop_form(page, notice)
    client.post("/logout")
    login("turku.staff")
    assert client.get("/letters/cs").status_code == 404
    assert client.post(f"/letters/{notice.id}/drop", data=data).status_code == 404
    db.session.expire_all()
    assert notice.answer.status == "pending"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Answer).where(
        Answer.status == "cancelled")) == 0


def test_an_answer_letter_cannot_be_dropped_as_a_notice(case, login, client):
    login("cs.agent")
    send_notice(client, case)
    send_answer(client, case)
    page = queue(client)
    notice, answer = letters()
    data = {key.replace(f"letter{notice.id}", f"letter{answer.id}"): value
            for key, value in drop_form(page, notice).items()}
    response = client.post(f"/letters/{answer.id}/drop", data=data)
    assert "Only an interim notice can be dropped" in client.get(response.location).get_data(
        as_text=True)
    db.session.expire_all()
    assert answer.answer.status == "pending"


def test_a_letter_whose_address_would_not_fit_the_window_is_refused_before_it_is_made(
        case, login, client):
    case.contact_street = "Pitkänimisen asunto-osakeyhtiön porrashuoneen takapiha " * 3
    db.session.commit()
    login("cs.agent")
    page = post_action(client, case, "answer", channel="letter", final="y", send="Send",
                       body="Vi har öppnat ditt kort.").get_data(as_text=True)
    assert "too long for the envelope" in page and "Vi har öppnat ditt kort." in page
    assert letters() == []
