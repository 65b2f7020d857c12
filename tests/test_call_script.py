"""A phone answer is a call script, not a letter; the callback card gives the caller what they need
(the message, the number to dial, a warning outside the planned window or the service hours); and
a complaint's final answer given by phone is confirmed in writing, the case closing only once
that confirmation has been delivered too."""

import re
from datetime import datetime, timedelta
from io import BytesIO

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from feedback_intranet import customer_texts as ct
from feedback_intranet.extensions import db
from feedback_intranet.models import (
    Answer,
    CallbackTask,
    CaseStatus,
    CaseType,
    Language,
    Letter,
    OutboxMessage,
    ReplyChannel,
    UnitKind,
)
from feedback_intranet.replies.texts import compose

from .conftest import HELSINKI, said
from .test_case_pages import hidden_fields, post_action

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=HELSINKI)  # Wednesday
PARAGRAPH = {
    "en": ct.COMPLAINT_PARAGRAPH,
    "fi": "Jos et ole tyytyväinen ratkaisuumme",
    "sv": "Om du inte är nöjd med vårt beslut",
}


@pytest.fixture
def org(make_unit, make_user):
    cs = make_unit(code="cs", name="Customer service", kind=UnitKind.CUSTOMER_SERVICE)
    people = {name: make_user(name, units=[cs]) for name in ("cs.agent", "cs.other")}
    return cs, people


@pytest.fixture
def case(org, make_case, clock):
    clock.set(NOW)
    cs, people = org
    case = make_case(cs, received_at=NOW, status=CaseStatus.ASSIGNED, assignee=people["cs.agent"],
                     contact_name="Åsa Lindqvist",
                     message="Kortet spärrades utan förvarning och jag blev utan pengar.")
    case.contact_street, case.contact_postal_code, case.contact_city = "Slottsgatan 3", "20100", "Åbo"
    case.contact_phone = "+358401234567"
    case.reply_channel = ReplyChannel.PHONE
    case.case_type = CaseType.COMPLAINT
    case.language = Language.SV
    db.session.commit()
    return case


def text_of(response):
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def answer(client, case, **fields):
    fields.setdefault("channel", "phone")
    fields.setdefault("final", "y")
    fields.setdefault("body", "Spärren var ett misstag från vår sida; kortet fungerar igen.")
    fields.setdefault("send", "Send the answer")
    return post_action(client, case, "answer", **fields)


def record_call(client, task, outcome, summary=""):
    page = client.get("/callbacks/cs").get_data(as_text=True)
    token = re.search(rf'name="task{task.id}-token" type="hidden" value="([^"]+)"', page).group(1)
    return client.post(f"/callbacks/task/{task.id}", data={
        f"task{task.id}-outcome": outcome, f"task{task.id}-summary": summary,
        f"task{task.id}-token": token})


def the_task():
    return db.session.scalar(sa.select(CallbackTask))


def confirmations():
    db.session.expire_all()
    return db.session.scalars(sa.select(Answer).where(Answer.purpose == "written_confirmation")
                              ).all()


def kinds(case):
    db.session.expire_all()
    return [e.kind.value for e in case.events]


SUMMARY = "Berättade att spärren var ett misstag och att kortet fungerar igen."


# The script


def test_compose_frames_a_letter_or_an_email_but_not_a_call(app, case):
    with app.test_request_context():
        for channel in (ReplyChannel.EMAIL, ReplyChannel.LETTER):
            written = compose(case, case.current_unit, "Kortet fungerar.", True, channel)
            assert written.startswith("Hej Åsa Lindqvist,")
            assert PARAGRAPH["sv"] in written
            assert written.rstrip().endswith("Banken")
        call = compose(case, case.current_unit, "  Kortet fungerar.  ", True, ReplyChannel.PHONE)
        assert call == "Kortet fungerar."  # no greeting, no sign-off; the paragraph is read apart


