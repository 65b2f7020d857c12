"""Admin pages: staff users, units and extra closing days."""

from datetime import date, datetime, time

import pytest
import sqlalchemy as sa

from feedback_intranet.extensions import db
from feedback_intranet.models import (
    CaseStatus,
    ClosingDay,
    DeviatingHours,
    Language,
    ReplyTemplate,
    RoutingRule,
    Topic,
    Unit,
    UnitKind,
    UnitText,
    User,
)
from feedback_intranet.web.forms import _wtforms_messages

from .conftest import HELSINKI, said


@pytest.fixture
def admin(client, login, make_user, units):
    user = make_user("admin", is_admin=True)
    login("admin")
    return user


def user_form(**changes):
    form = {"username": "new.person", "full_name": "New Person", "email": "new.person@bank.example",
            "password": "a long enough password", "language": "sv", "active": "y"}
    form.update(changes)
    return {k: v for k, v in form.items() if v is not None}


@pytest.mark.parametrize("path", ["/admin/users", "/admin/users/new", "/admin/units",
                                  "/admin/units/new", "/admin/closing-days"])
def test_staff_who_are_not_admins_are_refused(client, login, make_user, units, path):
    make_user("branch.staff", units=[units["turku"]], lead_of=[units["vaasa"]])
    login("branch.staff")
    assert client.get(path).status_code == 403
    if path.endswith(("new", "days")):
        assert client.post(path, data={"code": "x", "name": "x"}).status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Unit)) == len(units)


def test_admin_pages_need_a_login(client, units):
    response = client.get("/admin/users")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_admin_creates_a_user_who_leads_one_unit_and_is_a_member_of_another(
    client, admin, units, login
):
    response = client.post("/admin/users/new", data=user_form(**{
        f"role-{units['turku'].id}": "lead", f"role-{units['vaasa'].id}": "member",
    }))
    assert response.status_code == 302
    user = db.session.scalar(sa.select(User).where(User.username == "new.person"))
    assert user.language == "sv" and not user.is_admin and user.active
    roles = {m.unit.code: m.is_team_lead for m in user.memberships}
    assert roles == {"turku": True, "vaasa": False}
    client.post("/logout")
    assert login("new.person", "a long enough password").status_code == 302


def test_a_refused_user_form_keeps_what_was_typed(client, admin, units, make_user):
    make_user("taken.name")
    response = client.post("/admin/users/new", data=user_form(
        username="taken.name", full_name="Typed Name", **{f"role-{units['vaasa'].id}": "lead"}))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Username taken.name is already taken." in page
    assert 'value="Typed Name"' in page
    assert '<option value="lead" selected>' in page.split(f'name="role-{units["vaasa"].id}"')[1]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 2


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"password": "short"}, "Use at least 12 characters."),
        ({"password": "new.person"}, "Use at least 12 characters."),
        ({"username": "new.person.long", "password": "new.person.long"},
         "The password may not be the username."),
        ({"password": None}, "A new user needs a password."),
        ({"email": "not-an-email"}, "Invalid email address."),
        ({"username": "Has Spaces"}, "Use lower-case letters"),
    ],
)
def test_user_form_rules(client, admin, units, changes, message):
    response = client.post("/admin/users/new", data=user_form(**changes))
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1


def test_deactivating_a_user_keeps_their_history_and_stops_their_login(
    client, admin, units, make_user, make_case, login
):
    leaver = make_user("leaver", units=[units["turku"]])
    case = make_case(units["turku"], status=CaseStatus.ASSIGNED, assignee=leaver)
    response = client.post(f"/admin/users/{leaver.id}", data=user_form(
        username="leaver", full_name="Leaver", password="", active=None,
        **{f"role-{units['turku'].id}": "member"}))
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, leaver.id).active is False
    # Their open case goes back to the inbox, on the timeline; nothing is deleted.
    assert case.assignee_id is None and case.status == CaseStatus.NEW
    returned = case.events[-1]
    assert returned.kind == "unassigned" and returned.actor.username == "admin"
    assert said(returned) == "Returned to the inbox: Leaver's account was deactivated."
    client.post("/logout")
    assert b"Wrong username or password, or the account is locked" in login("leaver").data


