"""The inbox's sorts: stored keys in the Finnish and Swedish alphabet, the same order on both
databases, keyset pages in either direction, and keys that follow the names they come from."""

import re
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from feedback_intranet.extensions import cache as inbox_cache
from feedback_intranet.extensions import db
from feedback_intranet.inboxes.queries import first_line
from feedback_intranet.models import Case, CaseStatus, Customer, Language, Segment, Topic
from feedback_intranet.rules.sort_keys import NO_NAME, sort_key

from .conftest import HELSINKI


@pytest.fixture
def people(make_user, units):
    return {"branch.staff": make_user("branch.staff", units=[units["helsinki"]]),
            "admin": make_user("admin", is_admin=True)}


def references(response):
    return re.findall(r">(FB-\d{4}-\d{6})</a>", response.get_data(as_text=True))


def at(day, hour=10):
    return datetime(2026, 11, day, hour, 0, tzinfo=HELSINKI)


def test_a_and_o_with_dots_and_a_with_a_ring_follow_z():
    names = ["Öhman", "Zetterberg", "Åberg", "Ärlig", "aalto", "Émile", "Eero", "Yrjö", "Müller"]
    assert sorted(names, key=sort_key) == [
        "aalto", "Eero", "Émile", "Müller", "Yrjö", "Zetterberg", "Åberg", "Ärlig", "Öhman"]
    assert sort_key("  ÅSA   lindström ") == sort_key("åsa Lindström")
    assert sort_key("") == sort_key("   ") == NO_NAME


@settings(deadline=None)
@given(st.text(max_size=80), st.text(max_size=80))
def test_keys_are_short_case_folded_and_never_hold_the_cursors_separator(first, second):
    for text in (first, second):
        key = sort_key(text)
        assert 0 < len(key) <= 60 and "_" not in key
        assert sort_key(text.upper()) == sort_key(text.lower()) or not text.isascii()
    # The order of the keys is the order plain byte comparison gives, as on both databases.
    a, b = sort_key(first), sort_key(second)
    assert (a < b) == (a.encode() < b.encode())


NAMES = ["Öhman", "Zetterberg", "Åberg", "Ärlig", "aalto", "Émile", "Eero", ""]
ALPHABETICAL = ["aalto", "Eero", "Émile", "Zetterberg", "Åberg", "Ärlig", "Öhman", ""]


@pytest.fixture
def named_cases(units, people, make_case):
    """One case per name, received a day apart so the due date does not decide the order."""
    return {name: make_case(units["helsinki"], received_at=at(2 + i), contact_name=name)
            for i, name in enumerate(NAMES)}


def walk(client, path, params):
    """Every reference of a list, page by page through its "Next" links."""
    response = client.get(path, query_string=params)
    found = []
    while response is not None:
        found += references(response)
        match = re.search(r'href="([^"]+)" rel="next"', response.get_data(as_text=True))
        response = client.get(match.group(1).replace("&amp;", "&")) if match else None
    return found


@pytest.mark.parametrize("order", ["asc", "desc"])
def test_customer_sort_pages_in_the_alphabet_on_every_database(
        app, client, login, named_cases, order):
    app.config["INBOX_PAGE_SIZE"] = 3
    login("branch.staff")
    expected = [named_cases[name].reference for name in ALPHABETICAL]
    if order == "desc":
        expected.reverse()
    assert walk(client, "/inbox/helsinki-centre", {"sort": "customer", "order": order}) == expected
    # From the end backwards, the same list.
    last = client.get("/inbox/helsinki-centre",
                      query_string={"sort": "customer", "order": order, "page": "last"})
    assert references(last) == expected[-3:]
    previous = re.search(r'href="([^"]+)" rel="prev"', last.get_data(as_text=True)).group(1)
    assert references(client.get(previous.replace("&amp;", "&"))) == expected[-6:-3]


