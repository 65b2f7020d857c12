"""Every date field shows and reads 24.12.2026 in every language; a day that is none is
explained at its field in the user's language, and what was typed stays in the field."""

from datetime import date

import pytest
import sqlalchemy as sa

from feedback_intranet.extensions import db
from feedback_intranet.models import CaseEvent, ClosingDay, DeviatingHours, Language, User

from . import test_case_pages
from .conftest import said
from .test_case_pages import post_action

org = test_case_pages.org  # the case page's units and people, a fixture

GARBAGE = ["31.2.2026", "24/12/2026", "huomenna"]
WRONG = {"en": "Give the date as day.month.year, e.g. 24.12.2026.",
         "fi": "Anna päivämäärä muodossa pp.kk.vvvv, esim. 24.12.2026.",
         "sv": "Ange datumet i formen dd.mm.åååå, t.ex. 24.12.2026."}


def speaks(username, language):
    user = db.session.scalar(sa.select(User).where(User.username == username))
    user.language = Language(language)
    db.session.commit()


def error_at(page, field_id):
    start = page.find(f'<p class="error" id="{field_id}-error">')
    assert start >= 0, f"no error at {field_id}"
    return page[start:page.index("</p>", start)].split(">", 1)[1]


def shown_value(page, field_id):
    start = page.index(f'id="{field_id}"')
    tag = page[page.rindex("<input", 0, start):page.index(">", start)]
    return tag.split('value="', 1)[1].split('"', 1)[0] if 'value="' in tag else ""


@pytest.fixture
def case(org, make_case):
    return make_case(org[0]["cs"])


@pytest.fixture
def admin(client, login, make_user, units):
    make_user("admin", is_admin=True)
    login("admin")
    return client


def test_a_closing_day_is_given_as_28_12_2026(admin):
    # 24.12.2026 would be refused: Christmas Eve is a bank holiday already.
    response = admin.post("/admin/closing-days",
                          data={"day": " 28.12.2026 ", "reason": "Test", "confirmed": "yes"})
    assert response.status_code == 302
    assert db.session.scalar(sa.select(ClosingDay.day)) == date(2026, 12, 28)
    page = admin.get("/admin/closing-days").get_data(as_text=True)
    assert "<td>28.12.2026</td>" in page and "Added 28.12.2026 as a closing day." in page


@pytest.mark.parametrize("language", ["en", "fi", "sv"])
@pytest.mark.parametrize("typed", GARBAGE)
def test_a_closing_day_that_is_no_day_is_explained_and_kept(admin, language, typed):
    speaks("admin", language)
    page = admin.post("/admin/closing-days", data={"day": typed, "reason": "Test"}).get_data(
        as_text=True)
    assert error_at(page, "day") == WRONG[language]
    assert shown_value(page, "day") == typed
    assert 'aria-invalid="true"' in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ClosingDay)) == 0


def test_deviating_hours_are_given_for_24_12_2026_and_a_wrong_day_is_kept(admin):
    form = {"segment": "", "opens": "08:00", "closes": "12:00", "reason": "Christmas Eve"}
    page = admin.post("/admin/service-hours", data={**form, "day": "1.2.2026x"}).get_data(
        as_text=True)
    assert error_at(page, "day") == WRONG["en"] and shown_value(page, "day") == "1.2.2026x"
    assert admin.post("/admin/service-hours", data={**form, "day": "24.12.2026"}).status_code == 302
    assert db.session.scalar(sa.select(DeviatingHours.day)) == date(2026, 12, 24)
    assert "Saved the hours of 24.12.2026." in admin.get("/admin/service-hours").get_data(as_text=True)


def test_the_audit_log_filters_read_24_12_2026_and_explain_garbage(admin):
    page = admin.get("/admin/audit?start=1.12.2026&end=24.12.2026").get_data(as_text=True)
    assert shown_value(page, "start") == "1.12.2026" and shown_value(page, "end") == "24.12.2026"
    assert 'class="error"' not in page
    speaks("admin", "sv")
    page = admin.get("/admin/audit?start=31.2.2026&end=24.12.2026").get_data(as_text=True)
    assert error_at(page, "start") == WRONG["sv"] and shown_value(page, "start") == "31.2.2026"