def test_admins_cannot_lock_themselves_out(client, admin, units):
    response = client.post(f"/admin/users/{admin.id}", data=user_form(
        username="admin", full_name="Admin", password="", active="y"))
    assert "You cannot remove your own administrator rights" in response.get_data(as_text=True)
    db.session.expire_all()
    assert admin.is_admin


def test_admin_creates_and_edits_a_unit(client, admin):
    response = client.post("/admin/units/new", data={
        "code": "oulu", "name": "Oulu", "kind": "branch_office", "street_address": "Kirkkokatu 1",
        "postal_code": "90100", "city": "Oulu", "active": "y"})
    assert response.status_code == 302
    unit = db.session.scalar(sa.select(Unit).where(Unit.code == "oulu"))
    assert unit.kind == UnitKind.BRANCH_OFFICE and unit.postal_code == "90100"
    client.post(f"/admin/units/{unit.id}", data={
        "code": "oulu", "name": "Oulu Centre", "kind": "branch_office", "active": "y"})
    db.session.expire_all()
    assert unit.name == "Oulu Centre"


def test_unit_form_rules(client, admin, units):
    response = client.post("/admin/units/new", data={
        "code": "turku", "name": "Turku again", "kind": "branch_office", "postal_code": "2010"})
    page = response.get_data(as_text=True)
    assert "A Finnish postal code has five digits." in page
    assert 'value="Turku again"' in page
    response = client.post("/admin/units/new", data={
        "code": "turku", "name": "Turku again", "kind": "branch_office"})
    assert "Code turku is already taken." in response.get_data(as_text=True)


def test_a_unit_with_open_cases_cannot_be_deactivated(client, admin, units, make_case):
    make_case(units["vaasa"])
    response = client.post(f"/admin/units/{units['vaasa'].id}", data={
        "code": "vaasa", "name": "Vaasa", "kind": "branch_office"})
    assert "still holds 1 open cases" in response.get_data(as_text=True)
    db.session.expire_all()
    assert units["vaasa"].active


def test_deactivating_an_empty_unit(client, admin, units):
    response = client.post(f"/admin/units/{units['vaasa'].id}", data={
        "code": "vaasa", "name": "Vaasa", "kind": "branch_office"})
    assert response.status_code == 302
    db.session.expire_all()
    assert not units["vaasa"].active
    assert "Deactivated" in client.get("/admin/units").get_data(as_text=True)


def test_a_closing_day_counts_for_cases_received_after_it_is_added(
    client, admin, units, make_case, calendar
):
    received = datetime(2026, 11, 25, 9, 0, tzinfo=HELSINKI)
    promised = make_case(units["turku"], received_at=received)
    assert promised.due_date == date(2026, 11, 30)

    response = client.post("/admin/closing-days",
                           data={"day": "2026-11-27", "reason": "Bank strike", "confirmed": "yes"})
    assert response.status_code == 302
    assert "Bank strike" in client.get("/admin/closing-days").get_data(as_text=True)

    db.session.expire_all()
    assert promised.due_date == date(2026, 11, 30)
    from feedback_intranet.closing_days import banking_calendar

    assert banking_calendar(HELSINKI).due_date(received) == date(2026, 12, 1)


def test_a_closing_day_is_added_once(client, admin):
    client.post("/admin/closing-days",
                data={"day": "31.12.2026", "reason": "New Year's Eve", "confirmed": "yes"})
    response = client.post("/admin/closing-days", data={"day": " 31.12.2026 ", "reason": "Again"})
    assert "31.12.2026 is already a closing day." in response.get_data(as_text=True)
    response = client.post("/admin/closing-days", data={"day": "not a date", "reason": "x"})
    assert "Give the date as day.month.year, e.g. 24.12.2026." in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ClosingDay)) == 1


def test_the_staff_list_stays_a_constant_number_of_queries(client, admin, units, make_user):
    few = int(client.get("/admin/users").headers["X-Query-Count"])
    for i in range(10):
        make_user(f"member.{i}", units=[units["turku"], units["vaasa"]])
    assert int(client.get("/admin/users").headers["X-Query-Count"]) == few