def test_the_preview_of_a_phone_answer_is_a_call_script_with_the_paragraph_to_read_out(
        client, login, case):
    login("cs.agent")
    page = text_of(answer(client, case, preview="Preview"))
    script = page[page.index('id="script-title"'):]
    script = script[:script.index("</section>")]
    assert "Call script: what to tell the customer on the phone" in script
    assert "Åsa Lindqvist" in script and "Customer's language: Swedish" in script
    assert '<a href="tel:+358401234567">+358 40 123 4567</a>' in script
    assert "Spärren var ett misstag" in script
    assert "Hej" not in script and "Med vänlig hälsning" not in script
    said_out = script[script.index("Read this out as written:"):]
    assert PARAGRAPH["sv"] in said_out
    assert "After the call, a written confirmation with your summary of the call and this " \
           "paragraph goes to the customer by email." in script
    assert "Preview: what the customer receives" not in page


def test_a_phone_answer_to_another_kind_of_feedback_has_nothing_to_read_out(client, login, case):
    case.case_type = CaseType.QUESTION
    db.session.commit()
    login("cs.agent")
    page = text_of(answer(client, case, preview="Preview"))
    assert "Call script: what to tell the customer on the phone" in page
    assert "Read this out" not in page and PARAGRAPH["sv"] not in page


def test_an_email_preview_is_still_the_whole_message(client, login, case):
    login("cs.agent")
    page = text_of(answer(client, case, channel="email", reason="Kunden bad om e-post.",
                          preview="Preview"))
    assert "Preview: what the customer receives" in page and "Call script" not in page
    assert "Åsa Lindqvist," in page and PARAGRAPH["sv"] in page


# The callback card


def card(client):
    page = text_of(client.get("/callbacks/cs"))
    return page[page.index('class="callback"'):]


def test_the_callback_card_has_the_message_the_number_to_dial_and_the_script(client, login,
                                                                            case):
    login("cs.agent")
    answer(client, case)
    shown = card(client)
    assert "The customer's message" in shown and case.message in shown
    assert '<a href="tel:+358401234567" class="dial">+358 40 123 4567</a>' in shown
    assert "What to tell the customer (Swedish)" in shown and "Spärren var ett misstag" in shown
    assert PARAGRAPH["sv"] in shown[shown.index("Read this out as written:"):]
    assert "your summary goes to them in writing by email, with the paragraph read out" in shown
    # Planned for 10-11, and it is 10 now: nothing to warn of.
    assert "10:00</time>–11:00" in shown and "It is now outside" not in shown


def test_a_call_recorded_outside_the_window_and_the_hours_says_so_on_the_timeline(
        client, login, case, clock):
    case.case_type = CaseType.QUESTION
    db.session.commit()
    login("cs.agent")
    answer(client, case)
    task = the_task()
    clock.set(NOW + timedelta(minutes=30))  # 10:30, inside the window 10-11
    assert "It is now outside" not in card(client)
    record_call(client, task, "no_answer")
    event = [e for e in case.events if e.kind == "callback"][-1]
    assert "outside_window" not in event.facts and "outside_hours" not in event.facts

    clock.set(datetime(2026, 11, 25, 20, 30, tzinfo=HELSINKI))  # the next try was for 11-12
    shown = card(client)
    assert "It is now outside the planned window 11:00–12:00." in shown
    assert "It is now outside today's service hours, 08:00–20:00." in shown
    assert "A call recorded now is noted so on the case's timeline." in shown
    record_call(client, task, "busy")
    db.session.expire_all()
    event = [e for e in case.events if e.kind == "callback"][-1]
    assert event.facts["outside_hours"] == ["08:00", "20:00"]
    assert said(event).endswith("Recorded outside the planned window 25.11.2026 11–12. "
                                "Recorded outside the service hours 08:00–20:00. "
                                "Next attempt 26.11.2026 08–09.")
    assert "utanför det planerade tidsfönstret 25.11.2026 11–12" in said(event, "sv")
    assert "suunnitellun soittoajan 25.11.2026 11–12 ulkopuolella" in said(event, "fi")

    clock.set(datetime(2026, 11, 28, 12, 0, tzinfo=HELSINKI))  # Saturday
    assert "There are no service hours today." in card(client)
    record_call(client, task, "reached", "Allt klart.")
    db.session.expire_all()
    event = [e for e in case.events if e.kind == "callback"][-1]
    assert event.facts["outside_hours"] == "closed"
    assert "Recorded on a day without service hours." in said(event)