def test_a_report_period_reads_24_12_2026_and_shows_it_so(admin):
    page = admin.get("/reports/volumes?period=custom&start=1.12.2026&end=24.12.2026").get_data(
        as_text=True)
    assert shown_value(page, "start") == "1.12.2026" and shown_value(page, "end") == "24.12.2026"
    assert '<span class="period">1.12.–24.12.2026</span>' in page
    speaks("admin", "fi")
    page = admin.get("/reports/volumes?period=custom&start=1.12.2026&end=24.13.2026").get_data(
        as_text=True)
    assert error_at(page, "end") == WRONG["fi"] and shown_value(page, "end") == "24.13.2026"


def test_every_date_field_is_a_text_field_the_calendar_attaches_to(admin):
    """The browser's own date field writes the day in the browser's language (mm/dd/yyyy in a
    Finnish screen): none is left."""
    for path in ("/admin/closing-days", "/admin/service-hours", "/admin/audit",
                 "/reports/volumes?period=custom"):
        page = admin.get(path).get_data(as_text=True)
        assert 'type="date"' not in page
        assert 'type="text"' in page and "data-datepicker" in page
        assert 'id="datepicker-texts"' in page and "js/datepicker.js" in page


def test_the_calendar_speaks_the_pages_language(admin):
    speaks("admin", "fi")
    page = admin.get("/admin/closing-days").get_data(as_text=True)
    assert 'data-months="Tammikuu|Helmikuu|Maaliskuu|' in page
    assert 'data-weekdays="ma|ti|ke|to|pe|la|su"' in page
    assert 'data-weekdays-long="maanantai|' in page and 'data-close="Sulje"' in page
    speaks("admin", "sv")
    page = admin.get("/admin/closing-days").get_data(as_text=True)
    assert 'data-weekdays="mån|tis|ons|tors|fre|lör|sön"' in page and "Föregående månad" in page


def test_an_interim_notice_is_given_as_23_12_2026(client, login, org, case):
    login("cs.agent")
    response = post_action(client, case, "interim_notice", estimate="23.12.2026",
                           text="Päätös viimeistään 23.12.2026.")
    assert response.status_code == 302
    db.session.expire_all()
    assert case.estimated_decision_date == date(2026, 12, 23)
    event = db.session.scalars(sa.select(CaseEvent).where(CaseEvent.case_id == case.id)
                               .order_by(CaseEvent.id.desc())).first()
    assert said(event).startswith("Cs Agent estimated the decision date as 23.12.2026.")


def test_the_interim_notice_text_may_write_the_day_with_leading_zeros(client, login, org, case):
    login("cs.agent")
    response = post_action(client, case, "interim_notice", estimate="04.12.2026",
                           text="Päätös viimeistään 04.12.2026.")
    assert response.status_code == 302
    db.session.expire_all()
    assert case.estimated_decision_date == date(2026, 12, 4)


def test_an_interim_notice_text_naming_another_day_is_refused(client, login, org, case):
    login("cs.agent")
    # 14.12.2026 holds the characters of 4.12.2026, but names another day.
    page = post_action(client, case, "interim_notice", estimate="4.12.2026",
                       text="Päätös viimeistään 14.12.2026.").get_data(as_text=True)
    assert "must tell the customer the estimated date 4.12.2026" in page
    assert "Päätös viimeistään 14.12.2026.</textarea>" in page


@pytest.mark.parametrize("language", ["en", "fi", "sv"])
@pytest.mark.parametrize("typed", GARBAGE)
def test_an_interim_estimate_that_is_no_day_is_explained_and_kept(client, login, org, case,
                                                                  language, typed):
    speaks("cs.agent", language)
    login("cs.agent")
    page = post_action(client, case, "interim_notice", estimate=typed,
                       text="Kirjoitettu teksti jää.").get_data(as_text=True)
    assert error_at(page, "interim_notice-estimate") == WRONG[language]
    assert shown_value(page, "interim_notice-estimate") == typed
    assert "Kirjoitettu teksti jää.</textarea>" in page
    db.session.expire_all()
    assert case.estimated_decision_date is None


def test_christmas_eve_is_read_but_refused_as_an_estimate_it_is_no_banking_day(client, login, org,
                                                                               case):
    login("cs.agent")
    page = post_action(client, case, "interim_notice", estimate="24.12.2026",
                       text="Päätös viimeistään 24.12.2026.").get_data(as_text=True)
    assert error_at(page, "interim_notice-estimate") == "The estimate must be a banking day after today."
    assert shown_value(page, "interim_notice-estimate") == "24.12.2026"