def test_received_sort_and_the_default_due_sort(app, client, login, units, people, make_case,
                                                calendar):
    app.config["INBOX_PAGE_SIZE"] = 2
    old_estimated = make_case(units["helsinki"], received_at=at(2))
    old_estimated.set_estimate(calendar.add_banking_days(at(20).date(), 5))
    db.session.commit()
    newer = [make_case(units["helsinki"], received_at=at(3 + i)) for i in range(3)]
    login("branch.staff")
    by_received = [old_estimated, *newer]
    assert walk(client, "/inbox/helsinki-centre", {"sort": "received"}) == [
        c.reference for c in by_received]
    assert walk(client, "/inbox/helsinki-centre", {"sort": "received", "order": "desc"}) == [
        c.reference for c in reversed(by_received)]
    # By due date the estimate puts the oldest case last.
    assert walk(client, "/inbox/helsinki-centre", {}) == [
        c.reference for c in [*newer, old_estimated]]


def test_topic_sort_follows_the_readers_language(app, client, login, units, people, make_case):
    app.config["INBOX_PAGE_SIZE"] = 10
    topics = [Topic(code="loans", name="Loans", name_fi="Lainat", name_sv="Lån"),
              Topic(code="accounts", name="Accounts", name_fi="Tilit", name_sv="Konton"),
              Topic(code="savings", name="Savings", name_fi="Säästäminen", name_sv="Sparande")]
    db.session.add_all(topics)
    db.session.commit()
    cases = {}
    for i, topic in enumerate(topics):
        case = make_case(units["helsinki"], received_at=at(2 + i))
        case.topic_id = topic.id
        db.session.commit()
        cases[topic.code] = case.reference
    login("branch.staff")
    expected = {"en": ["accounts", "loans", "savings"],   # Accounts, Loans, Savings
                "fi": ["loans", "savings", "accounts"],   # Lainat, Säästäminen, Tilit
                "sv": ["accounts", "loans", "savings"]}   # Konton, Lån, Sparande
    for language, codes in expected.items():
        people["branch.staff"].language = Language(language)
        db.session.merge(people["branch.staff"])
        db.session.commit()
        assert walk(client, "/inbox/helsinki-centre", {"sort": "topic"}) == [
            cases[code] for code in codes], language


def test_keys_follow_the_name_the_register_and_a_renamed_topic(units, people, make_case, topic):
    case = make_case(units["helsinki"], contact_name="")
    assert case.customer_sort == NO_NAME and case.topic_sort_en == "cards"
    customer = Customer(customer_number="C0000009", name="Östen Åkesson", street_address="Katu 1",
                        postal_code="00100", city="Helsinki", language=Language.SV,
                        segment=Segment.PRIVATE, home_office_id=units["helsinki"].id)
    db.session.add(customer)
    db.session.commit()
    case.customer_id = customer.id
    db.session.commit()
    assert case.customer_sort == sort_key("Östen Åkesson")
    case.contact_name = "Aaro Aalto"
    db.session.commit()
    assert case.customer_sort == "aaro aalto"
    topic.name_fi = "Kortit ja maksut"
    db.session.commit()
    stored = db.session.execute(sa.select(Case.topic_sort_fi, Case.topic_sort_en)
                                .where(Case.id == case.id)).one()
    assert tuple(stored) == ("kortit ja maksut", "cards")


@pytest.mark.parametrize("params", [
    {"sort": "customer", "after": "zz_2026-11-01_2026-11-01T10:00:00+00:00"},  # too few parts
    {"sort": "customer", "after": "a_b_c_d"},
    {"sort": "received", "after": "2026-11-01_2026-11-02T10:00:00+00:00_1"},  # a due cursor
    {"sort": "topic", "before": "x" * 61 + "_2026-11-01_2026-11-01T10:00:00+00:00_1"},
    {"sort": "nonsense", "order": "sideways"},
])
def test_a_cursor_of_another_sort_or_a_broken_one_starts_from_the_top(
        client, login, named_cases, params):
    login("branch.staff")
    response = client.get("/inbox/helsinki-centre", query_string=params)
    assert response.status_code == 200
    assert len(references(response)) == len(NAMES)


