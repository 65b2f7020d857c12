"""Answers by email (through the outbox and a real SMTP server), phone callbacks and letters."""

import re
import threading
from datetime import date, datetime, timedelta
from email.header import decode_header, make_header
from io import BytesIO

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from feedback_intranet.extensions import db
from feedback_intranet.models import (
    Answer,
    CallbackTask,
    CaseStatus,
    DeviatingHours,
    Letter,
    OutboxMessage,
    ReplyTemplate,
    UnitKind,
)

from .conftest import HELSINKI, colleague_writes_first, said, statements_sent
from .test_case_pages import hidden_fields, post_action

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=HELSINKI)  # Wednesday; received now, due Monday 30.11.


@pytest.fixture
def org(make_unit, make_user):
    units = {
        "cs": make_unit(code="cs", name="Customer service", kind=UnitKind.CUSTOMER_SERVICE),
        "turku": make_unit(code="turku", name="Turku"),
    }
    people = {
        "cs.agent": make_user("cs.agent", units=[units["cs"]]),
        "cs.other": make_user("cs.other", units=[units["cs"]]),
        "turku.staff": make_user("turku.staff", units=[units["turku"]]),
    }
    return units, people


@pytest.fixture
def case(org, make_case, clock):
    clock.set(NOW)
    case = make_case(org[0]["cs"], received_at=NOW, status=CaseStatus.ASSIGNED,
                     assignee=org[1]["cs.agent"], contact_name="Åsa Lindqvist")
    case.contact_street, case.contact_postal_code, case.contact_city = "Slottsgatan 3", "20100", "Åbo"
    case.contact_phone = "+358401234567"
    db.session.commit()
    return case


def answer(client, case, **fields):
    fields.setdefault("channel", "email")
    fields.setdefault("final", "y")
    fields.setdefault("send", "Send")
    return post_action(client, case, "answer", **fields)


def header(value):
    return str(make_header(decode_header(value)))


def outbox():
    return db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)).all()


# Email through the outbox


def test_an_email_answer_is_queued_then_delivered_and_counts_when_handed_over(
    client, login, case, smtp_server, run_worker, clock
):
    login("cs.agent")
    response = answer(client, case, body="Kortti on nyt avattu.")
    assert response.status_code == 302
    db.session.expire_all()
    [message] = outbox()
    assert message.status == "queued" and message.recipient == "aino@example.fi"
    assert case.status == CaseStatus.ASSIGNED and case.first_answered_at is None
    assert smtp_server.messages == []  # nothing is sent inside the web request

    clock.set(NOW + timedelta(days=1))  # Thursday: one banking day after receipt
    assert run_worker() == {"sent": 1}
    [mail] = smtp_server.messages
    assert mail["Message-ID"] == message.message_id
    assert header(mail["From"]) == "Customer service <feedback@bank.example>"
    assert header(mail["Subject"]) == f"Vastaus palautteeseesi {case.reference}"
    [plain] = [part for part in mail.walk() if part.get_content_type() == "text/plain"]
    text = plain.get_payload(decode=True).decode()
    assert "Hei Åsa Lindqvist," in text and "Kortti on nyt avattu." in text
    assert "vastauksia ei lueta" in text and "verkkopankin suojatulla viestillä" in text

    db.session.expire_all()
    assert case.status == CaseStatus.ANSWERED
    assert case.first_answered_at == NOW + timedelta(days=1)
    assert case.first_answer_banking_days == 1
    assert [e.kind for e in case.events][-2:] == ["replied", "delivered"]
    page = client.get(f"/cases/{case.reference}").get_data(as_text=True)
    assert '<span class="badge badge-answered">answered</span>' in page


