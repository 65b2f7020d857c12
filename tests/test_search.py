"""Searching cases: every way staff look a case up, only cases they may see, any input safe."""

import random
import re

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import selectinload

from feedback_intranet import access, demo, search
from feedback_intranet.cases import operations
from feedback_intranet.demo import seed_demo
from feedback_intranet.extensions import db
from feedback_intranet.models import (
    Case,
    CasePastUnit,
    Customer,
    Language,
    Segment,
    Unit,
    UnitKind,
    User,
)
from feedback_intranet.rules.banking_days import BankingCalendar

from .conftest import DEFAULT_NOW, database_url_from_env
from .test_case_pages import post_action


@pytest.fixture
def setting(make_unit, make_user, make_case):
    units = {
        "cs": make_unit(code="cs", name="Customer service", kind=UnitKind.CUSTOMER_SERVICE),
        "helsinki": make_unit(code="helsinki-centre", name="Helsinki Centre"),
        "turku": make_unit(code="turku", name="Turku"),
    }
    make_user("cs.agent", units=[units["cs"]])
    make_user("branch.staff", units=[units["helsinki"]])
    make_user("turku.staff", units=[units["turku"]])
    customer = Customer(customer_number="C0000042", name="Åsa Lindqvist", street_address="Gatan 1",
                        postal_code="65100", city="Vasa", language=Language.SV,
                        segment=Segment.PRIVATE, home_office_id=units["helsinki"].id)
    db.session.add(customer)
    db.session.commit()
    ours = make_case(units["cs"], contact_name="Åsa Lindqvist",
                     message="Kortin maksuautomaatti nielaisi kortin Kampissa.")
    ours.contact_phone, ours.customer_id = "+358401234567", customer.id
    db.session.commit()
    theirs = make_case(units["turku"], contact_name="Åsa Lindqvist",
                       message="Kortin maksuautomaatti Turussa.")
    return units, ours, theirs


def found(client, query):
    page = client.get("/cases/search", query_string={"q": query}).get_data(as_text=True)
    return re.findall(r">(FB-\d{4}-\d{6})</a>", page)


@pytest.mark.parametrize(
    "query",
    ["{ref}", "{ref_lower}", "aino@example.fi", "AINO@EXAMPLE.FI", "040 123 4567",
     "+358 40 1234567", "C0000042", "c0000042", "maksuautomaatti", "Kampissa kortin",
     "Lindqvist", "åsa", "maksuauto", "nielaisi kamp", "LINDQ"],
)
def test_staff_find_a_case_every_way(client, login, setting, query):
    _, ours, theirs = setting
    login("cs.agent")
    query = query.format(ref=ours.reference, ref_lower=ours.reference.lower())
    assert found(client, query) == [ours.reference]


def test_a_unit_that_forwarded_a_case_still_finds_it_read_only(client, login, setting):
    units, ours, _ = setting
    login("cs.agent")
    post_action(client, ours, "forward", unit=str(units["helsinki"].id), note="Teille.")
    assert found(client, "maksuautomaatti") == [ours.reference]
    client.post("/logout")
    login("turku.staff")
    assert found(client, ours.reference) == []
    assert len(found(client, "maksuautomaatti")) == 1


def _units_had(case):
    return sorted(db.session.execute(sa.text(
        f"SELECT {search.UNITS_COLUMN} FROM feedback_case WHERE id = :id"), {"id": case.id}
    ).scalar_one())


@pytest.mark.skipif(not (database_url_from_env() or "").startswith("postgresql"),
                    reason="the index of words and units is PostgreSQL's")
