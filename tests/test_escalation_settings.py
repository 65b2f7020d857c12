"""Who hears of overdue cases, as staff and admins set it: a member turns their own morning
summary off on the profile page (a team lead's unit sections come anyway); an admin gives a unit
an escalation address and its language; the admin's landing page lists the units nobody leads,
and where their escalations go."""

import re

import pytest
import sqlalchemy as sa

from feedback_intranet.extensions import db
from feedback_intranet.models import AuditEvent, AuditKind, Language, Unit, User

LEAD_NOTE = "As the team lead of"


@pytest.fixture
def people(make_user, units):
    return {
        "branch.staff": make_user("branch.staff", units=[units["helsinki"]]),
        "branch.lead": make_user("branch.lead", lead_of=[units["helsinki"]],
                                 units=[units["turku"]]),
        "admin": make_user("admin", is_admin=True),
    }


def digest_of(user):
    db.session.expire_all()
    return db.session.get(User, user.id).morning_digest


def checkbox(page, name):
    return re.search(rf'<input[^>]*name="{name}"[^>]*>', page).group(0)


def test_a_member_turns_their_morning_summary_off_and_on(client, login, people):
    login("branch.staff")
    page = client.get("/profile").get_data(as_text=True)
    assert "checked" in checkbox(page, "morning_digest")  # on unless turned off
    assert "Email me a morning summary of my cases on banking days" in page
    assert LEAD_NOTE not in page
    response = client.post("/profile", data={"language": "en"})
    assert response.status_code == 302
    assert digest_of(people["branch.staff"]) is False
    assert "checked" not in checkbox(client.get("/profile").get_data(as_text=True),
                                     "morning_digest")
    client.post("/profile", data={"language": "en", "morning_digest": "y"})
    assert digest_of(people["branch.staff"]) is True
    # The other settings stay as they were.
    assert db.session.get(User, people["branch.staff"].id).notify_by_email is False


def test_a_team_lead_is_told_their_units_sections_come_anyway(client, login, people):
    login("branch.lead")
    page = client.get("/profile").get_data(as_text=True)
    assert ("As the team lead of Helsinki Centre you get its section every banking morning "
            "whatever you choose here.") in page
    # Said where the checkbox is described, so a screen reader reads it with the box.
    assert 'aria-describedby="morning_digest-hint"' in checkbox(page, "morning_digest")
    client.post("/profile", data={"language": "en"})
    assert digest_of(people["branch.lead"]) is False


def unit_form(unit, **changes):
    return {"code": unit.code, "name": unit.name, "kind": "branch_office", "active": "y",
            **changes}


def test_an_admin_gives_a_unit_an_escalation_address_and_its_language(
        client, login, units, people):
    login("admin")
    vaasa = units["vaasa"]
    page = client.get(f"/admin/units/{vaasa.id}").get_data(as_text=True)
    assert "Escalation address" in page and "while the unit has no team lead" in page.replace(
        "While", "while")
    response = client.post(f"/admin/units/{vaasa.id}", data=unit_form(
        vaasa, escalation_email=" vaasa.chief@bank.example ", escalation_language="sv"))
    assert response.status_code == 302
    db.session.expire_all()
    saved = db.session.get(Unit, vaasa.id)
    assert (saved.escalation_email, saved.escalation_language) == ("vaasa.chief@bank.example",
                                                                   Language.SV)
    page = client.get(f"/admin/units/{vaasa.id}").get_data(as_text=True)
    assert 'value="vaasa.chief@bank.example"' in page
    assert '<option selected value="sv">' in page
    # Audited like every other change of the unit.
    event = db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.kind == AuditKind.ADMIN_CHANGE).order_by(AuditEvent.id.desc())).first()
    assert event.facts["record"] == "unit" and event.facts["id"] == vaasa.id
    # Emptied: the administrators hear of it again.
    client.post(f"/admin/units/{vaasa.id}", data=unit_form(vaasa, escalation_email="",
                                                           escalation_language="sv"))
    db.session.expire_all()
    assert db.session.get(Unit, vaasa.id).escalation_email == ""