def test_transient_failures_are_retried_with_backoff_and_one_message_id(
    case, login, client, smtp_server, run_worker, clock
):
    smtp_server.fail_next = 2
    login("cs.agent")
    answer(client, case, body="Vastaus.")
    assert run_worker() == {"queued": 1}
    message = outbox()[0]
    assert (message.attempts, message.next_attempt_at) == (1, NOW + timedelta(seconds=60))
    assert "451" in message.last_error
    assert run_worker() == {}  # not due yet: the clock has not moved
    clock.set(NOW + timedelta(seconds=60))
    assert run_worker() == {"queued": 1}
    db.session.expire_all()
    assert message.next_attempt_at == NOW + timedelta(seconds=60 + 120)
    clock.set(NOW + timedelta(seconds=180))
    assert run_worker() == {"sent": 1}
    assert [m["Message-ID"] for m in smtp_server.messages] == [message.message_id]


def test_a_permanent_failure_flags_the_case_and_offers_another_channel(
    case, login, client, smtp_server, run_worker
):
    smtp_server.reject = True
    login("cs.agent")
    answer(client, case, body="Vastaus.")
    assert run_worker() == {"failed": 1}
    db.session.expire_all()
    assert case.status == CaseStatus.ASSIGNED and case.first_answered_at is None
    assert case.delivery_problem.startswith("Email could not be delivered: 550")
    page = client.get(f"/cases/{case.reference}").get_data(as_text=True)
    alert = re.search(r'<p class="flash flash-error" role="alert">(.*?)</p>', page, re.S).group(1)
    assert "The answer did not reach the customer. The mail server said: 550" in alert
    assert "Send the answer another way" in alert
    assert case.events[-1].kind == "delivery_failed"
    # A Finnish reader reads it in Finnish, the mail server's own words as they came.
    case.assignee.language = "fi"
    db.session.commit()
    page = client.get(f"/cases/{case.reference}").get_data(as_text=True)
    assert "Vastaus ei mennyt perille asiakkaalle. Sähköpostipalvelimen vastaus: 550" in page


def test_with_no_mail_server_the_worker_gives_up_after_the_limit(app, case, login, client,
                                                                run_worker, clock, mail_app):
    mail_app.extensions["mail"].port = mail_app.config["MAIL_PORT"] = 1  # nothing listens there
    login("cs.agent")
    answer(client, case, body="Vastaus.")
    moment = NOW
    for _ in range(app.config["OUTBOX_MAX_ATTEMPTS"]):
        run_worker()
        moment += timedelta(days=1)
        clock.set(moment)
    message = outbox()[0]
    assert message.status == "failed" and message.attempts == app.config["OUTBOX_MAX_ATTEMPTS"]
    assert "gave up after" in message.last_error


def test_sensitive_data_is_refused_and_the_draft_kept(case, login, client):
    login("cs.agent")
    response = answer(client, case, body="Tilisi FI21 1234 5600 0007 85 on avattu.")
    page = response.get_data(as_text=True)
    assert "The text contains sensitive data: account number (IBAN)" in page
    assert "Tilisi FI21 1234 5600 0007 85 on avattu.</textarea>" in page
    assert outbox() == [] and db.session.scalars(sa.select(Answer)).all() == []


def test_a_preview_shows_exactly_what_the_customer_receives(case, login, client):
    case.language = "sv"
    case.case_type = "complaint"
    db.session.commit()
    login("cs.agent")
    page = answer(client, case, body="Vi har rättat felet.", preview="Preview",
                  send=None).get_data(as_text=True)
    preview = page.split('class="message preview">')[1].split("</div>")[0]
    assert f"Svar på din respons {case.reference}" in page  # the email's subject
    assert preview.startswith("Hej Åsa Lindqvist,")
    assert "Vi har rättat felet." in preview
    assert "konsumenttvistenämnden" in preview and "FINE" in preview
    assert "Banken\n\n--" in preview and "nätbankens" in preview  # the email footer
    assert outbox() == []


def test_switching_channel_needs_a_reason_and_the_contact_detail(case, login, client):
    login("cs.agent")
    page = answer(client, case, channel="letter", body="x").get_data(as_text=True)
    assert "say why you answer another way" in page
    case.contact_phone = ""
    db.session.commit()
    page = answer(client, case, channel="phone", body="x", reason="asked").get_data(as_text=True)
    assert "cannot be answered by phone call: no phone number" in page
    assert answer(client, case, channel="letter", body="Kirje.",
                  reason="The customer asked on the phone.").status_code == 302
    db.session.expire_all()
    assert ("The customer had asked for an answer by email. Reason: The customer asked on the "
            "phone.") in said(case.events[-1])


