"""Reports: exact figures on a small known data set around Christmas; leads see their units only."""

import math
import re
from datetime import datetime

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from feedback_intranet.extensions import db
from feedback_intranet.models import (
    Answer,
    CaseEvent,
    CaseStatus,
    EventKind,
    IntakeChannel,
    Language,
    Purpose,
    ReplyChannel,
    Resolution,
    Segment,
    Topic,
    User,
)
from feedback_intranet.replies.answers import mark_delivered
from feedback_intranet.reports.queries import age_thresholds, nearest_rank
from feedback_intranet.rules.banking_days import BankingCalendar
from feedback_intranet.rules.charts import bar_chart, percent_line_chart
from feedback_intranet.rules.periods import resolve

from .conftest import HELSINKI


def at(month, day, hour=10):
    return datetime(2026, month, day, hour, 0, tzinfo=HELSINKI)


@pytest.fixture
def christmas(units, make_user, make_case, clock):
    # Monday 28 December 2026: the banking days before are 23, 22, 21 and 18 December.
    clock.set(at(12, 28, 12))
    make_user("branch.lead", lead_of=[units["helsinki"]])
    make_user("branch.staff", units=[units["helsinki"]])
    make_user("admin", is_admin=True)
    for day in (28, 24, 23, 22, 21, 18, 17, 16):
        make_case(units["helsinki"], received_at=at(12, day, 9))
    make_case(units["turku"], received_at=at(12, 16))
    return units


def test_age_buckets_count_banking_days_over_the_holidays():
    first, second, third = age_thresholds(at(12, 28).date(), BankingCalendar())
    assert [t.date().isoformat() for t in (first, second, third)] == [
        "2026-12-23", "2026-12-21", "2026-12-17"]


def test_the_backlog_by_unit_and_age_with_the_overdue_first(client, login, christmas):
    login("admin")
    page = " ".join(client.get("/reports/").get_data(as_text=True).split())
    # Helsinki: 0–1: 28, 24, 23; 2–3: 22, 21; 4–5: 18, 17; over 5: 16. Overdue: 16, 17, 18.
    assert ("<th scope=\"row\">Helsinki Centre</th><td>3</td><td>8</td><td>3</td><td>2</td>"
            "<td>2</td><td>1</td>") in page
    assert "<th scope=\"row\">Turku</th><td>1</td><td>1</td><td>0</td><td>0</td><td>0</td><td>1</td>" in page
    assert page.index("Helsinki Centre</th>") < page.index("Turku</th>")


def test_the_backlog_downloads_as_csv(client, login, christmas):
    login("branch.lead")
    data = client.get("/reports/backlog/backlog.csv").data.decode("utf-8-sig").splitlines()
    assert data[0] == ("Unit;Overdue;Open;Age 0–1 banking days;Age 2–3 banking days;"
                       "Age 4–5 banking days;Age > 5 banking days")
    assert data[1:] == ["Helsinki Centre;3;8;3;2;2;1"]


def test_a_team_lead_sees_only_their_units_figures(client, login, christmas):
    login("branch.lead")
    page = client.get("/reports/").get_data(as_text=True)
    assert "Helsinki Centre" in page and "Turku" not in page
    assert client.get(f"/reports/?unit={christmas['turku'].id}").status_code == 404
    assert client.get(f"/reports/backlog/backlog.csv?unit={christmas['turku'].id}").status_code == 404
    client.post("/logout")
    login("branch.staff")
    assert client.get("/reports/").status_code == 403


# Weeks 51 (14.–20.12.) and 52 (21.–27.12.) of 2026; Christmas Eve and Day are closing days.
PERIOD = "?period=custom&start=2026-12-14&end=2026-12-27"
WEEK_51, WEEK_52 = "week 51, 14.12.–20.12.2026", "week 52, 21.12.–27.12.2026"


