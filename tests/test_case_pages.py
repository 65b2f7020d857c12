"""The case page, its action URLs, the workload view and my cases, through real requests."""

import re
from datetime import datetime

import pytest
import sqlalchemy as sa

from feedback_intranet.extensions import db
from feedback_intranet.models import Case, CaseEvent, CaseStatus, OutboxMessage, UnitKind

from .conftest import HELSINKI, colleague_writes_first, said, statements_sent

ACTIONS = ["take", "assign", "unassign", "forward", "note", "interim_notice", "close", "reopen",
           "duplicate"]


@pytest.fixture
def org(make_unit, make_user):
    units = {
        "cs": make_unit(code="cs", name="Customer service", kind=UnitKind.CUSTOMER_SERVICE),
        "helsinki": make_unit(code="helsinki-centre", name="Helsinki Centre"),
        "turku": make_unit(code="turku", name="Turku"),
        "cards": make_unit(code="cards", name="Cards", kind=UnitKind.CENTRAL_UNIT),
    }
    people = {
        "cs.agent": make_user("cs.agent", units=[units["cs"]]),
        "cs.other": make_user("cs.other", units=[units["cs"]]),
        "cs.lead": make_user("cs.lead", lead_of=[units["cs"]]),
        "branch.staff": make_user("branch.staff", units=[units["helsinki"]]),
        "turku.staff": make_user("turku.staff", units=[units["turku"]]),
    }
    return units, people


@pytest.fixture
def case(org, make_case):
    return make_case(org[0]["cs"])


def hidden_fields(page, action):
    """The hidden fields of one action form on the page: its CSRF token, version and token."""
    return dict(re.findall(rf'name="({action}-(?:version|token|csrf_token))"[^>]*value="([^"]*)"',
                           page))


def post_action(client, case, action, page=None, **fields):
    page = page or client.get(f"/cases/{case.reference}").get_data(as_text=True)
    data = hidden_fields(page, action)
    data.update({f"{action}-{name}": value for name, value in fields.items()})
    return client.post(f"/cases/{case.reference}/{action}", data=data)


def offered(page):
    return {a for a in ACTIONS if f'/{a}" class="action' in page}


def test_the_case_page_shows_the_case_and_only_the_actions_allowed_now(client, login, org, case):
    login("cs.agent")
    page = client.get(f"/cases/{case.reference}").get_data(as_text=True)
    for shown in (case.reference, "Customer service", "Aino Asiakas", "Korttini ei toimi.",
                  "30.11.2026", "Timeline"):
        assert shown in page
    assert offered(page) == {"take", "forward", "note", "interim_notice", "close", "duplicate"}
    client.post("/logout")
    login("cs.lead")
    assert "assign" in offered(client.get(f"/cases/{case.reference}").get_data(as_text=True))


def test_take_forward_and_the_timeline(client, login, org, case):
    units, _ = org
    login("cs.agent")
    assert post_action(client, case, "take").status_code == 302
    response = post_action(client, case, "forward", unit=str(units["helsinki"].id),
                           note="Asiakkaan kotikonttori hoitaa.")
    assert response.status_code == 302
    page = client.get(f"/cases/{case.reference}").get_data(as_text=True)
    assert "Read only: the case is now in Helsinki Centre" in page
    assert offered(page) == set()
    assert "from Customer service to Helsinki Centre" in page
    assert "Asiakkaan kotikonttori hoitaa." in page
    # It left the source inbox and waits, unassigned, in the target's.
    assert case.reference not in client.get("/inbox/cs").get_data(as_text=True)
    client.post("/logout")
    login("branch.staff")
    inbox = client.get("/inbox/helsinki-centre?filter=unassigned").get_data(as_text=True)
    assert case.reference in inbox


def test_forward_offers_the_suggested_target_first(client, login, org, case):
    units, _ = org
    case.suggested_unit_id = units["turku"].id
    db.session.commit()
    login("cs.agent")
    page = client.get(f"/cases/{case.reference}").get_data(as_text=True)
    options = re.findall(r'<option[^>]*value="(\d+)"', page.split('name="forward-unit"')[1])
    assert options[0] == str(units["turku"].id)
    assert "Turku (suggested)" in page


def test_a_refused_forward_keeps_what_was_typed(client, login, org, case):
    login("cs.agent")
    response = post_action(client, case, "forward", unit=str(org[0]["cs"].id),
                           note="Tämä teksti säilyy")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Tämä teksti säilyy" in page
    response = post_action(client, case, "forward", unit=str(org[0]["turku"].id), note="")
    assert 'id="forward-note-error">Write a note' in response.get_data(as_text=True)
    db.session.expire_all()
    assert case.current_unit_id == org[0]["cs"].id