def test_own_banking_matters_are_never_answered_by_email(case, login, client):
    login("cs.agent")
    page = client.get(f"/cases/{case.reference}").get_data(as_text=True)
    data = hidden_fields(page, "banking_matter")
    data["banking_matter-value"] = "y"
    client.post(f"/cases/{case.reference}/banking_matter", data=data)
    page = client.get(f"/cases/{case.reference}").get_data(as_text=True)
    assert "never by email" in page
    assert "not possible: it concerns the customer" in page and "own banking matters" in page
    refused = answer(client, case, body="x").get_data(as_text=True)
    assert "cannot be answered by email" in refused
    assert outbox() == []


def test_reply_templates_fill_the_text_in_the_customers_language(case, login, client, topic):
    db.session.add_all([
        ReplyTemplate(title="Kortti avattu", topic_id=topic.id, language="fi",
                      body="Korttisi on avattu uudelleen."),
        ReplyTemplate(title="Kort öppnat", topic_id=topic.id, language="sv", body="Kortet öppnat."),
    ])
    db.session.commit()
    template = db.session.scalar(sa.select(ReplyTemplate).where(ReplyTemplate.language == "fi"))
    login("cs.agent")
    page = client.get(f"/cases/{case.reference}?template={template.id}").get_data(as_text=True)
    assert "Kortti avattu" in page and "Kort öppnat" not in page
    assert "Korttisi on avattu uudelleen.</textarea>" in page


def test_the_outbox_command(runner, case, login, client, smtp_server, mail_app):
    login("cs.agent")
    answer(client, case, body="Vastaus.")
    with mail_app.app_context():
        result = mail_app.test_cli_runner().invoke(args=["outbox", "send"])
    assert result.exit_code == 0 and result.output == "1 email handed to the mail server\n"
    assert len(smtp_server.messages) == 1


@pytest.mark.committed  # two worker threads, each with its own connection
@pytest.mark.skipif("not __import__('os').environ.get('TEST_DATABASE_URL')",
                    reason="several workers at once need PostgreSQL's SKIP LOCKED")
def test_two_workers_deliver_two_hundred_messages_exactly_once(data, smtp_server, mail_app):
    from feedback_intranet.outbox import deliver_due, enqueue

    with mail_app.app_context():
        for n in range(200):
            enqueue(kind="notification", recipient=f"staff{n}@bank.example", subject=f"n{n}",
                    body_text="x", now=NOW)
        db.session.commit()
        db.session.remove()

    def worker():
        with mail_app.app_context():
            deliver_due(batch=7)
            db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ids = [m["Message-ID"] for m in smtp_server.messages]
    assert len(ids) == 200 and len(set(ids)) == 200
    statuses = db.session.scalars(sa.select(OutboxMessage.status)).all()
    assert statuses == ["sent"] * 200


# Phone callbacks


def test_a_phone_answer_plans_a_callback_inside_service_hours(case, login, client, clock):
    clock.set(datetime(2026, 11, 25, 19, 30, tzinfo=HELSINKI))  # after the last window starts
    login("cs.agent")
    answer(client, case, channel="phone", body="Soitan ja kerron.", reason="Asiakas toivoi.")
    [task] = db.session.scalars(sa.select(CallbackTask)).all()
    assert task.window_start == datetime(2026, 11, 26, 8, 0, tzinfo=HELSINKI)
    assert task.phone == "+358401234567" and task.segment == "private"
    page = client.get("/callbacks/cs").get_data(as_text=True)
    assert "+358401234567" in page and case.reference in page
    assert "Soitan ja kerron." in page