@pytest.fixture
def december(units, make_user, make_case, topic, data, clock):
    """Eleven cases in the period and two outside it, answered on chosen days around Christmas.

    Cases are named by their number in the docstrings of the tests below.
    """
    clock.set(at(12, 28, 12))
    staff = make_user("staff", units=list(units.values()))
    make_user("branch.lead", lead_of=[units["helsinki"]])
    make_user("admin", is_admin=True)
    loans = Topic(code="loans", name="Loans", name_fi="Lainat", name_sv="Lån")
    db.session.add(loans)
    db.session.commit()
    cs, helsinki, turku = units["cs"], units["helsinki"], units["turku"]
    calendar = BankingCalendar()

    def case(unit, month, day, **changes):
        made = make_case(unit, received_at=at(month, day, 9))
        made = db.session.merge(made)
        for name, value in changes.items():
            setattr(made, name, value)
        db.session.commit()
        return made

    def deliver(made, month, day, channel=ReplyChannel.EMAIL, purpose=Purpose.ANSWER):
        answer = Answer(case_id=made.id, purpose=purpose, channel=channel, text="Hei",
                        created_at=at(month, day, 8), created_by_id=staff.id)
        db.session.add(answer)
        mark_delivered(answer, made, at(month, day, 15), calendar)
        db.session.commit()

    def forward(made, source, target, day):
        db.session.add(CaseEvent(case_id=made.id, kind=EventKind.FORWARDED, from_unit_id=source.id,
                                 to_unit_id=target.id, at=at(12, day, 11)))
        db.session.commit()

    deliver(case(helsinki, 12, 14), 12, 17)                                        # 1
    two = case(helsinki, 12, 15, topic_id=loans.id, reply_channel=ReplyChannel.PHONE)
    deliver(two, 12, 21, ReplyChannel.PHONE)                                        # 2
    forward(two, cs, helsinki, 15)
    three = case(helsinki, 12, 16, reply_channel=ReplyChannel.LETTER)               # 3
    deliver(three, 12, 18, ReplyChannel.LETTER, Purpose.INTERIM_NOTICE)
    three.set_estimate(datetime(2026, 12, 29).date())
    deliver(three, 12, 28, ReplyChannel.LETTER)
    forward(three, cs, turku, 16)
    forward(three, turku, helsinki, 17)
    case(turku, 12, 18, reply_wanted=False, reply_channel=None)                     # 4
    five = case(turku, 12, 19, topic_id=loans.id, segment=Segment.BUSINESS)        # 5
    deliver(five, 12, 21)
    forward(five, cs, turku, 19)
    case(helsinki, 12, 21, status=CaseStatus.ASSIGNED)                              # 6
    deliver(case(helsinki, 12, 22), 12, 23)                                         # 7
    eight = case(turku, 12, 23, topic_id=loans.id)                                  # 8
    deliver(eight, 12, 23, purpose=Purpose.INTERIM_NOTICE)
    eight.set_estimate(datetime(2026, 12, 30).date())
    case(helsinki, 12, 24, status=CaseStatus.CLOSED, resolution=Resolution.DUPLICATE)  # 9
    ten = case(cs, 12, 14)                                                          # 10
    deliver(ten, 12, 18, purpose=Purpose.INTERIM_NOTICE)
    ten.set_estimate(datetime(2026, 12, 21).date())
    deliver(ten, 12, 18)
    case(helsinki, 12, 15, intake_channel=IntakeChannel.PHONE)                     # 11
    db.session.commit()
    outside = case(helsinki, 12, 13)
    deliver(outside, 12, 14)
    forward(outside, cs, helsinki, 13)
    case(helsinki, 12, 28)
    return units


def csv_table(client, name, table, query=PERIOD):
    response = client.get(f"/reports/{name}/{table}.csv{query}")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    return [line.split(";") for line in response.data.decode("utf-8-sig").splitlines()]