@pytest.mark.parametrize("address", ["vaasa.chief", "two@bank.example, three@bank.example",
                                     "a@b@bank.example", "chief@bank.example\nBcc: x@evil.example"])
def test_a_bad_escalation_address_is_refused_at_the_field_and_kept(
        client, login, units, people, address):
    login("admin")
    vaasa = units["vaasa"]
    response = client.post(f"/admin/units/{vaasa.id}", data=unit_form(
        vaasa, name="Vaasa renamed", escalation_email=address, escalation_language="en"))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    field = re.search(r'<input[^>]*name="escalation_email"[^>]*>', page).group(0)
    assert 'aria-invalid="true"' in field
    assert 'id="escalation_email-error"' in page
    assert 'value="Vaasa renamed"' in page and '<option selected value="en">' in page
    db.session.expire_all()
    assert db.session.get(Unit, vaasa.id).escalation_email == ""
    assert db.session.get(Unit, vaasa.id).name == "Vaasa"


def leaderless_section(page):
    found = re.search(r'<section aria-labelledby="leaderless-title".*?</section>', page, re.S)
    return found.group(0) if found else ""


def test_the_landing_page_lists_the_units_nobody_leads(client, login, units, people, make_user,
                                                       make_unit, data):
    units["turku"].escalation_email = "turku.chief@bank.example"
    units["turku"].escalation_language = Language.SV
    make_user("gone.lead", lead_of=[units["vaasa"]], active=False)  # a lead who left
    make_unit(code="closed", name="Closed office", active=False)
    db.session.commit()
    login("admin")
    section = leaderless_section(client.get("/admin/").get_data(as_text=True))
    rows = dict(re.findall(r"<tr><td>([^<]+)</td>\s*<td[^>]*>(.*?)</td>", section, re.S))
    # Helsinki Centre has its lead; an inactive unit holds no cases.
    assert set(rows) == {"Customer service", "Turku", "Vaasa"}
    assert "turku.chief@bank.example" in rows["Turku"] and "Swedish" in rows["Turku"]
    assert rows["Vaasa"] == rows["Customer service"] == "the administrators"
    assert f'href="/admin/units/{units["vaasa"].id}"' in section
    assert f'href="/admin/users?unit={units["vaasa"].id}"' in section


def test_the_unit_staff_page_lists_its_members(client, login, units, people):
    login("admin")
    page = client.get(f"/admin/users?unit={units['helsinki'].id}").get_data(as_text=True)
    assert "Staff of Helsinki Centre" in page
    assert ">branch.staff<" in page and ">branch.lead<" in page and ">admin<" not in page
    page = client.get(f"/admin/users?unit={units['vaasa'].id}").get_data(as_text=True)
    assert "Nobody is a member of this unit." in page
    assert client.get("/admin/users?unit=9999").status_code == 404


def test_no_section_when_every_unit_has_a_lead(client, login, units, people, make_user):
    for code in ("cs", "turku", "vaasa"):
        make_user(f"{code}.lead", lead_of=[units[code]])
    login("admin")
    assert leaderless_section(client.get("/admin/").get_data(as_text=True)) == ""


def test_the_landing_page_reads_the_leads_with_the_units(client, login, units, people, make_unit,
                                                        make_user):
    login("admin")
    few = int(client.get("/admin/").headers["X-Query-Count"])
    for n in range(5):
        unit = make_unit(code=f"new-{n}", name=f"New {n}")
        if n % 2:
            make_user(f"lead.{n}", lead_of=[unit])
    response = client.get("/admin/")
    assert int(response.headers["X-Query-Count"]) == few
    assert "New 0" in leaderless_section(response.get_data(as_text=True))