def test_postgresql_keeps_every_unit_that_had_a_case_beside_its_words(client, login, setting):
    """The triggers keep each case's units however the case is written: received, forwarded
    (the unit it left stays, the case's row written once), a past unit added directly (as the
    demo loader does); and install fills in cases that have none."""
    units, ours, theirs = setting
    cs, helsinki, turku = units["cs"].id, units["helsinki"].id, units["turku"].id
    assert _units_had(ours) == [cs]
    ours.service_unit_id = cs
    theirs.service_unit_id = cs
    db.session.commit()
    assert _units_had(theirs) == sorted([cs, turku])
    login("cs.agent")
    post_action(client, ours, "forward", unit=str(helsinki), note="Teille.")
    db.session.expire_all()
    assert ours.current_unit_id == helsinki
    assert _units_had(ours) == sorted([cs, helsinki])
    ours.message = "Uusi viesti."  # a write that moves no unit leaves them as they are
    db.session.add(CasePastUnit(case_id=theirs.id, unit_id=helsinki))
    db.session.commit()
    assert _units_had(ours) == sorted([cs, helsinki])
    assert _units_had(theirs) == sorted([cs, helsinki, turku])

    db.session.execute(sa.text(f"UPDATE feedback_case SET {search.UNITS_COLUMN} = NULL"))
    search.install(db.session.connection())
    assert _units_had(ours) == sorted([cs, helsinki])
    assert _units_had(theirs) == sorted([cs, helsinki, turku])

    # A case without units (written with the triggers away) takes all its units at its next
    # change of holder or past unit, not only the new ones: the same as if it had kept them
    # (Turku held the case it leaves now, as a case's row always keeps).
    db.session.execute(sa.text(f"UPDATE feedback_case SET {search.UNITS_COLUMN} = NULL"))
    theirs.current_unit_id = cs
    db.session.add(CasePastUnit(case_id=ours.id, unit_id=turku))
    db.session.commit()
    assert _units_had(theirs) == sorted([cs, helsinki, turku])
    assert _units_had(ours) == sorted([cs, helsinki, turku])


@pytest.mark.skipif(not (database_url_from_env() or "").startswith("postgresql"),
                    reason="the index of words and units is PostgreSQL's")
def test_postgresql_lists_from_its_index_only_what_the_units_had(setting, make_case):
    """A word on many cases of other units: the index gives the user's units' matches only, and
    the exact check of who may see them still decides."""
    units, ours, theirs = setting
    for _ in range(5):
        make_case(units["turku"], message="Maksuautomaatti taas.")
    branch = db.session.scalar(sa.select(User).where(User.username == "branch.staff"))
    turku = db.session.scalar(sa.select(User).where(User.username == "turku.staff"))
    words = ["maksuautomaatti"]

    def listed(user):
        return db.session.scalars(search.indexed_matches(words, access.units_seen_by(user))).all()

    assert listed(branch) == []
    assert len(listed(turku)) == 6 and ours.id not in listed(turku)
    ours.current_unit_id = units["helsinki"].id  # moved without a forward: never a past unit
    db.session.commit()
    assert listed(branch) == [ours.id]


def _sqlite_index(match, connection=None):
    connection = connection or db.session.connection()
    return set(connection.execute(sa.text(
        "SELECT rowid FROM case_search WHERE case_search MATCH :match"), {"match": match}).scalars())


def sqlite_units_indexed(connection=None):
    """SQLite: each case's units as its index holds them, for every unit."""
    connection = connection or db.session.connection()
    indexed = {}
    for unit_id in connection.execute(sa.select(Unit.id)).scalars():
        for case_id in _sqlite_index(f'units : "u{unit_id}"', connection):
            indexed.setdefault(case_id, set()).add(unit_id)
    return indexed


def units_that_may_see(connection=None, past=True):
    """Each case's units as the cases say: its holder, its receiving unit and (`past`) its past
    units."""
    connection = connection or db.session.connection()
    units = {case_id: {current, service} - {None} for case_id, current, service in
             connection.execute(sa.select(Case.id, Case.current_unit_id, Case.service_unit_id))}
    if past:
        for case_id, unit_id in connection.execute(
                sa.select(CasePastUnit.case_id, CasePastUnit.unit_id)):
            units[case_id].add(unit_id)
    return units


def _delete_case(case_id, case_first=False):
    """The case and what refers to it, as plain deletes (cases are anonymised, never deleted,
    by the intranet; the index must follow whatever writes them). `case_first`: the case before
    its past units and the rest, as SQLite allows without foreign keys enforced."""
    if case_first:
        db.session.execute(sa.delete(Case).where(Case.id == case_id))
    for table in reversed(db.metadata.sorted_tables):
        for key in table.foreign_keys:
            if key.column.table.name == Case.__tablename__ and table.name != Case.__tablename__:
                db.session.execute(table.delete().where(key.parent == case_id))
    db.session.execute(sa.delete(Case).where(Case.id == case_id))


_SQLITE_ONLY = pytest.mark.skipif((database_url_from_env() or "").startswith("postgresql"),
                                  reason="the index of words and units is SQLite's FTS5")