def test_the_promise_by_unit_topic_and_week(client, login, december):
    """Kept: 1 (on the due day), 3 (notice in time, answered by the estimate), 5 and 7.
    Not kept: 2 (late), 10 (notice after the due day), 11 (unanswered and overdue).
    Not yet due: 6 and 8. Not owed an answer: 4 (none wanted) and 9 (a duplicate)."""
    login("admin")
    header = ["Owed an answer", "Kept", "Not kept", "Not yet due", "Kept %", "Interim notices",
              "Answered by the estimate"]
    # No case was escalated (tests/test_report_escalations.py counts them).
    assert csv_table(client, "promise", "promise-by-unit") == [
        ["Unit", *header, "Escalated as overdue"],
        ["Customer service", "1", "0", "1", "0", "0", "1", "1", "0"],
        ["Helsinki Centre", "6", "3", "2", "1", "60", "1", "1", "0"],
        ["Turku", "2", "1", "0", "1", "100", "1", "0", "0"],
        ["All", "9", "4", "3", "2", "57", "3", "2", "0"],
    ]
    assert csv_table(client, "promise", "promise-by-topic") == [
        ["Topic", *header],
        ["Cards", "6", "3", "2", "1", "60", "2", "2"],
        ["Loans", "3", "1", "1", "1", "50", "1", "0"],
        ["All", "9", "4", "3", "2", "57", "3", "2"],
    ]
    assert csv_table(client, "promise", "promise-by-week") == [
        ["Week", "Kept", "Not kept", "Not yet due", "Kept %", "Escalated as overdue"],
        [WEEK_51, "3", "3", "0", "50", "0"],
        [WEEK_52, "1", "0", "2", "100", "0"],
    ]


def test_time_to_answer_median_and_90th_percentile_by_nearest_rank(client, login, december):
    """Banking days to the answer: 1 → 3, 2 → 4, 3 → 6 (over Christmas), 5 → 1 (Saturday to
    Monday), 7 → 1, 10 → 4."""
    login("admin")
    header = ["Answered", "Median", "90th percentile"]
    assert csv_table(client, "answer-time", "answer-time-by-unit") == [
        ["Unit", *header],
        ["Customer service", "1", "4", "4"],
        ["Helsinki Centre", "4", "3", "6"],
        ["Turku", "1", "1", "1"],
        ["All", "6", "3", "6"],
    ]
    assert csv_table(client, "answer-time", "answer-time-by-channel") == [
        ["Channel", *header],
        ["Email", "4", "1", "4"],
        ["Letter", "1", "6", "6"],
        ["Phone call", "1", "4", "4"],
        ["All", "6", "3", "6"],
    ]


def test_volumes_per_week_by_topic_segment_and_channels(client, login, december):
    login("admin")
    assert csv_table(client, "volumes", "volume-by-week") == [
        ["Week", "Received"], [WEEK_51, "7"], [WEEK_52, "4"], ["All", "11"]]
    weeks = [WEEK_51, WEEK_52, "Total"]
    assert csv_table(client, "volumes", "volume-by-topic") == [
        ["Topic", *weeks], ["Cards", "5", "3", "8"], ["Loans", "2", "1", "3"], ["All", "7", "4", "11"]]
    assert csv_table(client, "volumes", "volume-by-segment") == [
        ["Segment", *weeks], ["Business customer", "1", "0", "1"],
        ["Private customer", "6", "4", "10"], ["All", "7", "4", "11"]]
    assert csv_table(client, "volumes", "volume-by-reply-channel") == [
        ["Reply channel", *weeks], ["Email", "4", "4", "8"], ["Letter", "1", "0", "1"],
        ["No answer wanted", "1", "0", "1"], ["Phone call", "1", "0", "1"], ["All", "7", "4", "11"]]
    assert csv_table(client, "volumes", "volume-by-intake-channel") == [
        ["Intake channel", *weeks], ["Feedback form", "6", "4", "10"], ["Phone", "1", "0", "1"],
        ["All", "7", "4", "11"]]


def test_forwarding_from_and_to_and_cases_forwarded_more_than_once(client, login, december):
    login("admin")
    assert csv_table(client, "forwarding", "forwarding") == [
        ["From", "To", "Forwards"],
        ["Customer service", "Turku", "2"],
        ["Customer service", "Helsinki Centre", "1"],
        ["Turku", "Helsinki Centre", "1"],
        ["All", "", "4"],
    ]
    assert csv_table(client, "forwarding", "forwarded-more-than-once") == [
        ["Figure", "Cases"], ["Forwarded more than once", "1"]]