def record(client, task, outcome, summary=""):
    page = client.get("/callbacks/cs").get_data(as_text=True)
    token = re.search(rf'name="task{task.id}-token" type="hidden" value="([^"]+)"', page).group(1)
    return client.post(f"/callbacks/task/{task.id}", data={
        f"task{task.id}-outcome": outcome, f"task{task.id}-summary": summary,
        f"task{task.id}-token": token})


def test_a_reached_customer_makes_the_summary_the_answer(case, login, client):
    login("cs.agent")
    answer(client, case, channel="phone", body="x", reason="r")
    task = db.session.scalar(sa.select(CallbackTask))
    refused = record(client, task, "reached", "")
    assert "Write a summary of the call" in refused.get_data(as_text=True)
    record(client, task, "reached", "Kerroin, että kortti on avattu.")
    db.session.expire_all()
    assert case.status == CaseStatus.ANSWERED and case.first_answered_at == NOW
    assert task.answer.text == "Kerroin, että kortti on avattu."
    assert [e.kind for e in case.events][-2:] == ["callback", "delivered"]
    assert "No calls to make." in client.get("/callbacks/cs").get_data(as_text=True)


def test_three_unanswered_calls_tell_the_holder_and_offer_another_channel(case, login, client,
                                                                          org):
    org[1]["cs.agent"].notify_by_email = True
    db.session.commit()
    login("cs.other")
    post_action(client, case, "take")
    client.post("/logout")
    login("cs.agent")
    post_action(client, case, "take")
    answer(client, case, channel="phone", body="x", reason="r")
    task = db.session.scalar(sa.select(CallbackTask))
    first_window = task.window_start
    record(client, task, "no_answer")
    db.session.expire_all()
    assert task.attempts == 1 and task.window_start > first_window and task.status == "open"
    record(client, task, "busy")
    record(client, task, "no_answer")
    db.session.expire_all()
    assert task.status == "gave_up"
    assert "3 calls did not reach the customer" in case.delivery_problem
    assert [m.recipient for m in outbox()] == ["cs.agent@bank.example"]
    assert len([e for e in case.events if e.kind == "callback"]) == 3


def test_a_wrong_number_flags_the_case(case, login, client):
    login("cs.agent")
    answer(client, case, channel="phone", body="x", reason="r")
    record(client, case_task := db.session.scalar(sa.select(CallbackTask)), "wrong_number")
    db.session.expire_all()
    assert case_task.status == "wrong_number" and "wrong phone number" in case.delivery_problem


def test_a_call_recorded_while_a_colleague_changes_the_case_is_refused_not_a_500(case, login,
                                                                                 client):
    login("cs.agent")
    answer(client, case, channel="phone", body="x", reason="r")
    task = db.session.scalar(sa.select(CallbackTask))
    with colleague_writes_first(case):
        response = record(client, task, "reached", "Kerroin, että kortti on avattu.")
    assert response.status_code == 302
    page = client.get(response.location).get_data(as_text=True)
    assert f"{case.reference} changed while you recorded the call. Nothing was recorded" in page
    db.session.expire_all()
    assert task.status == "open" and task.attempts == 0
    assert case.status != CaseStatus.ANSWERED and case.first_answered_at is None
    assert [e.kind for e in case.events].count("callback") == 0


def test_two_people_recording_the_same_call_at_once_count_one_attempt(case, login, client):
    """"No answer" changes the call, not the case: the call's own version catches the race."""
    login("cs.agent")
    answer(client, case, channel="phone", body="x", reason="r")
    task = db.session.scalar(sa.select(CallbackTask))
    with colleague_writes_first(task):
        response = record(client, task, "no_answer")
    assert response.status_code == 302
    assert "Nothing was recorded" in client.get(response.location).get_data(as_text=True)
    db.session.expire_all()
    assert task.attempts == 0 and [e.kind for e in case.events].count("callback") == 0


# Letters


def pdf_text(data):
    return "\n".join(page.extract_text() for page in PdfReader(BytesIO(data)).pages)