def test_after_a_refusal_the_pages_other_forms_still_work(client, login, org, case):
    """Beside the refused form the others are fresh: a version, a token, the answer's channel."""
    login("cs.agent")
    refused = post_action(client, case, "forward", unit=str(org[0]["turku"].id), note="")
    page = refused.get_data(as_text=True)
    assert '<input checked id="answer-channel-0" name="answer-channel" type="radio" ' \
        'value="email">' in page
    assert post_action(client, case, "note", page=page, text="Kysyn Turusta.").status_code == 302
    db.session.expire_all()
    assert [e.kind for e in case.events][-1] == "note"


def test_a_double_click_acts_once(client, login, org, case):
    login("cs.agent")
    page = client.get(f"/cases/{case.reference}").get_data(as_text=True)
    first = post_action(client, case, "note", page=page, text="Soitin asiakkaalle.")
    second = post_action(client, case, "note", page=page, text="Soitin asiakkaalle.")
    assert first.status_code == second.status_code == 302
    notes = db.session.scalars(sa.select(CaseEvent).where(CaseEvent.kind == "note")).all()
    assert len(notes) == 1
    assert "That was already done." in client.get(f"/cases/{case.reference}").get_data(as_text=True)


def test_two_leads_reassigning_from_the_same_page_the_second_is_told(app, login, org, case, make_user):
    make_user("cs.lead2", lead_of=[org[0]["cs"]])
    first, second = app.test_client(), app.test_client()
    for client, user in ((first, "cs.lead"), (second, "cs.lead2")):
        client.post("/login", data={"username": user, "password": "correct horse battery"})
    page_1 = first.get(f"/cases/{case.reference}").get_data(as_text=True)
    page_2 = second.get(f"/cases/{case.reference}").get_data(as_text=True)
    assert post_action(first, case, "assign", page=page_1,
                       member=str(org[1]["cs.agent"].id)).status_code == 302
    refused = post_action(second, case, "assign", page=page_2, member=str(org[1]["cs.other"].id))
    assert "This case changed since you opened it" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert case.assignee_id == org[1]["cs.agent"].id
    assert len([e for e in case.events if e.kind == "assigned"]) == 1


@pytest.mark.parametrize("action", ACTIONS)
def test_every_action_url_refuses_another_units_user(client, login, org, case, action):
    login("turku.staff")
    response = client.post(f"/cases/{case.reference}/{action}",
                           data={f"{action}-token": "t", f"{action}-version": "1"})
    assert response.status_code == 404
    assert client.get(f"/cases/{case.reference}").status_code == 404
    assert client.get(f"/cases/{case.reference}/correct").status_code == 404
    db.session.expire_all()
    assert [e.kind for e in case.events] == ["received"]


@pytest.mark.parametrize("action", ACTIONS)
def test_a_unit_that_forwarded_the_case_only_reads_it(client, login, org, case, action):
    login("cs.agent")
    post_action(client, case, "forward", unit=str(org[0]["helsinki"].id), note="Teille.")
    events_before = len(db.session.scalars(sa.select(CaseEvent)).all())
    db.session.expire_all()
    # The case as it is now: an older version would be told the case changed.
    response = client.post(f"/cases/{case.reference}/{action}", data={
        f"{action}-token": f"t-{action}", f"{action}-version": str(case.version)})
    assert response.status_code == 403
    assert client.get(f"/cases/{case.reference}/correct").status_code == 403
    assert len(db.session.scalars(sa.select(CaseEvent)).all()) == events_before


def test_unknown_actions_are_not_found(client, login, org, case):
    login("cs.agent")
    assert client.post(f"/cases/{case.reference}/delete").status_code == 404


def test_correcting_the_contact_details(client, login, org, case):
    login("cs.agent")
    page = client.get(f"/cases/{case.reference}/correct").get_data(as_text=True)
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', page).group(1)
    data = {"contact_name": "Aino Asiakas", "contact_street": "", "contact_postal_code": "",
            "contact_city": "", "contact_phone": "", "contact_email": "aino.a@example.fi",
            "topic_id": str(case.topic_id), "case_type": "question", "segment": "private",
            "version": "1", "token": token}
    bad = client.post(f"/cases/{case.reference}/correct", data={**data, "contact_email": "x@"})
    assert "Check the email address" in bad.get_data(as_text=True)
    assert 'value="x@"' in bad.get_data(as_text=True)
    assert client.post(f"/cases/{case.reference}/correct", data=data).status_code == 302
    db.session.expire_all()
    assert case.contact_email == "aino.a@example.fi" and case.case_type == "question"
    assert "Email: aino@example.fi → aino.a@example.fi" in said(case.events[-1])