def test_sort_headers_say_which_sort_is_on_and_keep_the_filter(client, login, named_cases):
    login("branch.staff")
    page = client.get("/inbox/helsinki-centre?filter=unassigned&sort=customer").get_data(
        as_text=True)
    assert re.search(r'class="col-customer" aria-sort="ascending"', page)
    # The header of the sort in use turns it round; the others start ascending.
    assert "filter=unassigned&amp;sort=customer&amp;order=desc" in page
    assert "filter=unassigned&amp;sort=topic" in page
    # The filters keep the sort.
    assert 'href="/inbox/helsinki-centre?filter=mine&amp;sort=customer"' in page


def test_a_row_shows_type_first_line_and_what_waits(client, login, units, people, make_case):
    from feedback_intranet.models import Answer, CaseType, Purpose, ReplyChannel

    complaint = make_case(units["helsinki"], message="\n\n  The fee is wrong.\nSecond line here.")
    complaint.case_type = CaseType.COMPLAINT
    waiting = make_case(units["helsinki"], received_at=at(3))
    db.session.add(Answer(case_id=waiting.id, channel=ReplyChannel.LETTER, text="Hei",
                          purpose=Purpose.ANSWER, created_at=at(4), close_when_delivered=True,
                          created_by_id=people["branch.staff"].id))
    db.session.commit()
    login("branch.staff")
    page = client.get("/inbox/helsinki-centre").get_data(as_text=True)
    assert '<tr class="complaint">' in page and 'class="complaint-mark">Complaint<' in page
    assert 'title="The fee is wrong." lang="fi">The fee is wrong.</td>' in page
    assert "Second line" not in page
    assert 'title="letter waiting to be posted; closes the case when delivered"' in page
    # Nothing waits on the other case: it is new.
    assert 'title="new"' in page


@settings(deadline=None, max_examples=300)
@given(st.text(st.sampled_from(["a", "ä", " ", "\t", "\n", "\r", "\x0b", "\x0c", "\x1c", "\x85",
                                "\u2028", "\u2029", "\u3000", "\u00a0"])))
def test_a_rows_first_line_is_the_first_line_with_words_in_it(text):
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    assert first_line(text) == (lines[0] if lines else "")


def test_no_answer_wanted_is_a_filter_of_its_own(client, login, units, people, make_case):
    silent = make_case(units["helsinki"], reply_wanted=False)
    wanted = make_case(units["helsinki"])
    login("branch.staff")
    assert references(client.get("/inbox/helsinki-centre")) == [wanted.reference]
    assert references(client.get("/inbox/helsinki-centre?filter=no_answer")) == [silent.reference]


def test_many_pages_cost_what_the_first_does(app, client, login, units, people, make_case):
    app.config["INBOX_PAGE_SIZE"] = 2
    for i in range(7):
        make_case(units["helsinki"], received_at=at(2) + timedelta(hours=i), contact_name=f"N{i}")
    login("branch.staff")
    client.get("/inbox/helsinki-centre?filter=unassigned")  # reads the banking calendar once
    counts = set()
    for sort in ("due", "received", "customer", "topic"):
        for params in ({}, {"order": "desc"}, {"page": "last"}):
            with app.app_context():
                inbox_cache.clear()  # each page as first seen after a change
            response = client.get("/inbox/helsinki-centre",
                                  query_string={"sort": sort, **params})
            assert len(references(response)) == 2
            counts.add(int(response.headers["X-Query-Count"]))
    assert len(counts) == 1, counts


@pytest.mark.parametrize("status", [CaseStatus.NEW, CaseStatus.ASSIGNED])
def test_the_inbox_of_another_unit_is_refused_whatever_the_sort(client, login, units, people,
                                                                make_case, status):
    make_case(units["turku"], status=status)
    login("branch.staff")
    assert client.get("/inbox/turku?sort=customer&order=desc").status_code == 404