@_SQLITE_ONLY
def test_sqlite_keeps_the_units_that_may_see_a_case_beside_its_words(client, login, setting):
    """The triggers keep each case's units however the case is written: received, forwarded
    (the unit it left keeps reading it), a past unit added or taken away directly, a new holder
    without a forward, new words; a past unit is never changed in place."""
    units, ours, theirs = setting
    cs, helsinki, turku = units["cs"].id, units["helsinki"].id, units["turku"].id
    assert sqlite_units_indexed() == units_that_may_see() == {ours.id: {cs},
                                                                        theirs.id: {turku}}
    login("cs.agent")
    post_action(client, ours, "forward", unit=str(helsinki), note="Teille.")
    db.session.expire_all()
    assert sqlite_units_indexed()[ours.id] == {cs, helsinki}
    theirs.service_unit_id = cs
    ours.message = "Uusi viesti lainasta."
    db.session.add(CasePastUnit(case_id=theirs.id, unit_id=helsinki))
    db.session.commit()
    assert sqlite_units_indexed() == units_that_may_see() == {
        ours.id: {cs, helsinki}, theirs.id: {cs, helsinki, turku}}
    assert _sqlite_index('{message contact_name} : "lainasta"') == {ours.id}
    assert _sqlite_index('{message contact_name} : "kampissa"') == set()
    # No unit: no case by its words (an empty list of units would not be a query at all).
    assert db.session.scalars(search.text_matches(db.session, "lainasta", set(), [])).all() == []
    # Back to the unit that had it: its past unit goes, and it keeps reading the case.
    post_action(client, ours, "forward", unit=str(cs), note="Takaisin.")
    db.session.expire_all()
    assert sqlite_units_indexed() == units_that_may_see()
    db.session.execute(sa.delete(CasePastUnit).where(CasePastUnit.case_id == theirs.id))
    theirs.current_unit_id = helsinki
    db.session.commit()
    assert sqlite_units_indexed() == units_that_may_see() == {
        ours.id: {cs, helsinki}, theirs.id: {cs, helsinki}}
    with pytest.raises(sa.exc.IntegrityError, match="never changed"):
        db.session.execute(sa.update(CasePastUnit).values(unit_id=turku))
    db.session.rollback()
    db.session.execute(sa.delete(CasePastUnit).where(CasePastUnit.case_id == theirs.id))
    _delete_case(ours.id, case_first=True)  # taken out with the past unit it still has
    db.session.commit()
    assert sqlite_units_indexed() == {theirs.id: {cs, helsinki}}
    assert _sqlite_index('{message contact_name} : "lainasta"') == set()


@_SQLITE_ONLY
@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.tuples(st.sampled_from(["forward", "move", "add past", "remove past",
                                                 "receive", "words", "delete"]),
                                st.integers(0, 5), st.integers(0, 2)), max_size=25))
def test_sqlite_index_follows_any_sequence_of_writes(setting, make_case, steps):
    """Whatever a case and its past units go through, in any order, the index holds each case's
    words and exactly the units that may see it: FTS5 takes a case out by its words as they went
    in, so a step that took out other words would leave the case found where it is not."""
    units, _ours, _theirs = setting
    unit_ids = [units["cs"].id, units["helsinki"].id, units["turku"].id]
    # Each example's own cases, in a transaction of its own that is rolled back at the end.
    db.session.commit()
    cases = [make_case(units["cs" if n % 2 else "turku"], message=f"Viesti {n}").id
             for n in range(6)]
    try:
        for step, which, unit in steps:
            _write(db.session.get(Case, cases[which]), step, unit_ids[unit], which)
            db.session.flush()
            db.session.expire_all()
        ours = set(cases)
        expected = {case_id: held for case_id, held in units_that_may_see().items()
                    if case_id in ours}
        indexed = {case_id: held for case_id, held in sqlite_units_indexed().items()
                   if case_id in ours}
        assert indexed == expected
        db.session.execute(sa.text(
            "INSERT INTO case_search(case_search, rank) VALUES ('integrity-check', 0)"))
        words = {case_id: set(_tokens(case)) for case_id, case in (
            (case_id, db.session.get(Case, case_id)) for case_id in cases) if case is not None}
        for word in {"viesti", "muuttuivat", "nimi0", "nimi3"}:
            assert _sqlite_index(f'{{message contact_name}} : "{word}"') & ours == {
                case_id for case_id, tokens in words.items() if word in tokens}, word
    finally:
        db.session.rollback()
        for case_id in cases:
            _delete_case(case_id)
        db.session.commit()