def test_interim_notice_from_the_page(app, client, login, org, case):
    login("cs.agent")
    page = client.get(f"/cases/{case.reference}").get_data(as_text=True)
    assert "saat päätöksen viimeistään" in page  # the default text in the customer's language
    refused = post_action(client, case, "interim_notice", estimate="2026-11-28", text="Odota.")
    assert "banking day after today" in refused.get_data(as_text=True)
    assert "Odota." in refused.get_data(as_text=True)
    mismatch = post_action(client, case, "interim_notice", estimate="2026-12-04",
                           text="Päätös viimeistään 2.12.2026.")
    assert "must tell the customer the estimated date 4.12.2026" in mismatch.get_data(as_text=True)
    with statements_sent(app) as sent:
        post_action(client, case, "interim_notice", estimate="2026-12-04",
                    text="Päätös viimeistään 4.12.2026.")
    # By email: no call to plan, so the service hours are never read.
    assert case.reply_channel == "email"
    assert not [statement for statement in sent if "FROM deviating_hours" in statement]
    page = client.get(f"/cases/{case.reference}").get_data(as_text=True)
    assert "estimate 4.12.2026" in page


def test_close_reopen_and_duplicate_from_the_page(client, login, org, case, make_case):
    other = make_case(org[0]["cs"])
    login("cs.agent")
    refused = post_action(client, case, "close", resolution="answered")
    assert "No answer has been sent yet" in refused.get_data(as_text=True)
    post_action(client, case, "close", resolution="no_answer_wanted")
    db.session.expire_all()
    assert case.status == CaseStatus.CLOSED
    post_action(client, case, "reopen", reason="Asiakas soitti uudelleen.")
    db.session.expire_all()
    assert case.status == CaseStatus.NEW
    post_action(client, other, "duplicate", original=case.reference.lower())
    db.session.expire_all()
    assert other.duplicate_of_id == case.id and other.status == CaseStatus.CLOSED


def test_the_case_page_costs_the_same_whatever_the_timeline(client, login, org, case):
    login("cs.agent")
    post_action(client, case, "take")
    few = int(client.get(f"/cases/{case.reference}").headers["X-Query-Count"])
    for n in range(30):
        post_action(client, case, "note", text=f"Note {n}")
    post_action(client, case, "interim_notice", estimate="2026-12-04", text="Odota.")
    many = client.get(f"/cases/{case.reference}")
    assert "Note 29" in many.get_data(as_text=True)
    assert int(many.headers["X-Query-Count"]) == few


# Team leads: workload and bulk reassignment


def test_the_workload_view_counts_per_member(client, login, org, make_case, clock):
    units, people = org
    clock.set(datetime(2026, 11, 25, 10, 0, tzinfo=HELSINKI))
    overdue = datetime(2026, 11, 16, 10, 0, tzinfo=HELSINKI)
    make_case(units["cs"], status=CaseStatus.ASSIGNED, assignee=people["cs.agent"],
              received_at=overdue)
    make_case(units["cs"], status=CaseStatus.ASSIGNED, assignee=people["cs.agent"])
    make_case(units["cs"])
    login("cs.lead")
    page = " ".join(client.get("/workload/cs").get_data(as_text=True).split())
    assert re.search(r"Cs Agent</td> <td>2</td> <td><span class=\"badge badge-overdue\">1 overdue",
                     page)
    assert "Unassigned: <strong>1</strong>" in page
    client.post("/logout")
    login("cs.agent")
    assert client.get("/workload/cs").status_code == 403
    assert client.get("/workload/turku").status_code == 404


def test_the_workload_lists_holders_who_left_the_unit(client, login, org, make_case, make_user):
    """Someone who left still holds the unit's case: the lead sees them, and whether they are
    still with the bank, to reassign it."""
    units, _people = org
    moved = make_user("moved.on", units=[units["turku"]])
    gone = make_user("gone.away", active=False)
    make_case(units["cs"], status=CaseStatus.ASSIGNED, assignee=moved)
    make_case(units["cs"], status=CaseStatus.ASSIGNED, assignee=gone)
    login("cs.lead")
    page = " ".join(client.get("/workload/cs").get_data(as_text=True).split())
    assert "Moved On</td> <td>1</td>" in page
    assert "Gone Away (deactivated)</td> <td>1</td>" in page