def test_a_letter_for_a_swedish_customer_is_addressed_and_in_swedish(case, login, client):
    case.language = "sv"
    db.session.commit()
    login("cs.agent")
    answer(client, case, channel="letter", body="Vi har öppnat ditt kort.", reason="Brev önskat.")
    letter = db.session.scalar(sa.select(Letter))
    page = client.get("/letters/cs").get_data(as_text=True)
    assert case.reference in page
    response = client.get(f"/letters/{letter.id}.pdf")
    assert response.mimetype == "application/pdf"
    text = pdf_text(response.data)
    assert "Åsa Lindqvist\nSlottsgatan 3\n20100 Åbo" in text
    assert f"Referens: {case.reference}" in text and "25.11.2026" in text
    assert "Hej Åsa Lindqvist," in text and "Vi har öppnat ditt kort." in text
    assert "Med vänlig hälsning" in text and "Customer service\nTestikatu 1" in text


def letter_form(client, letter):
    page = client.get("/letters/cs").get_data(as_text=True)
    return hidden_fields(page, f"letter{letter.id}")


def test_letters_are_posted_once_and_never_changed_after(case, login, client, clock):
    login("cs.agent")
    answer(client, case, channel="letter", body="Kirje.", reason="r")
    letter = db.session.scalar(sa.select(Letter))
    data = letter_form(client, letter)
    data[f"letter{letter.id}-token"] += "-again"
    assert client.post(f"/letters/{letter.id}/regenerate", data=data).status_code == 302
    clock.set(NOW + timedelta(days=2))
    client.post(f"/letters/{letter.id}/posted", data=letter_form(client, letter))
    db.session.expire_all()
    assert letter.posted_at == NOW + timedelta(days=2)
    assert case.status == CaseStatus.ANSWERED and case.first_answer_banking_days == 2
    assert "posted as a letter on 27.11.2026" in said(case.events[-1])
    from feedback_intranet.replies import operations

    with pytest.raises(operations.Refusal, match="cannot be changed"):
        operations.regenerate_letter(case.assignee, letter, today=NOW.date())
    assert "No letters are waiting" in client.get("/letters/cs").get_data(as_text=True)


def test_a_letter_posted_while_a_colleague_changes_it_is_refused_not_a_500(case, login, client):
    login("cs.agent")
    answer(client, case, channel="letter", body="Kirje.", reason="r")
    letter = db.session.scalar(sa.select(Letter))
    with colleague_writes_first(letter):
        response = client.post(f"/letters/{letter.id}/posted", data=letter_form(client, letter))
    assert response.status_code == 302
    page = client.get(response.location).get_data(as_text=True)
    assert f"{case.reference} changed meanwhile. Nothing was done" in page
    db.session.expire_all()
    assert letter.posted_at is None and case.first_answered_at is None


def test_all_waiting_letters_download_as_one_pdf(case, login, client, make_case, org):
    other = make_case(org[0]["cs"], status=CaseStatus.ASSIGNED, assignee=org[1]["cs.agent"],
                      contact_name="Eero Esimerkki")
    other.contact_street, other.contact_postal_code, other.contact_city = "Katu 1", "00100", "Helsinki"
    db.session.commit()
    login("cs.agent")
    answer(client, case, channel="letter", body="Ensimmäinen.", reason="r")
    answer(client, other, channel="letter", body="Toinen.", reason="r")
    response = client.get("/letters/cs/waiting.pdf")
    assert len(PdfReader(BytesIO(response.data)).pages) == 2
    assert "Ensimmäinen." in pdf_text(response.data) and "Toinen." in pdf_text(response.data)


def test_other_units_see_no_callbacks_or_letters(case, login, client):
    login("cs.agent")
    answer(client, case, channel="letter", body="Kirje.", reason="r")
    letter = db.session.scalar(sa.select(Letter))
    client.post("/logout")
    login("turku.staff")
    assert client.get("/callbacks/cs").status_code == 404
    assert client.get("/letters/cs").status_code == 404
    assert client.get(f"/letters/{letter.id}.pdf").status_code == 404
    assert client.post(f"/letters/{letter.id}/posted", data={}).status_code == 404
    assert client.get("/letters/cs/waiting.pdf").status_code == 404


