"""Odd dates and ids, typed or put in an address: a clear answer at the field, a 400 or a 404,
never a 500 and never seconds of date arithmetic."""

import csv
import io
from datetime import date

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feedback_intranet.extensions import db
from feedback_intranet.models import Case, UnitKind
from feedback_intranet.rules.banking_days import _finnish_holidays

from .test_case_pages import hidden_fields, post_action

OUT_OF_RANGE = "Give a date between 1.1.1900 and 31.12.2999."
ODD_DAYS = ["1.1.0001", "31.12.1899", "1.1.3000", "9999-12-31"]


@pytest.fixture
def bank(make_unit, make_user, make_case):
    units = {"cs": make_unit(code="cs", name="Customer service", kind=UnitKind.CUSTOMER_SERVICE)}
    make_user("admin", is_admin=True, lead_of=[units["cs"]])
    make_user("cs.agent", units=[units["cs"]])
    return units, make_case(units["cs"])


@pytest.fixture
def admin(app, bank):
    client = app.test_client()
    client.post("/login", data={"username": "admin", "password": "correct horse battery"})
    return client


@pytest.fixture
def agent(app, bank):
    client = app.test_client()
    client.post("/login", data={"username": "cs.agent", "password": "correct horse battery"})
    return client


def error_at(page, field_id):
    found = page.split(f'<p class="error" id="{field_id}-error">', 1)
    return found[1].split("</p>", 1)[0] if len(found) == 2 else None


@pytest.mark.parametrize("day", ODD_DAYS)
def test_a_day_outside_the_intranets_days_is_explained_at_its_field(admin, agent, bank, day):
    case = bank[1]
    report = admin.get("/reports/volumes", query_string={"period": "custom", "start": day,
                                                          "end": "2026-11-30"})
    assert error_at(report.get_data(as_text=True), "start") == OUT_OF_RANGE
    audit = admin.get("/admin/audit", query_string={"end": day})
    assert error_at(audit.get_data(as_text=True), "end") == OUT_OF_RANGE
    closing = admin.post("/admin/closing-days", data={"day": day, "reason": "Odd"})
    assert error_at(closing.get_data(as_text=True), "day") == OUT_OF_RANGE
    hours = admin.post("/admin/service-hours", data={"day": day, "segment": "", "reason": "Odd"})
    assert error_at(hours.get_data(as_text=True), "day") == OUT_OF_RANGE
    notice = post_action(agent, case, "interim_notice", estimate=day, text=f"Arvio {day}.")
    assert error_at(notice.get_data(as_text=True), "interim_notice-estimate") in (
        OUT_OF_RANGE, "The estimate may be at most 60 banking days ahead.")
    db.session.expire_all()
    assert db.session.get(Case, case.id).estimated_decision_date is None


@pytest.mark.parametrize("estimate", ["2027-11-27", "2999-12-31"])
def test_an_estimate_over_a_year_ahead_is_refused_before_counting_banking_days(agent, bank,
                                                                                estimate):
    _finnish_holidays.cache_clear()
    refused = post_action(agent, bank[1], "interim_notice", estimate=estimate, text=estimate)
    assert error_at(refused.get_data(as_text=True), "interim_notice-estimate") == (
        "The estimate may be at most 60 banking days ahead.")
    # Only this year's and next year's holidays were worked out, not those of the years between.
    assert _finnish_holidays.cache_info().misses <= 2


def test_the_audit_csv_is_a_whole_file_or_a_clear_refusal(admin, bank):
    whole = admin.get("/admin/audit.csv", query_string={"start": "1900-01-01", "end": "2999-12-31"})
    assert whole.status_code == 200
    rows = list(csv.reader(io.StringIO(whole.get_data(as_text=True).lstrip("\ufeff")), delimiter=";"))
    assert rows[0][:2] == ["Time", "Event"] and len(rows) >= 2
    assert all(len(row) == len(rows[0]) for row in rows)
    refused = admin.get("/admin/audit.csv", query_string={"start": "0001-01-01"})
    assert refused.status_code == 400 and refused.mimetype == "text/html"
    assert error_at(refused.get_data(as_text=True), "start") == OUT_OF_RANGE


def routes_with_ids(app):
    return [rule for rule in app.url_map.iter_rules() if "<int:" in rule.rule]


@pytest.mark.parametrize("number", [2**31 - 1, 2**31, 2**63, 10**20])
def test_an_id_beyond_the_databases_range_in_any_address_is_a_404(app, admin, number):
    rules = routes_with_ids(app)
    assert len(rules) >= 9
    for rule in rules:
        path = rule.rule
        for name in rule.arguments:
            path = path.replace(f"<int:{name}>", str(number)).replace(f"<{name}>", "posted")
        method = "get" if "GET" in rule.methods else "post"
        assert getattr(admin, method)(path).status_code == 404, path