def _write(case, step, unit_id, which):
    """One step of test_sqlite_index_follows_any_sequence_of_writes on `case` (None: deleted)."""
    if case is None:
        return
    past = {p.unit_id: p for p in case.past_units}
    if step == "forward" and unit_id != case.current_unit_id:
        operations.move_to_unit(case, unit_id)
    elif step == "move":
        case.current_unit_id = unit_id
    elif step == "add past" and unit_id not in past:
        db.session.add(CasePastUnit(case_id=case.id, unit_id=unit_id))
    elif step == "remove past" and unit_id in past:
        case.past_units.remove(past[unit_id])
    elif step == "receive":
        case.service_unit_id = None if case.service_unit_id == unit_id else unit_id
    elif step == "words":
        case.message, case.contact_name = f"Sanat {unit_id} muuttuivat", f"Nimi{which}"
    elif step == "delete":
        _delete_case(case.id, case_first=bool(which % 2))


def test_the_index_follows_changes(client, login, setting):
    _, ours, _ = setting
    ours.message = "Täysin uusi viesti lainasta."
    db.session.commit()
    login("cs.agent")
    assert found(client, "lainasta") == [ours.reference]
    assert found(client, "Kampissa") == []


@pytest.mark.parametrize(
    "query",
    ['"', "'", "kortin AND OR NOT", "NEAR(kortin", "*", "x' OR '1'='1", "'; DROP TABLE unit; --",
     "a" * 5000, "🙂 kortin 🙂", "%_\\", "column:value", "^kortin", "-kortin", "(", ")"],
)
def test_any_input_gives_results_or_none_never_an_error(client, login, setting, query):
    login("cs.agent")
    response = client.get("/cases/search", query_string={"q": query})
    assert response.status_code == 200


def test_an_empty_search_shows_the_box(client, login, setting):
    login("cs.agent")
    page = client.get("/cases/search?q=+").get_data(as_text=True)
    assert 'id="q"' in page and "No results" not in page
    assert "No results" in client.get("/cases/search?q=zzzz").get_data(as_text=True)


@pytest.mark.parametrize("query", ["k", "ka", "Å", "k a", "12"])
def test_a_query_of_one_or_two_letters_finds_exact_keys_only_and_says_so(client, login, setting,
                                                                          query):
    login("cs.agent")
    page = client.get("/cases/search", query_string={"q": query}).get_data(as_text=True)
    assert found(client, query) == []
    assert "type at least three letters" in page


def test_short_words_beside_a_long_one_are_left_out_of_the_text_search(client, login, setting):
    _, ours, _theirs = setting
    login("cs.agent")
    assert found(client, "k kampissa") == [ours.reference]


# --- The fast search finds what a plain reading of every case finds --------------------------------

SEARCHERS = ["cs.agent", "business.agent", "branch.staff", "branch.lead", "central.staff", "admin"]


def _tokens(case):
    return re.findall(r"[^\W_]+", f"{case.message} {case.contact_name}".lower())


def _plainly_found(user, query, cases):
    """Every case read in Python: the visible ones whose words begin with each query word (the
    newest RESULTS by id), with any exact key, newest first by receipt."""
    words = [word.lower() for word in search._words(query)]
    visible = [case for case in cases if access.can_view_case(user, case)]
    texts = [case for case in visible if words and all(
        any(token.startswith(word) for token in _tokens(case)) for word in words)]
    texts = sorted(texts, key=lambda case: case.id, reverse=True)[:search.RESULTS]
    keys = [case for case in visible if case.reference == query.upper()]
    found = {case.id: case for case in [*texts, *keys]}
    return [case.reference for case in sorted(
        found.values(), key=lambda case: (case.received_at, case.id), reverse=True)][:search.RESULTS]


def _queries(cases, rng):
    """Common words and their prefixes, names, pairs that never meet, and random picks of one to
    three words cut to three letters or more."""
    vocabulary = sorted({token for case in cases for token in _tokens(case) if len(token) >= 3})
    queries = ["kiitos", "kon", "kor", "inte", "mitt", "mobiilisovellus kaatuu", "konttori",
               "kiitos mitt", "lauantaisin", "Virtanen", "saaristo", "korttini kaupassa miksi",
               "ka", "ka kiitos", cases[-1].reference, "zzzz"]
    for _ in range(30):
        picked = rng.sample(vocabulary, rng.randint(1, 3))
        queries.append(" ".join(word[:rng.randint(3, len(word))] for word in picked))
    return queries