def test_admin_edits_topics_and_their_central_unit(client, admin, make_unit):
    cards = make_unit(code="cards", name="Cards", kind=UnitKind.CENTRAL_UNIT)
    branch = make_unit(code="oulu", name="Oulu")
    response = client.post("/admin/topics/new", data={
        "code": "cards", "name": "Cards", "central_unit": str(cards.id), "active": "y"})
    assert response.status_code == 302
    topic = db.session.scalar(sa.select(Topic).where(Topic.code == "cards"))
    assert topic.central_unit_id == cards.id and topic.active
    # Only central units may be responsible for a topic.
    response = client.post(f"/admin/topics/{topic.id}", data={
        "code": "cards", "name": "Cards", "central_unit": str(branch.id), "active": "y"})
    assert response.status_code == 200
    assert "Not a valid choice" in response.get_data(as_text=True)
    # Hiding a topic takes it off the public form.
    client.post(f"/admin/topics/{topic.id}", data={"code": "cards", "name": "Cards",
                                                   "central_unit": "0"})
    db.session.expire_all()
    assert not topic.active and topic.central_unit_id is None
    assert "Cards" not in client.get("/feedback").get_data(as_text=True)
    assert "Cards" in client.get("/admin/topics").get_data(as_text=True)


def test_admin_adds_and_switches_off_a_routing_rule(client, admin, units, topic):
    response = client.post("/admin/routing-rules/new", data={
        "name": "Business cards to Turku", "topic": str(topic.id), "segment": "business",
        "unit": str(units["turku"].id), "active": "y"})
    assert response.status_code == 302
    rule = db.session.scalar(sa.select(RoutingRule))
    assert (rule.segment, rule.unit_id, rule.active) == ("business", units["turku"].id, True)
    page = client.get("/admin/routing-rules").get_data(as_text=True)
    assert "Business cards to Turku" in page and "Business customer" in page
    client.post(f"/admin/routing-rules/{rule.id}", data={
        "name": "Business cards to Turku", "topic": str(topic.id), "segment": "",
        "unit": str(units["turku"].id)})
    db.session.expire_all()
    assert rule.segment is None and not rule.active


def test_a_rule_needs_an_active_unit(client, admin, units, topic):
    units["vaasa"].active = False
    db.session.commit()
    response = client.post("/admin/routing-rules/new", data={
        "name": "To Vaasa", "topic": str(topic.id), "segment": "", "unit": str(units["vaasa"].id)})
    assert "Not a valid choice" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RoutingRule)) == 0


@pytest.mark.parametrize("path", ["/admin/topics", "/admin/topics/new", "/admin/routing-rules",
                                  "/admin/routing-rules/new"])
def test_routing_admin_is_for_admins_only(client, login, make_user, units, path):
    make_user("cs.lead", lead_of=[units["cs"]])
    login("cs.lead")
    assert client.get(path).status_code == 403


def test_admin_writes_reply_templates_used_in_answers(client, admin, topic):
    response = client.post("/admin/reply-templates/new", data={
        "title": "Kortti avattu", "topic": str(topic.id), "language": "fi",
        "body": "Korttisi on avattu.", "active": "y"})
    assert response.status_code == 302
    template = db.session.scalar(sa.select(ReplyTemplate))
    assert (template.topic_id, template.language, template.active) == (topic.id, "fi", True)
    assert "Kortti avattu" in client.get("/admin/reply-templates").get_data(as_text=True)
    response = client.post("/admin/reply-templates/new", data={
        "title": "", "topic": "0", "language": "sv", "body": "Typed text"})
    assert "This field is required." in response.get_data(as_text=True)
    assert "Typed text" in response.get_data(as_text=True)


@pytest.mark.parametrize("language, required", [
    ("fi", "Pakollinen."), ("sv", "Det här fältet är obligatoriskt."),
    ("en", "This field is required.")])