def test_a_nul_byte_in_an_address_is_a_404_or_a_400_not_a_database_error(admin, bank):
    assert admin.get("/cases/FB%00").status_code == 404
    assert admin.get("/inbox/cs%00").status_code == 404
    assert admin.get("/cases/search", query_string={"q": "Aino\x00"}).status_code == 400
    assert admin.get("/admin/audit", query_string={"user": "\x00"}).status_code == 400


# What people and tools put in addresses: days of any year, numbers of any size, cursors,
# markup, and text of any kind.
days = st.one_of(st.sampled_from(ODD_DAYS),
                st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)).map(date.isoformat))
odd_values = st.one_of(
    days,
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.builds(lambda day, moment, n: f"{day}_{moment}_{n}", days,
              st.sampled_from(["2026-11-25T08:00:00+00:00", "0001-01-01T00:00:00+00:00",
                               "9999-12-31T23:59:59+00:00", "x"]),
              st.integers(min_value=-1, max_value=2**64)),
    st.sampled_from(["", "last", "custom", "this_week", "member", "mine", "overdue", "login",
                     "refused", "cs", "14.12.2026", "2026-02-30", "<script>", "' OR 1=1 --"]),
    st.text(max_size=40),
)
GET_FILTERS = {
    "/": ["unit"],
    "/inbox/cs": ["filter", "member", "after", "before", "page"],
    "/inbox/cs/export.csv": ["filter"],
    "/workload/cs": [],
    "/my-cases": [],
    "/cases/search": ["q"],
    "/cases/{reference}": ["q", "template"],
    "/reports/": ["period", "start", "end", "unit"],
    "/reports/volumes": ["period", "start", "end", "unit"],
    "/reports/promise/promise-by-week.csv": ["period", "start", "end", "unit"],
    "/admin/audit": ["user", "kind", "case", "start", "end", "before"],
    "/admin/audit.csv": ["user", "kind", "case", "start", "end"],
}
# Names that views never read but url_for or a template might.
STRAY_NAMES = ["lang", "endpoint", "_anchor", "_external", "name", "table", "reference"]


@st.composite
def get_requests(draw):
    path = draw(st.sampled_from(sorted(GET_FILTERS)))
    names = st.sampled_from(GET_FILTERS[path] + STRAY_NAMES)
    return path, draw(st.dictionaries(names, st.lists(odd_values, min_size=1, max_size=2),
                                      max_size=4))


def whole_answer(response):
    """The response read to its end (a CSV streams), and never a server error."""
    body = response.get_data(as_text=True)
    assert response.status_code in (200, 302, 400, 404), response.status_code
    return body


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(request=get_requests())
def test_any_value_in_any_filter_is_an_answer_never_a_500(admin, bank, request):
    path, args = request
    response = admin.get(path.format(reference=bank[1].reference), query_string=args)
    body = whole_answer(response)
    if response.status_code == 200 and response.mimetype == "text/csv":
        rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff")), delimiter=";"))
        assert all(len(row) == len(rows[0]) for row in rows)


DATE_FIELDS = ["report start", "report end", "audit start", "audit end", "closing day",
               "deviating hours", "interim notice"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(field=st.sampled_from(DATE_FIELDS), value=st.one_of(days, odd_values))
def test_any_value_in_any_date_field_is_an_answer_never_a_500(admin, agent, bank, field, value):
    case = db.session.scalar(sa.select(Case).where(Case.id == bank[1].id))
    db.session.expire_all()
    if field.startswith("report"):
        response = admin.get("/reports/volumes", query_string={
            "period": "custom", "start": "2026-11-01", "end": "2026-11-30",
            field.split()[1]: value})
    elif field.startswith("audit"):
        response = admin.get("/admin/audit.csv", query_string={field.split()[1]: value})
    elif field == "closing day":
        response = admin.post("/admin/closing-days", data={"day": value, "reason": "Odd"})
    elif field == "deviating hours":
        response = admin.post("/admin/service-hours", data={"day": value, "segment": "",
                                                             "reason": "Odd"})
    else:
        page = agent.get(f"/cases/{case.reference}").get_data(as_text=True)
        assert hidden_fields(page, "interim_notice"), "the notice is offered"
        response = post_action(agent, case, "interim_notice", page=page, estimate=value,
                               text=f"Arvio {value}.")
    body = whole_answer(response)
    if response.status_code == 200 and response.mimetype == "text/html":
        # Either a page of results, the form again with what is wrong at a field, or a closing
        # day's confirmation step (how many badges it changes) before anything is saved.
        assert ('class="error"' in body or field.startswith(("report", "audit"))
                or (field == "closing day" and 'name="confirmed"' in body)), field