@pytest.mark.parametrize("recent", [0, 5, 40, 10_000])
def test_the_fast_search_finds_what_reading_every_case_finds(app, data, monkeypatch, recent):
    """For every kind of user (an agent, a branch employee, a team lead of two units, a central
    unit, an admin) and common, rare, prefixed and never-together words. `recent` moves
    PostgreSQL's split between cases read newest first and those listed by the index."""
    monkeypatch.setattr(search, "RECENT_CASES", recent)
    seed_demo(DEFAULT_NOW, BankingCalendar(), cases=900, seed=18)
    db.session.commit()
    cases = db.session.scalars(sa.select(Case).options(selectinload(Case.past_units))).all()
    rng = random.Random(18)
    queries = _queries(cases, rng)
    full = 0
    for username in SEARCHERS:
        user = db.session.scalar(sa.select(User).where(User.username == username))
        for query in queries:
            expected = _plainly_found(user, query, cases)
            found = [case.reference for case in search.search_cases(db.session, user, query)]
            assert found == expected, (username, query)
            full += len(found) == search.RESULTS
    assert full >= 20  # the limit is reached often enough to matter


@pytest.mark.committed  # the load sets the index aside and builds it again
def test_a_demo_loaded_in_bulk_is_searched_as_one_loaded_case_by_case(app, data, monkeypatch):
    """A large demo load builds the search index once at the end (on PostgreSQL the units go in
    with each row, through the triggers): every kind of user then finds through the index what
    reading every case finds."""
    monkeypatch.setattr(demo, "BULK_LOAD_FROM", 1)
    monkeypatch.setattr(search, "RECENT_CASES", 0)
    seed_demo(DEFAULT_NOW, BankingCalendar(), cases=300, seed=18)
    db.session.commit()
    cases = db.session.scalars(sa.select(Case).options(selectinload(Case.past_units))).all()
    queries = _queries(cases, random.Random(18))
    for username in SEARCHERS:
        user = db.session.scalar(sa.select(User).where(User.username == username))
        for query in queries:
            found = [case.reference for case in search.search_cases(db.session, user, query)]
            assert found == _plainly_found(user, query, cases), (username, query)
    if db.session.get_bind().dialect.name == "postgresql":
        for case in cases:
            units = {case.current_unit_id, case.service_unit_id} - {None}
            assert set(_units_had(case)) == units | {past.unit_id for past in case.past_units}


# --- PostgreSQL's two shortcuts never lose a case its own reading of the words finds ------------

# Letters of every kind (capital and small, dotted and dotless i, sharp s, a titlecase letter, a
# final sigma), digits, and what splits or joins words: a hyphen, an apostrophe, a combining
# mark, a superscript digit. Long words of few letters share the prefix index's first ten
# letters and differ after them.
_TEXT_WORDS = (st.text(alphabet="aäåoöAÄÅÖkKİıßǅΣσς09-'\u0301²", min_size=1, max_size=14)
               | st.text(alphabet="aAö", min_size=9, max_size=14))


@pytest.mark.skipif(not (database_url_from_env() or "").startswith("postgresql"),
                    reason="the substring test and the prefix index are PostgreSQL's")
@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(messages=st.lists(st.lists(_TEXT_WORDS, min_size=1, max_size=5).map(" ".join),
                         min_size=1, max_size=4),
       draw=st.data())