def test_a_team_lead_sees_only_their_units_figures_in_every_report(client, login, december):
    login("branch.lead")
    assert csv_table(client, "promise", "promise-by-unit")[1:] == [
        ["Helsinki Centre", "6", "3", "2", "1", "60", "1", "1", "0"],
        ["All", "6", "3", "2", "1", "60", "1", "1", "0"]]
    assert csv_table(client, "answer-time", "answer-time-by-unit")[1:] == [
        ["Helsinki Centre", "4", "3", "6"], ["All", "4", "3", "6"]]
    assert csv_table(client, "volumes", "volume-by-week")[1:] == [
        [WEEK_51, "4"], [WEEK_52, "3"], ["All", "7"]]
    # Moves into and out of Helsinki only; the case forwarded twice passed through it.
    assert csv_table(client, "forwarding", "forwarding")[1:] == [
        ["Customer service", "Helsinki Centre", "1"], ["Turku", "Helsinki Centre", "1"],
        ["All", "", "2"]]
    for name in ("promise", "answer-time", "volumes", "forwarding"):
        page = client.get(f"/reports/{name}{PERIOD}").get_data(as_text=True)
        if name != "forwarding":
            assert "Turku</th><td>" not in page and "Customer service</th><td>" not in page
        turku = f"{PERIOD}&unit={december['turku'].id}"
        assert client.get(f"/reports/{name}{turku}").status_code == 404
        assert client.get(f"/reports/{name}/volume-by-week.csv{turku}").status_code == 404


def test_units_narrow_the_scope_to_one_or_several(client, login, december):
    login("admin")
    helsinki, turku = december["helsinki"].id, december["turku"].id
    assert csv_table(client, "volumes", "volume-by-week", f"{PERIOD}&unit={turku}")[1:] == [
        [WEEK_51, "2"], [WEEK_52, "1"], ["All", "3"]]
    assert csv_table(client, "volumes", "volume-by-week",
                     f"{PERIOD}&unit={turku}&unit={helsinki}")[-1] == ["All", "10"]
    assert client.get(f"/reports/volumes{PERIOD}&unit=99999").status_code == 404
    assert client.get(f"/reports/volumes{PERIOD}&unit=x").status_code == 404
    assert client.get("/reports/nonsense").status_code == 404
    assert client.get(f"/reports/volumes/nonsense.csv{PERIOD}").status_code == 404


@pytest.mark.parametrize(("kind", "first", "last"), [
    ("this_week", "2026-12-28", "2027-01-03"),
    ("this_month", "2026-12-01", "2026-12-31"),
    ("last_month", "2026-11-01", "2026-11-30"),
])
def test_the_named_periods(kind, first, last):
    period = resolve(kind, None, None, at(12, 28).date())
    assert (period.start.isoformat(), period.end.isoformat()) == (first, last)


def test_january_reaches_back_to_december_for_last_month():
    period = resolve("last_month", None, None, datetime(2027, 1, 15).date())
    assert (period.start.isoformat(), period.end.isoformat()) == ("2026-12-01", "2026-12-31")