def test_the_workload_view_costs_the_same_for_any_unit_size(client, login, org, make_case,
                                                           make_user):
    units, people = org
    login("cs.lead")
    few = int(client.get("/workload/cs").headers["X-Query-Count"])
    for n in range(8):
        member = make_user(f"extra.{n}", units=[units["cs"]])
        make_case(units["cs"], status=CaseStatus.ASSIGNED, assignee=member)
    assert int(client.get("/workload/cs").headers["X-Query-Count"]) == few


def test_a_colleague_writing_between_read_and_commit_is_told_not_a_500(client, login, org,
                                                                       case):
    """The version check at flush catches what the form's version could not yet see."""
    login("cs.agent")
    page = client.get(f"/cases/{case.reference}").get_data(as_text=True)
    with colleague_writes_first(case):
        refused = post_action(client, case, "take", page=page)
    assert refused.status_code == 200
    assert "This case changed since you opened it" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert case.assignee_id is None and [e.kind for e in case.events] == ["received"]


def test_bulk_assignment_racing_a_colleague_assigns_nothing(client, login, org, make_case):
    units, people = org
    held = [make_case(units["cs"], status=CaseStatus.ASSIGNED, assignee=people["cs.agent"])
            for _ in range(2)]
    login("cs.lead")
    page = client.get("/inbox/cs").get_data(as_text=True)
    token = re.search(r'id="token" name="token" type="hidden" value="([^"]+)"', page).group(1)
    with colleague_writes_first(held[1]):
        response = client.post("/inbox/cs/assign", data={
            "case_ids": [f"{c.id}:{c.version}" for c in held],
            "member": str(people["cs.other"].id), "token": token, "back": "/inbox/cs"})
    assert response.status_code == 302
    assert "Nothing was assigned" in client.get("/inbox/cs").get_data(as_text=True)
    db.session.expire_all()
    assert all(c.assignee_id == people["cs.agent"].id for c in held)


def test_a_lead_reassigns_an_absent_members_cases_in_one_go(client, login, org, make_case):
    units, people = org
    held = [make_case(units["cs"], status=CaseStatus.ASSIGNED, assignee=people["cs.agent"])
            for _ in range(3)]
    login("cs.lead")
    page = client.get(f"/inbox/cs?filter=member&member={people['cs.agent'].id}").get_data(
        as_text=True)
    assert all(c.reference in page for c in held)
    token = re.search(r'id="token" name="token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post("/inbox/cs/assign", data={
        "case_ids": [f"{c.id}:{c.version}" for c in held], "member": str(people["cs.other"].id),
        "token": token, "back": "/inbox/cs"})
    assert response.status_code == 302
    db.session.expire_all()
    assert all(c.assignee_id == people["cs.other"].id for c in held)
    client.post("/logout")
    login("cs.agent")
    refused = client.post("/inbox/cs/assign", data={
        "case_ids": [str(held[0].id)], "member": str(people["cs.agent"].id), "token": "x"})
    assert refused.status_code == 403


def test_a_lead_lists_the_cases_of_members_and_former_members_only(client, login, org,
                                                                    make_case):
    units, people = org
    held = make_case(units["cs"], status=CaseStatus.ASSIGNED, assignee=people["turku.staff"])
    login("cs.lead")
    # A Turku employee still holding a customer service case (they moved units) is listed...
    page = client.get(f"/inbox/cs?filter=member&member={people['turku.staff'].id}")
    assert page.status_code == 200 and held.reference in page.get_data(as_text=True)
    # ...but staff with no tie to the unit are not the lead's business, nor are unknown ids.
    for member in (people["branch.staff"].id, 99999, "x"):
        assert client.get(f"/inbox/cs?filter=member&member={member}").status_code == 404
    assert client.get(f"/inbox/cs?filter=member&member={people['cs.agent'].id}").status_code == 200


def test_my_cases_across_units(client, login, org, make_case, make_user):
    units, _ = org
    both = make_user("two.units", units=[units["cs"], units["turku"]])
    mine = [make_case(units["cs"], status=CaseStatus.ASSIGNED, assignee=both),
            make_case(units["turku"], status=CaseStatus.ASSIGNED, assignee=both)]
    make_case(units["cs"])
    login("two.units")
    page = client.get("/my-cases").get_data(as_text=True)
    assert sorted(re.findall(r">(FB-\d{4}-\d{6})</a>", page)) == sorted(c.reference for c in mine)