def test_postgresql_finds_through_its_shortcuts_what_reading_each_case_finds(
        setting, make_case, monkeypatch, messages, draw):
    """The recent cases' substring test and the index of word prefixes only narrow the cases
    that PostgreSQL's own reading of every word (to_tsvector) then decides: whatever the letters,
    both ways find exactly what that reading finds. Cases pile up over the examples."""
    units, _ours, _theirs = setting
    for message in messages:
        make_case(units["cs"], message=message, contact_name=draw.draw(_TEXT_WORDS))
    user = db.session.scalar(sa.select(User).where(User.username == "cs.agent"))
    # Beginnings of the cases' words, some with a letter more (found or not).
    fragments = [word[:draw.draw(st.integers(3, len(word)))] + draw.draw(st.sampled_from(["", "a"]))
                 for word in search._words(" ".join(messages))]
    picked = draw.draw(st.lists(st.sampled_from(fragments), min_size=1, max_size=2)) \
        if fragments else []
    query = " ".join([fragment.upper() if draw.draw(st.booleans()) else fragment
                      for fragment in picked] + draw.draw(st.lists(_TEXT_WORDS, max_size=1)))
    words = search._words(query)
    if not words:
        return
    document = search._document(Case)
    wanted = sa.func.to_tsquery("simple", " & ".join(f"{word}:*" for word in words))

    def ids(select):
        return db.session.scalars(select).all()

    seen = access.units_seen_by(user)

    def read(*where, units=seen):
        return ids(sa.select(Case.id).where(sa.func.to_tsvector("simple", document).op("@@")(wanted),
                                            access.cases_visible_in(units), *where)
                   .order_by(Case.id.desc()).limit(search.RESULTS))

    visible = access.cases_visible_to(user)
    newest = access.visible_case_ids_newest_first(user)
    assert ids(search.indexed_matches(words, None)) == read(units=None), query  # as an admin
    assert ids(search.indexed_matches(words, seen)) == read(), query
    monkeypatch.setattr(search, "RECENT_CASES", 3)
    three = ids(sa.select(Case.id).where(visible).order_by(Case.id.desc()).limit(3))
    assert ids(search.recent_matches(words, newest)) == read(Case.id.in_(three)), query
    assert ids(search.recent_matches(words, newest, below=three[0], count=2)) \
        == read(Case.id.in_(three[1:])), query
    monkeypatch.setattr(search, "RECENT_CASES", 10_000)
    assert ids(search.recent_matches(words, newest)) == read(), query


@pytest.mark.skipif(not (database_url_from_env() or "").startswith("postgresql"),
                    reason="the further runs of the newest cases are PostgreSQL's")
def test_matches_that_come_unevenly_are_found_by_a_second_further_run(setting, make_case,
                                                                      monkeypatch):
    """A customer writes in bursts: the newest cases hold a few matches, the next ones none, the
    older ones many. The first further run, sized by the newest cases, falls short; a second,
    sized by all the cases read, finds the rest without the index listing every match."""
    units, _ours, _theirs = setting
    wanted = 6
    monkeypatch.setattr(search, "RESULTS", wanted)
    monkeypatch.setattr(search, "RECENT_CASES", 10)
    monkeypatch.setattr(search, "MORE_RECENT_CASES", 1_000)
    # Oldest first: a burst of matches, a long quiet stretch, then a few among the newest.
    messages = [f"Burstname asks again {n}" if n % 2 else f"Other matter {n}" for n in range(30)]
    messages += [f"Quiet stretch {n}" for n in range(40)]
    messages += [f"Burstname writes {n}" if n in (1, 4, 8) else f"Newest {n}" for n in range(10)]
    for message in messages:
        make_case(units["cs"], message=message)
    runs = []
    real_recent = search.recent_matches
    monkeypatch.setattr(search, "recent_matches",
                        lambda *args, **kwargs: runs.append(kwargs) or real_recent(*args, **kwargs))

    def no_index(*_args):
        raise AssertionError("the index listed every match")

    monkeypatch.setattr(search, "indexed_matches", no_index)
    user = db.session.scalar(sa.select(User).where(User.username == "cs.agent"))
    found = [case.reference for case in search.search_cases(db.session, user, "burstname")]
    expected = db.session.scalars(
        sa.select(Case.reference).where(Case.message.like("Burstname%"))
        .order_by(Case.id.desc()).limit(wanted)).all()
    assert found == expected
    assert len(runs) == 3, runs  # the newest cases, then two further runs


def test_a_reference_finds_its_case_and_the_cases_that_quote_it(setting, make_case,
                                                                 monkeypatch):
    """On both databases. On PostgreSQL a reference's six-digit serial is on few cases, so its
    index lists them at once, without reading the newest cases one by one first (which would
    find none); and its parser, which reads "-2026" as a negative number, is given the text
    split at hyphens."""
    units, ours, _theirs = setting
    quoting = make_case(units["cs"], message=f"Palaan asiaan {ours.reference}: ei vieläkään.")
    make_case(units["cs"], message="Asia FB-2024-999999 on eri asia.")

    def not_read(*_args, **_kwargs):
        raise AssertionError("the newest cases were read one by one")

    monkeypatch.setattr(search, "recent_matches", not_read)
    user = db.session.scalar(sa.select(User).where(User.username == "cs.agent"))
    found = [case.reference for case in search.search_cases(db.session, user, ours.reference)]
    assert found == [quoting.reference, ours.reference]
    # The serial alone.
    serial = ours.reference.rsplit("-", 1)[1]
    assert [c.reference for c in search.search_cases(db.session, user, serial)] \
        == [quoting.reference]