def test_only_the_holder_answers(case, login, client):
    login("cs.other")
    assert 'id="answer-title"' not in client.get(f"/cases/{case.reference}").get_data(as_text=True)
    response = client.post(f"/cases/{case.reference}/answer", data={
        "answer-token": "t" * 16, "answer-version": str(case.version), "answer-channel": "email",
        "answer-body": "x", "answer-send": "Send"})
    assert response.status_code == 403
    assert outbox() == [] and db.session.scalars(sa.select(Answer)).all() == []


def test_one_answer_at_a_time(case, login, client):
    login("cs.agent")
    answer(client, case, body="Ensimmäinen.")
    page = client.get(f"/cases/{case.reference}").get_data(as_text=True)
    assert 'id="answer-title"' not in page and "Cancel the email" in page
    # Posted anyway, with the case's current version: the operation refuses, and says so at the top.
    db.session.expire_all()
    refused = client.post(f"/cases/{case.reference}/answer", data={
        "answer-token": "t" * 16, "answer-version": str(case.version), "answer-channel": "letter",
        "answer-reason": "r", "answer-body": "Toinen.", "answer-send": "Send"})
    summary = refused.get_data(as_text=True).split("data-error-summary")[1].split("</div>")[0]
    assert "already on its way" in summary
    assert len(db.session.scalars(sa.select(Answer)).all()) == 1


@pytest.mark.parametrize("channel", ["email", "phone"])
def test_a_call_is_planned_within_the_days_deviating_hours(app, case, login, client, channel):
    """The hours are read when the phone channel plans the call, and only then: a day without
    service moves the first window to the next banking day."""
    db.session.add(DeviatingHours(day=NOW.date(), reason="Koulutus"))
    db.session.commit()
    login("cs.agent")
    with statements_sent(app) as sent:
        assert answer(client, case, channel=channel, body="x", reason="r").status_code == 302
    read = [statement for statement in sent if "FROM deviating_hours" in statement]
    assert len(read) == (channel == "phone")
    assert db.session.scalar(sa.select(Answer.channel)) == channel
    # The answer is written once, its email's subject with it.
    assert not [statement for statement in sent if statement.startswith("UPDATE answer")]
    if channel == "phone":
        task = db.session.scalar(sa.select(CallbackTask))
        assert task.window_start.astimezone(HELSINKI).date() == date(2026, 11, 26)


def test_calls_and_letters_follow_a_forwarded_case(case, login, client, org):
    login("cs.agent")
    answer(client, case, channel="phone", body="x", reason="r")
    post_action(client, case, "forward", unit=str(org[0]["turku"].id), note="Teille")
    assert "No calls to make." in client.get("/callbacks/cs").get_data(as_text=True)
    task = db.session.scalar(sa.select(CallbackTask))
    response = client.post(f"/callbacks/task/{task.id}", data={
        f"task{task.id}-outcome": "reached", f"task{task.id}-summary": "x",
        f"task{task.id}-token": "t" * 16})
    assert response.status_code == 404
    db.session.refresh(task)
    assert task.status == "open" and task.unit_id == org[0]["turku"].id
    client.post("/logout")
    login("turku.staff")
    assert case.reference in client.get("/callbacks/turku").get_data(as_text=True)


def test_a_letter_to_post_follows_a_forwarded_case_and_a_cancelled_one_stays(case, login, client,
                                                                             org):
    login("cs.agent")
    answer(client, case, channel="letter", body="Kirje.", reason="r")
    post_action(client, case, "forward", unit=str(org[0]["turku"].id), note="Teille")
    letter = db.session.scalar(sa.select(Letter))
    db.session.refresh(letter)
    assert letter.unit_id == org[0]["turku"].id and letter.version == 2
    assert "No letters are waiting" in client.get("/letters/cs").get_data(as_text=True)
    client.post("/logout")
    login("turku.staff")
    assert case.reference in client.get("/letters/turku").get_data(as_text=True)
    # Cancelled, the letter waits for nobody: forwarding the case on leaves it as it was.
    cancel(client, case, letter.answer)
    post_action(client, case, "forward", unit=str(org[0]["cs"].id), note="Takaisin")
    db.session.expire_all()
    assert (letter.unit_id, letter.version, letter.answer.status) == (
        org[0]["turku"].id, 3, "cancelled")
    assert db.session.get(type(case), case.id).current_unit_id == org[0]["cs"].id