# The written confirmation


def test_a_reached_complaint_call_is_confirmed_by_email_in_the_customers_language(
        client, login, case, run_worker, clock):
    login("cs.agent")
    answer(client, case)
    clock.set(datetime(2026, 12, 1, 9, 15, tzinfo=HELSINKI))
    response = record_call(client, the_task(), "reached", SUMMARY)
    flash = text_of(client.get(response.headers["Location"]))
    assert "Its written confirmation is on its way by email." in flash
    [confirmation] = confirmations()
    assert (confirmation.channel, confirmation.status) == ("email", "pending")
    text = confirmation.text
    assert text.startswith("Hej Åsa Lindqvist,")
    assert "Som vi berättade för dig i telefon den 1.12.2026" in text
    assert SUMMARY in text and PARAGRAPH["sv"] in text
    assert text.index(SUMMARY) < text.index(PARAGRAPH["sv"]) < text.index("Banken")
    [message] = db.session.scalars(sa.select(OutboxMessage)).all()
    assert message.kind == "written_confirmation" and message.recipient == case.contact_email
    assert message.subject == f"Bekräftelse av vårt svar på din respons {case.reference}"
    assert PARAGRAPH["sv"] in message.body_text
    # The call answered the customer: the promise is measured on it, not on the confirmation.
    assert case.status == CaseStatus.ANSWERED
    assert case.first_answered_at == datetime(2026, 12, 1, 9, 15, tzinfo=HELSINKI)
    assert (case.first_answer_channel, str(case.first_answer_on)) == ("phone", "2026-12-01")
    replied = [e for e in case.events if e.kind == "replied"][-1]
    assert said(replied) == (
        "The answer given by phone on 1.12.2026 is confirmed to the customer in writing, with "
        f"the paragraph on FINE and the Consumer Disputes Board. It goes by email to "
        f"{case.contact_email}.")
    clock.set(datetime(2026, 12, 1, 10, 0, tzinfo=HELSINKI))
    assert run_worker() == {"sent": 1}
    db.session.expire_all()
    assert case.first_answered_at == datetime(2026, 12, 1, 9, 15, tzinfo=HELSINKI)
    assert said(case.events[-1]) == ("The written confirmation of the phone answer was handed "
                                     "to the mail server.")


def test_own_banking_matters_are_confirmed_by_letter(client, login, case, clock):
    case.own_banking_matter = True
    case.language = Language.FI
    db.session.commit()
    login("cs.agent")
    answer(client, case, body="Kortti avattiin uudelleen.")
    assert PARAGRAPH["fi"] in card(client)
    assert "your summary goes to them in writing as a letter" in card(client)
    record_call(client, the_task(), "reached", "Kerroin, että kortti toimii taas.")
    [confirmation] = confirmations()
    assert confirmation.channel == "letter"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0
    letter = db.session.scalar(sa.select(Letter))
    assert letter.answer_id == confirmation.id
    pdf = " ".join(page.extract_text() for page in PdfReader(BytesIO(letter.pdf)).pages)
    pdf = re.sub(r"\s+", " ", pdf)
    assert "Kirjallinen vahvistus" in pdf and "Kuten kerroimme sinulle puhelimessa 25.11.2026" in pdf
    assert "Kerroin, että kortti toimii taas." in pdf and PARAGRAPH["fi"] in pdf
    queue = text_of(client.get("/letters/cs"))
    assert "Written confirmation" in queue and case.reference in queue


@pytest.mark.parametrize("case_type, final", [(CaseType.QUESTION, "y"),
                                              (CaseType.COMPLAINT, "")])