def test_wtforms_own_messages_speak_the_users_language_from_a_catalogue_read_once(
        client, admin, language, required):
    admin.language = Language(language)
    db.session.commit()
    _wtforms_messages.cache_clear()
    for _attempt in range(3):
        response = client.post("/admin/reply-templates/new", data={
            "title": "", "topic": "0", "language": "sv", "body": "Typed text"})
        assert required in response.get_data(as_text=True)
    assert _wtforms_messages.cache_info().misses == 1


def test_admin_edits_the_complaint_paragraph(client, admin):
    page = client.get("/admin/texts").get_data(as_text=True)
    assert "Vakuutus- ja rahoitusneuvonnasta" in page  # the default until edited
    client.post("/admin/texts", data={"complaint_fi": "Uusi FI", "complaint_sv": "Ny SV",
                                      "complaint_en": "New EN"})
    from feedback_intranet.replies.texts import COMPLAINT_PARAGRAPH, bank_text

    assert bank_text(COMPLAINT_PARAGRAPH, "sv", {}) == "Ny SV"


def test_admin_sets_deviating_service_hours(client, admin):
    response = client.post("/admin/service-hours", data={
        "day": "2026-12-23", "segment": "", "opens": "08:00", "closes": "14:00",
        "reason": "Eve of Christmas Eve"})
    assert response.status_code == 302
    refused = client.post("/admin/service-hours", data={
        "day": "2026-12-30", "segment": "business", "opens": "10:00", "closes": "",
        "reason": "x"})
    assert "Give both the opening and the closing time" in refused.get_data(as_text=True)
    from feedback_intranet.closing_days import deviating_hours

    hours = deviating_hours()
    assert hours == {(date(2026, 12, 23), None): (time(8), time(14))}
    row = db.session.scalar(sa.select(DeviatingHours))
    client.post(f"/admin/service-hours/{row.id}/remove")
    assert deviating_hours() == {}


def test_a_units_greeting_and_signature_frame_its_answers(client, admin, units, make_case):
    client.post(f"/admin/units/{units['turku'].id}", data={
        "code": "turku", "name": "Turku", "kind": "branch_office", "active": "y",
        "greeting_sv": "Bästa {name},", "signature_sv": "Hälsningar\nTurku kontor"})
    case = make_case(units["turku"], contact_name="Åsa")
    case.language = "sv"
    db.session.commit()
    from feedback_intranet.replies.texts import compose

    assert compose(case, units["turku"], "Svar.", final=True) == (
        "Bästa Åsa,\n\nSvar.\n\nHälsningar\nTurku kontor")


def test_the_outbox_page_lists_queued_mail(client, admin):
    assert "Nothing has been queued." in client.get("/admin/outbox").get_data(as_text=True)


def test_a_units_name_goes_into_email_headers_so_it_stays_on_one_line(client, admin):
    response = client.post("/admin/units/new", data={
        "code": "oulu", "name": "Oulu\r\nBcc: everyone@example.com", "kind": "branch_office",
        "active": "y", "signature_fi": "Ystävällisin terveisin\nOulun konttori"})
    assert "Write this on one line: it goes into the headers of emails." in response.get_data(
        as_text=True)
    assert db.session.scalar(sa.select(Unit).where(Unit.code == "oulu")) is None
    # The signature is body text: it keeps its lines.
    response = client.post("/admin/units/new", data={
        "code": "oulu", "name": "Oulu", "kind": "branch_office", "active": "y",
        "signature_fi": "Ystävällisin terveisin\nOulun konttori"})
    assert response.status_code == 302
    signature = db.session.scalar(sa.select(UnitText.signature).where(UnitText.language == "fi"))
    assert signature == "Ystävällisin terveisin\nOulun konttori"


def test_a_users_email_address_stays_on_one_line_from_the_command_line_too(runner, data):
    result = runner.invoke(args=[
        "create-user", "--username", "x.person", "--full-name", "X Person",
        "--email", "x@bank.example\nBcc: everyone@example.com"],
        input="a long enough password\na long enough password\n")
    assert result.exit_code != 0 and "Write this on one line" in result.output
    assert db.session.scalar(sa.select(User).where(User.username == "x.person")) is None