def cancel(client, case, answer_row):
    return post_action(client, case, "cancel_reply", answer_id=str(answer_row.id))


def test_a_case_whose_call_is_still_to_make_is_closed_only_after_the_call_is_cancelled(
        case, login, client):
    login("cs.agent")
    answer(client, case, channel="phone", body="x", reason="r")
    refused = post_action(client, case, "close", resolution="withdrawn").get_data(as_text=True)
    assert "Not closed: Answer by phone, the call not yet made." in refused
    task = db.session.scalar(sa.select(CallbackTask))
    assert task.status == "open" and case.reference in client.get("/callbacks/cs").get_data(
        as_text=True)
    cancel(client, case, task.answer)
    post_action(client, case, "close", resolution="withdrawn")
    db.session.expire_all()
    assert task.status == "cancelled" and task.answer.status == "cancelled"
    assert case.status == "closed"
    assert "No calls to make." in client.get("/callbacks/cs").get_data(as_text=True)


def test_a_cancelled_call_leaves_the_case_free_to_be_answered_another_way(case, login, client):
    login("cs.agent")
    answer(client, case, channel="phone", body="x", reason="r")
    cancel(client, case, db.session.scalar(sa.select(Answer)))
    response = answer(client, case, channel="email", body="Vastaus sähköpostilla.",
                      reason="Asiakas pyysi.")
    assert "already on its way" not in response.get_data(as_text=True)
    db.session.expire_all()
    answers = db.session.scalars(sa.select(Answer).order_by(Answer.id)).all()
    assert [(a.channel, a.status) for a in answers] == [("phone", "cancelled"), ("email", "pending")]


def test_a_call_cancelled_since_the_list_was_opened_is_refused_with_a_reason(case, login, client):
    login("cs.agent")
    answer(client, case, channel="phone", body="x", reason="r")
    task = db.session.scalar(sa.select(CallbackTask))
    page = client.get("/callbacks/cs").get_data(as_text=True)
    token = re.search(rf'name="task{task.id}-token" type="hidden" value="([^"]+)"', page).group(1)
    cancel(client, case, task.answer)
    response = client.post(f"/callbacks/task/{task.id}", data={
        f"task{task.id}-outcome": "no_answer", f"task{task.id}-token": token})
    assert response.status_code == 302
    page = client.get(response.location).get_data(as_text=True)
    assert "This call was cancelled." in page
    db.session.expire_all()
    assert task.status == "cancelled" and task.attempts == 0


@pytest.mark.parametrize("path", ["/callbacks/task/99999999999999999999",
                                  "/letters/99999999999999999999.pdf"])
def test_huge_ids_in_reply_urls_are_not_found(client, login, case, path):
    login("cs.agent")
    response = client.post(path) if "task" in path else client.get(path)
    assert response.status_code == 404


def test_a_worker_whose_claim_ran_out_does_not_send_again(case, login, client, smtp_server,
                                                         mail_app, clock):
    from feedback_intranet.outbox import _deliver, claim, deliver_due

    login("cs.agent")
    answer(client, case, body="Vastaus.")
    with mail_app.app_context():
        [message_id] = claim("slow-worker", NOW)  # then it hangs past its lease
        clock.set(NOW + timedelta(minutes=6))
        assert deliver_due() == {"sent": 1}  # another worker takes it over
        assert _deliver(message_id, "slow-worker", NOW + timedelta(minutes=7)) is None
        db.session.remove()
    assert len(smtp_server.messages) == 1


