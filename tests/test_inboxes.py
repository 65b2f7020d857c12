"""Shared inboxes: who sees which, order, filters, counts and pages."""

import random
import re
from datetime import datetime, timedelta

import pytest

from feedback_intranet.extensions import db
from feedback_intranet.models import CaseStatus, Customer, Language, Segment, Topic

from .conftest import HELSINKI


@pytest.fixture
def people(make_user, units):
    return {
        "branch.staff": make_user("branch.staff", units=[units["helsinki"]]),
        "branch.lead": make_user("branch.lead", lead_of=[units["helsinki"]], units=[units["turku"]]),
        "cs.agent": make_user("cs.agent", units=[units["cs"]]),
        "admin": make_user("admin", is_admin=True),
    }


def references(response):
    return re.findall(r">(FB-\d{4}-\d{6})</a>", response.get_data(as_text=True))


def at(day, hour=10):
    return datetime(2026, 11, day, hour, 0, tzinfo=HELSINKI)


def test_branch_staff_see_only_their_own_units_inbox(client, login, units, people, make_case):
    mine = make_case(units["helsinki"])
    theirs = make_case(units["turku"])
    login("branch.staff")
    response = client.get("/", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Helsinki Centre" in page
    assert "Turku" not in page and "Customer service" not in page
    assert references(response) == [mine.reference]
    assert theirs.reference not in page


@pytest.mark.parametrize("unit_code", ["turku", "cs", "no-such-unit"])
def test_another_units_inbox_by_url_is_refused(client, login, units, people, make_case, unit_code):
    secret = make_case(units["turku"])
    login("branch.staff")
    response = client.get(f"/inbox/{unit_code}")
    assert response.status_code == 404
    assert secret.reference not in response.get_data(as_text=True)


def test_another_units_case_by_url_is_refused(client, login, units, people, make_case):
    secret = make_case(units["turku"], contact_name="Britt Holmberg")
    login("branch.staff")
    response = client.get(f"/cases/{secret.reference}")
    assert response.status_code == 404
    assert "Britt Holmberg" not in response.get_data(as_text=True)


def test_a_member_opens_a_case_of_their_unit(client, login, units, people, make_case):
    case = make_case(units["helsinki"], contact_name="Britt Holmberg")
    login("branch.staff")
    page = client.get(f"/cases/{case.reference}").get_data(as_text=True)
    assert "Britt Holmberg" in page
    assert "Received" in page
    assert "due in 3 banking days" in page


def test_a_team_lead_of_one_unit_and_member_of_another_has_both_tabs(
    client, login, units, people
):
    login("branch.lead")
    page = client.get("/inbox/turku").get_data(as_text=True)
    assert "Helsinki Centre" in page and "Turku" in page
    assert client.get("/inbox/cs").status_code == 404


def test_admins_open_every_inbox(client, login, units, people, make_case):
    case = make_case(units["turku"])
    login("admin")
    response = client.get("/inbox/turku")
    assert response.status_code == 200
    assert case.reference in response.get_data(as_text=True)
    assert client.get("/", query_string={"unit": "cs"}).headers["Location"] == "/inbox/cs"


def test_most_urgent_first_overdue_before_due(client, login, units, people, make_case, clock):
    clock.set(at(25))
    later = make_case(units["helsinki"], received_at=at(24))  # due Friday 27
    overdue = make_case(units["helsinki"], received_at=at(16))  # due Thursday 19
    due_today = make_case(units["helsinki"], received_at=at(20))  # due Wednesday 25
    same_day_earlier = make_case(units["helsinki"], received_at=at(24, 8))
    login("branch.staff")
    response = client.get("/inbox/helsinki-centre")
    assert references(response) == [
        overdue.reference, due_today.reference, same_day_earlier.reference, later.reference
    ]
    page = response.get_data(as_text=True)
    assert "overdue 4 banking days" in page
    assert "due today" in page
    assert "due in 2 banking days" in page


def test_filters_and_their_counts(client, login, units, people, make_case, clock):
    clock.set(at(25))
    staff = people["branch.staff"]
    new = make_case(units["helsinki"], received_at=at(24))
    mine = make_case(units["helsinki"], received_at=at(24), status=CaseStatus.ASSIGNED,
                     assignee=staff)
    overdue = make_case(units["helsinki"], received_at=at(16))
    due_today = make_case(units["helsinki"], received_at=at(20))
    silent = make_case(units["helsinki"], received_at=at(16), reply_wanted=False)
    answered = make_case(units["helsinki"], received_at=at(18), status=CaseStatus.ANSWERED)
    make_case(units["helsinki"], received_at=at(18), status=CaseStatus.CLOSED)
    make_case(units["turku"], received_at=at(16))
    login("branch.staff")

    expected = {
        # A customer who wanted no answer is never overdue, nor among the open ones awaiting one.
        "open": {new, mine, overdue, due_today},
        "unassigned": {new, overdue, due_today, silent},
        "mine": {mine},
        "overdue": {overdue},
        "due_today": {due_today},
        "no_answer": {silent},
        "answered": {answered},
    }
    page = client.get("/inbox/helsinki-centre").get_data(as_text=True)
    for name, cases in expected.items():
        response = client.get("/inbox/helsinki-centre", query_string={"filter": name})
        assert set(references(response)) == {c.reference for c in cases}, name
        label = re.search(rf'filter={name}"[^>]*>[^<]*<span class="count">(\d+)</span>', page)
        assert int(label.group(1)) == len(cases), name


def test_an_estimate_moves_the_case_in_the_order_and_counts(
    client, login, units, people, make_case, clock
):
    clock.set(at(25))
    estimated = make_case(units["helsinki"], received_at=at(16), estimate=at(30).date())
    other = make_case(units["helsinki"], received_at=at(24))
    login("branch.staff")
    response = client.get("/inbox/helsinki-centre")
    assert references(response) == [other.reference, estimated.reference]
    assert "estimate 30.11.2026" in response.get_data(as_text=True)
    overdue = client.get("/inbox/helsinki-centre", query_string={"filter": "overdue"})
    assert references(overdue) == []


def test_unknown_filters_and_broken_cursors_fall_back_to_the_first_page(
    client, login, units, people, make_case
):
    case = make_case(units["helsinki"])
    login("branch.staff")
    hostile = [
        {"filter": "everything"}, {"after": "garbage"}, {"before": "1_2_3"},
        {"after": "2026-01-01_2026-01-01T00:00:00+00:00_99999999999999999999999"},
        {"after": "0001-01-01_0001-01-01T00:00:00+14:00_1"},
        {"before": "9999-12-31_9999-12-31T23:59:59-14:00_1"},
        {"after": "2026-01-01_2026-01-01T00:00:00_1"},
        {"after": "2026-11-01_2026-11-01T00:00:00+00:00_1",
         "before": "2026-12-01_2026-12-01T00:00:00+00:00_1"},
    ]
    for query in hostile:
        response = client.get("/inbox/helsinki-centre", query_string=query)
        assert response.status_code == 200
        assert references(response) == [case.reference]


def test_pages_walk_forward_back_and_to_the_end(app, client, login, units, people, make_case):
    app.config["INBOX_PAGE_SIZE"] = 3
    start = at(2)
    cases = [make_case(units["helsinki"], received_at=start + timedelta(hours=7 * i))
             for i in range(8)]
    expected = [c.reference for c in cases]
    login("branch.staff")

    def follow(response, rel):
        match = re.search(rf'href="([^"]+)" rel="{rel}"', response.get_data(as_text=True))
        return client.get(match.group(1).replace("&amp;", "&")) if match else None

    first = client.get("/inbox/helsinki-centre")
    second = follow(first, "next")
    third = follow(second, "next")
    assert references(first) + references(second) + references(third) == expected
    assert follow(third, "next") is None
    assert references(follow(third, "prev")) == expected[3:6]
    assert references(follow(follow(third, "prev"), "prev")) == expected[:3]
    last = client.get("/inbox/helsinki-centre", query_string={"page": "last"})
    assert references(last) == expected[5:]
    assert references(follow(last, "prev")) == expected[2:5]


@pytest.mark.parametrize("sort", ["due", "received", "customer"])
@pytest.mark.parametrize("order", ["asc", "desc"])
def test_new_and_held_cases_merge_into_one_order_on_every_page(
        app, client, login, units, people, make_case, sort, order):
    """The open inbox reads its new and its held cases as two lists, which the database merges:
    page by page, forward and from the end back, the one order of the sort whoever holds the
    cases, with ties broken by the case's id."""
    app.config["INBOX_PAGE_SIZE"] = 3
    rng = random.Random(f"{sort}{order}")
    names = ["Aino", "Björn", "Eero", "Öberg", "Aino"]
    cases = [make_case(units["helsinki"], received_at=at(2 + rng.randrange(3), 8 + rng.randrange(2)),
                       contact_name=rng.choice(names),
                       status=(CaseStatus.ASSIGNED if rng.random() < 0.5 else CaseStatus.NEW),
                       assignee=people["branch.staff"] if rng.random() < 0.5 else None)
             for _ in range(11)]
    for case in cases:  # a held case has a holder
        case.assignee = people["branch.staff"] if case.status == CaseStatus.ASSIGNED else None
    db.session.commit()
    keys = {"due": ("effective_due_date", "received_at", "id"),
            "received": ("received_at", "id"),
            "customer": ("customer_sort", "effective_due_date", "received_at", "id")}[sort]
    expected = [case.reference for case in sorted(
        cases, key=lambda case: tuple(getattr(case, key) for key in keys),
        reverse=order == "desc")]
    assert {case.status for case in cases} == {CaseStatus.NEW, CaseStatus.ASSIGNED}
    login("branch.staff")
    params = {"sort": sort, "order": order}

    def follow(response, rel):
        match = re.search(rf'href="([^"]+)" rel="{rel}"', response.get_data(as_text=True))
        return client.get(match.group(1).replace("&amp;", "&")) if match else None

    forward, page = [], client.get("/inbox/helsinki-centre", query_string=params)
    while page is not None:
        forward += references(page)
        page = follow(page, "next")
    assert forward == expected
    backward, page = [], client.get("/inbox/helsinki-centre",
                                    query_string={**params, "page": "last"})
    while page is not None:
        backward = references(page) + backward
        page = follow(page, "prev")
    assert backward == expected


def test_query_count_does_not_grow_with_the_cases_shown(
    client, login, units, people, make_case, make_user
):
    login("branch.lead")
    # One case in every filter: an empty page reads no banking calendar for its badges.
    make_case(units["helsinki"], status=CaseStatus.ASSIGNED, assignee=people["branch.lead"])
    make_case(units["helsinki"], received_at=at(1))
    queries = ({}, {"filter": "unassigned"}, {"filter": "overdue"}, {"filter": "mine"},
               {"page": "last"})

    def counts():
        return [int(client.get("/inbox/helsinki-centre", query_string=q).headers["X-Query-Count"])
                for q in queries]

    few = counts()
    # Many cases with different assignees, topics and matched customers.
    others = [make_user(f"member.{i}", units=[units["helsinki"]]) for i in range(5)]
    topics = [Topic(code=f"topic-{i}", name=f"Topic {i}") for i in range(5)]
    customers = [Customer(customer_number=f"C{i:07d}", name=f"Customer {i}", street_address="Katu 1",
                          postal_code="00100", city="Helsinki", language=Language.FI,
                          segment=Segment.PRIVATE, home_office_id=units["helsinki"].id)
                 for i in range(5)]
    db.session.add_all(topics + customers)
    db.session.commit()
    for i in range(30):
        case = make_case(units["helsinki"], received_at=at(1 + i % 20),
                         status=CaseStatus.ASSIGNED if i % 2 else CaseStatus.NEW,
                         assignee=others[i % 5] if i % 2 else None, contact_name="")
        case.topic_id, case.customer_id = topics[i % 5].id, customers[i % 5].id
        db.session.commit()
    assert counts() == few
    assert len(references(client.get("/inbox/helsinki-centre"))) == 32
    page = client.get("/inbox/helsinki-centre").get_data(as_text=True)
    assert "Customer 3" in page and "Topic 4" in page and "Member 2" in page
    assert max(few) <= 9


def test_badges_say_their_state_in_words(client, login, units, people, make_case, clock):
    clock.set(at(25))
    make_case(units["helsinki"], received_at=at(16), reply_wanted=False)
    login("branch.staff")
    page = client.get("/inbox/helsinki-centre?filter=no_answer").get_data(as_text=True)
    assert '<span class="badge badge-no_answer">no answer wanted</span>' in page


def test_an_inbox_exports_as_csv_without_the_message(client, login, units, people, make_case, clock):
    clock.set(at(25))
    overdue = make_case(units["helsinki"], received_at=at(16), contact_name="=HYPERLINK(evil)",
                        message="Tämä viesti ei saa näkyä.")
    make_case(units["helsinki"], received_at=at(24))
    make_case(units["turku"], received_at=at(16))
    login("branch.staff")
    response = client.get("/inbox/helsinki-centre/export.csv", query_string={"filter": "overdue"})
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    data = response.data
    assert data.startswith("\ufeff".encode())
    lines = data.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Reference;Received;Due;")
    assert len(lines) == 2 and lines[1].startswith(f"{overdue.reference};16.11.2026 10:00;19.11.2026")
    assert "'=HYPERLINK(evil)" in lines[1]
    assert "Tämä viesti" not in data.decode("utf-8-sig")
    assert client.get("/inbox/turku/export.csv").status_code == 404