# Notifications


def test_opted_in_staff_are_notified_without_the_customers_message(app, client, login, org, case):
    units, people = org
    people["cs.other"].notify_by_email = True
    people["branch.staff"].notify_by_email = True
    db.session.commit()
    login("cs.lead")
    post_action(client, case, "assign", member=str(people["cs.other"].id))
    post_action(client, case, "forward", unit=str(units["helsinki"].id), note="Teille")
    outbox = db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [m.recipient for m in outbox] == ["cs.other@bank.example", "branch.staff@bank.example"]
    for message in outbox:
        assert message.kind == "notification"
        assert case.reference in message.subject and f"/cases/{case.reference}" in message.body_text
        assert "Korttini" not in message.body_text and "Aino" not in message.body_text


def test_a_refused_change_queues_no_notification(client, login, org, case):
    org[1]["cs.other"].notify_by_email = True
    db.session.commit()
    login("cs.lead")
    post_action(client, case, "forward", unit=str(org[0]["cs"].id), note="Refused: same unit")
    assert db.session.scalars(sa.select(OutboxMessage)).all() == []


def test_nobody_is_notified_unless_they_opted_in(app, client, login, org, case):
    login("cs.lead")
    post_action(client, case, "assign", member=str(org[1]["cs.other"].id))
    assert db.session.scalars(sa.select(OutboxMessage)).all() == []


def test_staff_opt_in_on_their_profile(client, login, org):
    login("cs.agent")
    assert client.post("/profile", data={"notify_by_email": "y"}).status_code == 302
    db.session.expire_all()
    assert org[1]["cs.agent"].notify_by_email
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Case)) == 0


def test_staff_choose_the_language_of_the_intranet(client, login, org):
    login("cs.agent")
    client.post("/profile", data={"language": "sv"})
    db.session.expire_all()
    assert org[1]["cs.agent"].language == "sv"
    assert '<html lang="sv">' in client.get("/inbox/cs").get_data(as_text=True)


def test_a_notification_comes_in_the_recipients_language(client, login, org, case):
    org[1]["cs.other"].notify_by_email = True
    org[1]["cs.other"].language = "sv"
    db.session.commit()
    login("cs.lead")
    post_action(client, case, "assign", member=str(org[1]["cs.other"].id))
    [message] = db.session.scalars(sa.select(OutboxMessage)).all()
    assert message.subject == f"Responsintranätet: {case.reference}"
    assert f"Cs Lead tilldelade dig ärendet {case.reference}." in message.body_text


@pytest.mark.parametrize("back", ["//evil.example/", "/\\evil.example", "https://evil.example/"])
def test_bulk_assignment_never_sends_the_lead_off_site(client, login, org, back):
    login("cs.lead")
    response = client.post("/inbox/cs/assign", data={"member": "", "back": back})
    assert response.headers["Location"] == "/inbox/cs"


def test_an_action_posted_after_a_colleague_forwarded_the_case_is_told_it_changed(
        app, org, case):
    """The colleague's forward committed before this post was read: the case is no longer the
    unit's to act on. That is a changed case, shown as it now is (read-only) with what the user
    wrote, not a refusal; the same post with the current version is refused."""
    mine, theirs = app.test_client(), app.test_client()
    for client, user in ((mine, "cs.agent"), (theirs, "cs.other")):
        client.post("/login", data={"username": user, "password": "correct horse battery"})
    page = mine.get(f"/cases/{case.reference}").get_data(as_text=True)
    assert post_action(theirs, case, "forward", unit=str(org[0]["turku"].id),
                       note="Teille.").status_code == 302
    told = post_action(mine, case, "note", page=page, text="Soitin asiakkaalle.")
    assert told.status_code == 200
    shown = told.get_data(as_text=True)
    assert "This case changed since you opened it" in shown
    assert 'action="/cases/' + case.reference + '/note"' not in shown  # read-only now
    # What the user wrote is on the page, though the form no longer is.
    assert "What you wrote was not saved" in shown and "Soitin asiakkaalle." in shown
    db.session.expire_all()
    assert case.current_unit_id == org[0]["turku"].id
    assert [e.kind for e in case.events][-1] == "forwarded"
    data = hidden_fields(page, "note")
    data.update({"note-version": str(case.version), "note-text": "Soitin asiakkaalle."})
    assert mine.post(f"/cases/{case.reference}/note", data=data).status_code == 403