def test_a_failure_after_the_mail_server_took_the_message_never_resends(
    case, login, client, smtp_server, run_worker, clock, monkeypatch
):
    from feedback_intranet.replies import outcomes

    calls = {"n": 0}
    real = outcomes.mark_delivered

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("the case was being edited")
        return real(*args, **kwargs)

    monkeypatch.setattr(outcomes, "mark_delivered", flaky)
    login("cs.agent")
    answer(client, case, body="Vastaus.")
    assert run_worker() == {"sent": 1}
    clock.set(NOW + timedelta(minutes=10))
    assert run_worker() == {}
    assert len(smtp_server.messages) == 1
    db.session.expire_all()
    assert case.status == CaseStatus.ANSWERED  # recorded on the retry


def test_an_answer_email_says_in_its_html_which_language_it_is_written_in(
        case, login, client, smtp_server, run_worker):
    login("cs.agent")
    answer(client, case, body="Kortti on nyt avattu.")
    run_worker()
    [mail] = smtp_server.messages
    [html] = [part for part in mail.walk() if part.get_content_type() == "text/html"]
    assert '<html lang="fi">' in html.get_payload(decode=True).decode()


# Statuses say only what is known: an email is on its way until the mail server takes it, a
# letter waits until someone marks it posted, a call is still to make until someone records it;
# and the timeline names the person who posted the letter or made the call.


def answers_row(client, case):
    page = client.get(f"/cases/{case.reference}").get_data(as_text=True)
    table = page[page.index('id="answers-title"'):]
    return re.sub(r"\s+", " ", table[:table.index("</tbody>")])


def last_delivery(case):
    db.session.expire_all()
    [event] = [e for e in case.events if e.kind.value == "delivered"][-1:]
    return event.actor.full_name if event.actor else None, said(event)


def test_an_email_is_on_its_way_until_the_mail_server_takes_it(client, login, case, run_worker,
                                                                 clock):
    login("cs.agent")
    done = client.get(answer(client, case, body="Kortti on avattu.").headers["Location"])
    assert "is on its way by email" in done.get_data(as_text=True)
    assert "on its way by email" in answers_row(client, case)
    clock.set(NOW + timedelta(hours=1))
    assert run_worker() == {"sent": 1}
    row = answers_row(client, case)
    assert "handed to the mail server 25.11.2026 11:00" in row and "on its way" not in row
    assert last_delivery(case) == (None, "The answer was handed to the mail server.")


def test_a_letter_waits_in_the_print_queue_until_someone_marks_it_posted(client, login, case,
                                                                         clock):
    login("cs.agent")
    done = client.get(answer(client, case, channel="letter", body="Kirje.",
                             reason="Asiakas pyysi kirjettä.").headers["Location"])
    flashed = re.search(r'class="flash flash-success"[^>]*>([^<]*)<', done.get_data(as_text=True))
    assert "waits in the print queue to be posted" in flashed.group(1)
    assert "waiting in the print queue to be posted" in answers_row(client, case)
    letter = db.session.scalar(sa.select(Letter))
    clock.set(NOW + timedelta(days=2))
    client.post(f"/letters/{letter.id}/posted", data=letter_form(client, letter))
    row = answers_row(client, case)
    assert "posted 27.11.2026" in row and "Reached the customer" not in row
    assert last_delivery(case) == ("Cs Agent", "The answer was posted as a letter on 27.11.2026.")


def test_a_call_is_still_to_make_until_someone_reaches_the_customer(client, login, case):
    login("cs.agent")
    done = client.get(answer(client, case, channel="phone", body="Soitan.",
                             reason="Asiakas toivoi.").headers["Location"])
    assert "A callback to answer" in done.get_data(as_text=True)
    [task] = db.session.scalars(sa.select(CallbackTask)).all()
    start, end = (moment.astimezone(HELSINKI) for moment in (task.window_start, task.window_end))
    assert (f"callback planned {start.day}.{start.month}.{start.year} {start:%H:%M}–{end:%H:%M}"
            in answers_row(client, case))
    record(client, task, "reached", "Kerroin ratkaisun.")
    assert "customer reached by phone 25.11.2026 10:00" in answers_row(client, case)
    assert last_delivery(case) == ("Cs Agent", "The answer was given to the customer by phone.")