@pytest.mark.parametrize(("query", "field", "message", "kept"), [
    ("period=custom&start=14.12.2026", "end", "Give the last day as a date.", "14.12.2026"),
    ("period=custom&start=14.12.2026&end=1.12.2026", "end",
     "The last day cannot be before the first day.", "1.12.2026"),
    ("period=custom&start=1.1.2025&end=1.12.2026", "end", "Choose at most 366 days.", "1.1.2025"),
    ("period=custom&start=2026-12-14x&end=20.12.2026", "start",
     "Give the date as day.month.year, e.g. 24.12.2026.", "2026-12-14x"),
    ("period=custom&start=31.11.2026&end=20.12.2026", "start",
     "Give the date as day.month.year, e.g. 24.12.2026.", "31.11.2026"),
    ("period=whenever", "period", "Choose a period.", None),
])
def test_a_wrong_period_is_explained_at_its_field_and_kept(client, login, december, query, field,
                                                          message, kept):
    login("admin")
    response = client.get(f"/reports/volumes?{query}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert f'<p class="error" id="{field}-error">{message}</p>' in page
    assert "Correct the period to see the figures." in page
    if kept:
        assert f'value="{kept}"' in page
    assert client.get(f"/reports/volumes/volume-by-week.csv?{query}").status_code == 404


def test_the_charts_are_svg_with_a_text_alternative_and_the_table_beside(client, login, december):
    login("admin")
    page = client.get(f"/reports/volumes{PERIOD}").get_data(as_text=True)
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in page
    # No inline script: only files the CSP allows (the date picker's).
    assert not re.search(r"<script(?![^>]*\ssrc=)", page)
    assert "style=" not in page
    assert f"Cases received per week: {WEEK_51}: 7; {WEEK_52}: 4." in page
    assert page.count('<rect class="chart-bar"') == 2
    assert 'id="volume-by-week"' in page
    page = client.get(f"/reports/promise{PERIOD}").get_data(as_text=True)
    assert ("Share of cases answered within the promise, by week of receipt: "
            f"{WEEK_51}: 50 %; {WEEK_52}: 100 %.") in page
    assert page.count('<circle class="chart-point"') == 2
    assert 'id="promise-by-week"' in page


def test_a_staff_member_without_a_led_unit_sees_no_reports(client, login, december):
    login("staff")
    for name in ("backlog", "promise", "answer-time", "volumes", "forwarding"):
        assert client.get(f"/reports/{name}{PERIOD}", follow_redirects=True).status_code == 403
        assert client.get(f"/reports/{name}/forwarding.csv{PERIOD}").status_code == 403


def test_nearest_rank_reads_the_percentile_off_per_value_counts():
    assert nearest_rank([], 50) is None
    assert nearest_rank([(4, 1)], 90) == 4
    # 1, 1, 3, 4, 4, 6: the median is the 3rd value, the 90th percentile the 6th.
    assert nearest_rank([(6, 1), (1, 2), (4, 2), (3, 1)], 50) == 3
    assert nearest_rank([(6, 1), (1, 2), (4, 2), (3, 1)], 90) == 6
    # Ten values: the 90th percentile is exactly the 9th.
    assert nearest_rank([(day, 1) for day in range(10)], 90) == 8


@given(st.dictionaries(st.integers(0, 40), st.integers(1, 50), min_size=1),
       st.integers(1, 100))
def test_nearest_rank_matches_the_sorted_list(counts, percent):
    values = sorted(value for value, count in counts.items() for _ in range(count))
    rank = math.ceil(percent * len(values) / 100)
    assert nearest_rank(list(counts.items()), percent) == values[rank - 1]


def test_chart_scales_are_whole_numbers_and_reach_the_largest_value():
    chart = bar_chart("t", "d", ["a", "b"], [0, 37])
    assert [tick["text"] for tick in chart.y_ticks] == ["0", "10", "20", "30", "40", "50"]
    assert chart.bars[0]["height"] == 0 and chart.bars[1]["label"] == "b: 37"
    assert [tick["text"] for tick in bar_chart("t", "d", ["a"], [0]).y_ticks][-1] == "5"
    assert bar_chart("t", "d", ["a"], [180]).y_ticks[-1]["text"] == "200"
    line = percent_line_chart("t", "d", ["a", "b", "c", "d"], [50, None, 100, 75])
    assert len(line.lines) == 2 and len(line.points) == 3


def test_report_pages_cost_the_same_queries_however_many_cases(client, login, december, make_case):
    login("admin")
    names = ("backlog", "promise", "answer-time", "volumes", "forwarding")

    def counts():
        return [int(client.get(f"/reports/{name}{PERIOD}", follow_redirects=True)
                    .headers["X-Query-Count"]) for name in names]

    few = counts()
    for day in (14, 16, 18, 21, 23):
        for unit in ("vaasa", "turku", "cs"):
            make_case(december[unit], received_at=at(12, day, 9))
    assert counts() == few
    assert max(few) <= 8


def test_the_backlog_ignores_a_period_it_has_no_use_for(client, login, christmas):
    login("admin")
    page = client.get("/reports/?period=custom&start=2026-01-01").get_data(as_text=True)
    assert "Correct the period" not in page and "Helsinki Centre</th><td>3</td>" in page
    assert client.get("/reports/backlog/backlog.csv?period=custom").status_code == 200


def test_the_promise_report_opens_with_its_figure_for_the_period(client, login, december):
    login("admin")
    page = client.get(f"/reports/promise{PERIOD}").get_data(as_text=True)
    headline = re.search(r'<p class="report-headline">(.*?)</p>', page).group(1)
    assert headline == ("<strong>57 % kept, 14.12.–27.12.2026</strong> "
                        "<span>4 of 7 cases answered within the promise.</span>")
    # It comes first: before the chart and the tables.
    assert page.index("report-headline") < page.index("<svg") < page.index('id="promise-by-unit"')
    # A whole month is named; the month of another year with its year.
    december_only = client.get("/reports/promise?period=custom&start=1.12.2026&end=31.12.2026")
    assert "<strong>62 % kept in December</strong>" in december_only.get_data(as_text=True)
    november_2025 = client.get("/reports/promise?period=custom&start=1.11.2025&end=30.11.2025")
    assert ("No case received in the period has reached its due date yet."
            in november_2025.get_data(as_text=True))
    # The other reports have no such figure.
    assert "report-headline" not in client.get(f"/reports/volumes{PERIOD}").get_data(as_text=True)


def test_the_headline_reads_naturally_in_finnish_and_swedish(client, login, december):
    admin = db.session.scalar(sa.select(User).where(User.username == "admin"))
    for language, month, ranged in [
            ("fi", "Lupaus pidettiin joulukuussa: 62 %", "Lupaus pidettiin ajalla 14.12.–27.12.2026: 57 %"),
            ("sv", "Löftet hölls i december: 62 %", "Löftet hölls under perioden 14.12.–27.12.2026: 57 %")]:
        admin.language = Language(language)
        db.session.commit()
        login("admin")
        page = client.get("/reports/promise?period=custom&start=1.12.2026&end=31.12.2026")
        assert f"<strong>{month}</strong>" in page.get_data(as_text=True)
        assert f"<strong>{ranged}</strong>" in client.get(f"/reports/promise{PERIOD}").get_data(
            as_text=True)
        weeks = client.get(f"/reports/volumes{PERIOD}").get_data(as_text=True)
        word = {"fi": "vko", "sv": "v."}[language]
        assert f"<th scope=\"row\">{word} 51, 14.12.–20.12.2026</th>" in weeks


def test_weeks_across_a_new_year_write_both_years_in_the_table_chart_and_csv(client, login, december):
    login("admin")
    period = "?period=custom&start=21.12.2026&end=6.1.2027"
    labels = ["week 52, 21.12.–27.12.2026", "week 53, 28.12.2026–3.1.2027", "week 1, 4.1.–6.1.2027"]
    assert [row[0] for row in csv_table(client, "volumes", "volume-by-week", period)[1:-1]] == labels
    assert csv_table(client, "volumes", "volume-by-topic", period)[0][1:4] == labels
    assert [row[0] for row in csv_table(client, "promise", "promise-by-week", period)[1:]] == labels
    page = client.get(f"/reports/volumes{period}").get_data(as_text=True)
    # Under the bars: the number over the days; each bar's title and the description in full.
    assert '<tspan x="' in page and ">wk 53</tspan>" in page and ">28.12.–3.1.</tspan>" in page
    assert "<title>week 53, 28.12.2026–3.1.2027: " in page
    assert "Cases received per week: week 52, 21.12.–27.12.2026: " in page