def test_other_feedback_and_a_complaints_interim_answer_get_no_confirmation(
        client, login, case, case_type, final):
    case.case_type = case_type
    db.session.commit()
    login("cs.agent")
    answer(client, case, final=final)
    assert "Read this out" not in card(client)
    record_call(client, the_task(), "reached", SUMMARY)
    assert confirmations() == []
    assert case.status == CaseStatus.ANSWERED and case.first_answered_at == NOW
    assert post_action(client, case, "close", resolution="answered").status_code == 302


def test_the_case_is_answered_at_the_call_but_closes_only_once_the_confirmation_is_posted(
        client, login, case, clock):
    case.own_banking_matter = True
    db.session.commit()
    login("cs.agent")
    answer(client, case)
    record_call(client, the_task(), "reached", SUMMARY)
    db.session.expire_all()
    assert case.status == CaseStatus.ANSWERED
    refused = text_of(post_action(client, case, "close", resolution="answered"))
    assert ("Not closed yet: the customer was answered by phone, and the case closes once the "
            "written confirmation has been posted (the letter waits in the print queue).") in refused
    db.session.expire_all()
    assert case.status == CaseStatus.ANSWERED
    letter = db.session.scalar(sa.select(Letter))
    page = client.get("/letters/cs").get_data(as_text=True)
    clock.set(NOW + timedelta(days=1))
    client.post(f"/letters/{letter.id}/posted", data=hidden_fields(page, f"letter{letter.id}"))
    db.session.expire_all()
    assert case.first_answered_at == NOW  # the call, still
    assert said(case.events[-1]) == ("The written confirmation of the phone answer was posted "
                                     "as a letter on 26.11.2026.")
    assert post_action(client, case, "close", resolution="answered").status_code == 302
    db.session.expire_all()
    assert case.status == CaseStatus.CLOSED


def test_close_when_delivered_waits_for_the_confirmation(client, login, case, run_worker,
                                                         clock):
    login("cs.agent")
    response = answer(client, case, send=None, send_and_close="Send, close when delivered")
    assert ("The case closes when the customer has been reached and the written confirmation "
            "has been delivered.") in text_of(client.get(response.headers["Location"]))
    record_call(client, the_task(), "reached", SUMMARY)
    assert kinds(case)[-3:] == ["callback", "replied", "delivered"]
    assert case.status == CaseStatus.ANSWERED
    assert said(case.events[-1]) == ("The answer was given to the customer by phone. The case "
                                     "closes once the written confirmation has been delivered "
                                     "too.")
    clock.set(NOW + timedelta(minutes=5))
    assert run_worker() == {"sent": 1}
    assert kinds(case)[-2:] == ["delivered", "closed"]
    assert (case.status, case.resolution) == (CaseStatus.CLOSED, "answered")
    assert case.closed_at == NOW + timedelta(minutes=5) and case.first_answered_at == NOW
    assert said(case.events[-1]) == ("Closed when the answer was delivered, as Cs Agent asked "
                                     "when sending it.")


def test_a_complaints_final_answer_by_phone_needs_a_way_to_confirm_it_in_writing(
        client, login, case):
    case.contact_email, case.contact_street = "", ""
    db.session.commit()
    login("cs.agent")
    page = text_of(answer(client, case))
    assert ("The final answer to a complaint given by phone is confirmed in writing, but this "
            "case has neither a usable email address nor a full postal address.") in page
    assert the_task() is None
    assert answer(client, case, final="").status_code == 302  # an interim answer may be called


def test_a_waiting_confirmation_can_be_cancelled_and_the_timeline_says_so(client, login, case):
    login("cs.agent")
    answer(client, case)
    record_call(client, the_task(), "reached", SUMMARY)
    [confirmation] = confirmations()
    assert post_action(client, case, "cancel_reply",
                       answer_id=str(confirmation.id)).status_code == 302
    db.session.expire_all()
    assert confirmation.status == "cancelled"
    assert said(case.events[-1]) == ("Cs Agent cancelled the written confirmation email before it "
                                     "went out.")
    assert client.get(f"/cases/{case.reference}").status_code == 200
