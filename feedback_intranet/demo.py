"""Demo data: units, staff, a customer register and cases in every badge state.

Reference data is created once by its natural key (idempotent); cases are
topped up to the number asked for with bulk inserts, so large demo sets load fast.
"""

import bisect
import gc
import itertools
import json
import random
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa

from . import clock, search
from .extensions import db, passwords
from .inboxes import counters, stamps
from .models import (
    Answer,
    AnswerStatus,
    CallbackStatus,
    CallbackTask,
    Case,
    CaseEscalation,
    CaseEvent,
    CasePastUnit,
    CaseStatus,
    CaseType,
    Customer,
    EventKind,
    IntakeChannel,
    Language,
    Letter,
    MatchMethod,
    Membership,
    OutboxKind,
    OutboxMessage,
    OutboxStatus,
    Purpose,
    ReferenceCounter,
    ReplyChannel,
    ReplyTemplate,
    Resolution,
    RoutingRule,
    Segment,
    Topic,
    Unit,
    UnitKind,
    UnitText,
    User,
    UTCDateTime,
)
from .models.cases import FIRST_ANSWER_COLUMNS, sort_keys
from .references import format_reference
from .reports import summaries
from .rules.banking_days import ANSWER_PROMISE_BANKING_DAYS

UNITS = [
    ("cs", "Customer service", UnitKind.CUSTOMER_SERVICE, "Arkadiankatu 4", "00100", "Helsinki"),
    ("business-cs", "Business customer service", UnitKind.BUSINESS_CUSTOMER_SERVICE,
     "Arkadiankatu 4", "00100", "Helsinki"),
    ("helsinki-centre", "Helsinki Centre", UnitKind.BRANCH_OFFICE, "Mannerheimintie 14", "00100",
     "Helsinki"),
    ("turku", "Turku", UnitKind.BRANCH_OFFICE, "Aurakatu 10", "20100", "Turku"),
    ("vaasa", "Vaasa", UnitKind.BRANCH_OFFICE, "Hovioikeudenpuistikko 11", "65100", "Vaasa"),
    ("cards", "Cards", UnitKind.CENTRAL_UNIT, "Arkadiankatu 4", "00100", "Helsinki"),
    ("loans", "Loans", UnitKind.CENTRAL_UNIT, "Arkadiankatu 4", "00100", "Helsinki"),
    ("netbank", "Netbank", UnitKind.CENTRAL_UNIT, "Arkadiankatu 4", "00100", "Helsinki"),
    ("investments", "Investments", UnitKind.CENTRAL_UNIT, "Arkadiankatu 4", "00100", "Helsinki"),
]
BRANCHES = ["helsinki-centre", "turku", "vaasa"]
UNIT_NAMES = {
    "cs": ("Asiakaspalvelu", "Kundservice"),
    "business-cs": ("Yritysasiakaspalvelu", "Företagskundservice"),
    "helsinki-centre": ("Helsingin keskusta", "Helsingfors centrum"),
    "turku": ("Turku", "Åbo"),
    "vaasa": ("Vaasa", "Vasa"),
    "cards": ("Kortit", "Kort"),
    "loans": ("Lainat", "Lån"),
    "netbank": ("Verkkopankki", "Nätbanken"),
    "investments": ("Sijoituspalvelut", "Placeringstjänster"),
}
# How each unit signs its answers, by language: {unit} is its name in that language.
SIGNATURES = {
    "fi": "Ystävällisin terveisin\n{unit}\nPankki\npuh. 0200 12345 (ma–pe 8–18)",
    "sv": "Med vänlig hälsning\n{unit}\nBanken\ntfn 0200 12346 (mån–fre 8–18)",
    "en": "Kind regards\n{unit}\nThe Bank\ntel. +358 200 12345 (Mon–Fri 8–18)",
}

TOPICS = [
    ("cards", "Cards", "cards"),
    ("loans", "Loans", "loans"),
    ("netbank", "Netbank and mobile app", "netbank"),
    ("payments", "Payments", "netbank"),
    ("investments", "Investments", "investments"),
    ("branch-service", "Branch service", None),
    ("customer-service", "Customer service", None),
    ("other", "Other", None),
]
TOPIC_NAMES = {
    "cards": ("Kortit", "Kort"),
    "loans": ("Lainat", "Lån"),
    "netbank": ("Verkkopankki ja mobiilisovellus", "Nätbanken och mobilappen"),
    "payments": ("Maksut", "Betalningar"),
    "investments": ("Sijoittaminen", "Placeringar"),
    "branch-service": ("Konttoripalvelu", "Kontorsservice"),
    "customer-service": ("Asiakaspalvelu", "Kundservice"),
    "other": ("Muu", "Annat"),
}

# username, full name, {unit code: is team lead}, admin
STAFF = [
    ("cs.agent", "Aino Virtanen", {"cs": False}, False),
    ("business.agent", "Mikael Lindqvist", {"business-cs": False}, False),
    ("branch.staff", "Elina Korhonen", {"helsinki-centre": False}, False),
    ("branch.lead", "Johan Nyström", {"helsinki-centre": True, "turku": False}, False),
    ("central.staff", "Pekka Mäkinen", {"cards": False}, False),
    ("admin", "Sari Admin", {}, True),
    ("cs.lead", "Maria Heikkinen", {"cs": True}, False),
    ("turku.staff", "Lotta Salonen", {"turku": False}, False),
    ("vaasa.staff", "Anders Holm", {"vaasa": False}, False),
    ("loans.staff", "Riikka Laine", {"loans": False}, False),
    ("netbank.staff", "Olli Koskinen", {"netbank": False}, False),
    ("investments.staff", "Greta Forsman", {"investments": False}, False),
]

FINNISH_FIRST = ["Aino", "Eero", "Helmi", "Juhani", "Kaisa", "Lauri", "Minna", "Olli", "Riikka",
                 "Sami", "Tuula", "Veikko", "Anni", "Matti", "Leena"]
FINNISH_LAST = ["Virtanen", "Korhonen", "Mäkinen", "Nieminen", "Mäkelä", "Hämäläinen",
                "Laine", "Heikkinen", "Koskinen", "Järvinen", "Lehtonen", "Saarinen"]
SWEDISH_FIRST = ["Anders", "Britt", "Carl", "Ebba", "Fredrik", "Greta", "Henrik", "Ingrid",
                 "Johan", "Karin", "Lars", "Maja"]
SWEDISH_LAST = ["Lindqvist", "Nyström", "Holmberg", "Sundström", "Westerlund", "Björklund",
                "Forsman", "Granholm", "Ekström", "Lindholm"]
STREETS = {
    "helsinki-centre": [("Bulevardi", "00120", "Helsinki"), ("Fredrikinkatu", "00100", "Helsinki"),
                        ("Runeberginkatu", "00260", "Helsinki")],
    "turku": [("Linnankatu", "20100", "Turku"), ("Humalistonkatu", "20100", "Turku"),
              ("Slottsgatan", "20100", "Åbo")],
    "vaasa": [("Kauppapuistikko", "65100", "Vaasa"), ("Handelsesplanaden", "65100", "Vasa"),
              ("Rantakatu", "65100", "Vaasa")],
}
COMPANIES = ["Oy Saaristo Ab", "Puusepät Ky", "Kvarken Trading Ab", "Aurajoen Kahvila Oy",
             "Österbottens Bygg Ab", "Nordic Tools Oy"]

MESSAGES = {
    "fi": ["Korttini hylättiin kaupassa, vaikka tilillä oli katetta. Miksi?",
           "Lainahakemukseni käsittely on kestänyt jo kaksi viikkoa.",
           "Mobiilisovellus kaatuu aina kun yritän maksaa laskun.",
           "Kiitos konttorin henkilökunnalle erinomaisesta palvelusta!",
           "Toivoisin, että konttori olisi auki myös lauantaisin."],
    "sv": ["Mitt kort fungerade inte utomlands förra veckan.",
           "Jag har inte fått svar på min fråga om räntan på lånet.",
           "Nätbanken loggar ut mig hela tiden mitt i en betalning.",
           "Tack för den vänliga hjälpen på kontoret i Vasa!",
           "Kunde ni erbjuda fondsparande med lägre avgifter?"],
}

DEMO_PASSWORD = "demo"
ANSWER_TEXT = {"fi": "Kiitos palautteestasi. Selvitimme asian ja olemme korjanneet sen.",
               "sv": "Tack för din respons. Vi har utrett saken och rättat till den."}
INTAKE_CHANNELS = list(IntakeChannel)
CASE_TYPES = list(CaseType)
STATES = {"new": CaseStatus.NEW, "assigned": CaseStatus.ASSIGNED, "answered": CaseStatus.ANSWERED,
          "closed": CaseStatus.CLOSED}


def _get_or_create(model, key, **values):
    column, value = key
    obj = db.session.scalar(sa.select(model).where(column == value))
    if obj is None:
        obj = model(**values)
        db.session.add(obj)
    return obj


def seed_reference_data(password, rng):
    units = {}
    for code, name, kind, street, postal, city in UNITS:
        units[code] = _get_or_create(
            Unit, (Unit.code, code), code=code, name=name, kind=kind, street_address=street,
            postal_code=postal, city=city, active=True,
        )
        units[code].name_fi, units[code].name_sv = UNIT_NAMES[code]
    db.session.flush()
    for unit in units.values():
        for language, signature in SIGNATURES.items():
            language = Language(language)
            text = db.session.get(UnitText, (unit.id, language)) or UnitText(
                unit_id=unit.id, language=language, greeting="")
            text.signature = signature.format(unit=unit.name_in(language))
            db.session.add(text)
    topics = {}
    for code, name, unit in TOPICS:
        topics[code] = _get_or_create(Topic, (Topic.code, code), code=code, name=name,
                                      central_unit_id=units[unit].id if unit else None)
        topics[code].name_fi, topics[code].name_sv = TOPIC_NAMES[code]
    db.session.flush()

    password_hash = passwords.hash(password)
    for username, full_name, memberships, is_admin in STAFF:
        user = _get_or_create(
            User, (User.username, username), username=username, full_name=full_name,
            email=f"{username}@bank.example", is_admin=is_admin, admin_by_hand=is_admin,
            language=Language.EN,
        )
        user.password_hash = password_hash
        user.active, user.deactivated_by_admin = True, False
        if not user.memberships:
            for code, lead in memberships.items():
                user.memberships.append(Membership(unit_id=units[code].id, is_team_lead=lead,
                                                   by_hand=True, lead_by_hand=lead))
    db.session.flush()

    _get_or_create(
        RoutingRule, (RoutingRule.name, "Yritysten sijoitusasiat suoraan Sijoituspalveluille"),
        name="Yritysten sijoitusasiat suoraan Sijoituspalveluille", topic_id=topics["investments"].id,
        segment=Segment.BUSINESS, unit_id=units["investments"].id,
    )
    _seed_templates(topics)
    if not db.session.scalar(sa.select(sa.func.count()).select_from(Customer)):
        _seed_customers(units, rng)
    db.session.flush()
    return units, topics


TEMPLATES = [
    ("cards", "fi", "Kortti avattu uudelleen",
     "Kiitos yhteydenotostasi. Korttisi on nyt avattu uudelleen, ja voit käyttää sitä normaalisti."),
    ("cards", "sv", "Kortet öppnat igen",
     "Tack för att du kontaktade oss. Ditt kort är nu öppnat igen och du kan använda det som vanligt."),
    ("cards", "en", "Card reopened",
     "Thank you for contacting us. Your card has been reopened and you can use it as usual."),
    (None, "fi", "Kiitos palautteesta",
     "Kiitos palautteestasi. Olemme välittäneet sen asiasta vastaaville, ja se auttaa meitä "
     "kehittämään palveluamme."),
    (None, "sv", "Tack för responsen",
     "Tack för din respons. Vi har skickat den vidare till de ansvariga, och den hjälper oss att "
     "utveckla vår service."),
    (None, "en", "Thank you for the feedback",
     "Thank you for your feedback. We have passed it on to the people responsible, and it helps "
     "us improve our service."),
]


def _seed_templates(topics):
    for topic_code, language, title, body in TEMPLATES:
        _get_or_create(ReplyTemplate, (ReplyTemplate.title, title), title=title, language=language,
                       topic_id=topics[topic_code].id if topic_code else None, body=body)


def _seed_customers(units, rng):
    for number in range(1, 73):
        swedish = number % 3 == 0
        business = number % 8 == 0
        branch = BRANCHES[number % len(BRANCHES)]
        first = rng.choice(SWEDISH_FIRST if swedish else FINNISH_FIRST)
        last = rng.choice(SWEDISH_LAST if swedish else FINNISH_LAST)
        name = rng.choice(COMPANIES) if business else f"{first} {last}"
        street, postal, city = rng.choice(STREETS[branch])
        email_name = f"{first}.{last}".lower().translate(str.maketrans("äöå", "aoa"))
        db.session.add(Customer(
            customer_number=f"C{number:07d}",
            name=name,
            street_address=f"{street} {rng.randint(1, 60)}",
            postal_code=postal,
            city=city,
            phone=f"+35840{rng.randint(1000000, 9999999)}",
            email=f"{email_name}{number}@example.fi",
            language=Language.SV if swedish else Language.FI,
            segment=Segment.BUSINESS if business else Segment.PRIVATE,
            home_office_id=units[branch].id,
        ))


# How likely each status is, by the age of the case in banking days (up to the limit).
STATE_WEIGHTS = [
    (2, {"new": 5, "assigned": 3, "answered": 1, "closed": 0.5}),
    (5, {"new": 2, "assigned": 3, "answered": 2, "closed": 3}),
    (20, {"new": 1, "assigned": 1.5, "answered": 1, "closed": 8}),
    # Old feedback is nearly all closed; about one in twenty stays open, long overdue.
    (None, {"new": 1.2, "assigned": 1.0, "answered": 0.6, "closed": 40}),
]
_STATE_TABLES = {
    reply_wanted: [(limit, list(weights), list(itertools.accumulate(weights.values())))
                   for limit, weights in (
                       (limit, {s: w for s, w in weights.items() if reply_wanted or s != "answered"})
                       for limit, weights in STATE_WEIGHTS)]
    for reply_wanted in (True, False)
}


def _pick_state(rng, age, reply_wanted):
    """A plausible status for a case received `age` banking days ago."""
    for limit, states, cumulative in _STATE_TABLES[reply_wanted]:
        if limit is None or age <= limit:
            return states[bisect.bisect(cumulative, rng.random() * cumulative[-1])]
    raise AssertionError("the last row has no limit")


def _showcase(now, calendar, long_cases=False):
    """A few cases that put every badge state in the inboxes, whatever day the demo starts;
    with `long_cases` (a demo at scale) also cases with long timelines."""
    tz = calendar.tz
    today = now.astimezone(tz).date()

    def banking_days_ago(n, hour=11):
        day = today
        while n:
            day -= timedelta(days=1)
            n -= calendar.is_banking_day(day)
        return min(now, datetime.combine(day, time(hour), tzinfo=tz))

    cases = [
        (banking_days_ago(1), {"state": "new", "reply_wanted": True, "estimate": False}),
        (banking_days_ago(1, 9), {"state": "new", "reply_wanted": False}),
        (banking_days_ago(8), {"state": "assigned", "reply_wanted": True, "estimate": False}),
        (banking_days_ago(9), {"state": "new", "reply_wanted": True, "estimate": False}),
        (banking_days_ago(6), {"state": "assigned", "reply_wanted": True, "estimate": True}),
        (banking_days_ago(5), {"state": "answered", "reply_wanted": True}),
        (banking_days_ago(7), {"state": "closed", "reply_wanted": True}),
    ]
    if calendar.is_banking_day(today):
        # Received three banking days ago: due today.
        cases.append((banking_days_ago(3, 14), {"state": "assigned", "reply_wanted": True,
                                                "estimate": False}))
    if long_cases:
        # A long-running matter: some 200 timeline events and 20 answers, still held.
        cases += [(banking_days_ago(60, hour), {"state": "assigned", "reply_wanted": True,
                                                "estimate": False, "long": True})
                  for hour in (10, 13)]
    return cases


LONG_ANSWERS = 20  # answers of a long-running showcase case, each after a few notes
LONG_NOTES_PER_ANSWER = 8


CHUNK = 5000
# From this many cases the demo has long-running cases too (_showcase): what a bank's busiest
# case page has to show.
LONG_CASES_FROM = 10_000
# From this many cases on, the search index is built once at the end (_BulkLoad).
BULK_LOAD_FROM = 50_000
# The bulk-loaded tables whose ids the loader hands out itself (and PostgreSQL's sequences
# must then be moved past).
_WITH_IDS = {"case": Case, "event": CaseEvent, "answer": Answer, "callback": CallbackTask,
             "letter": Letter, "outbox": OutboxMessage}
NOTES = ["Pyysin konttorilta tilihistorian.", "Asiakas soitti ja täydensi tietoja.",
         "Odotetaan korttikeskuksen vastausta.", "Tarkistin tapahtumalokin."]
FORWARD_NOTE = "Selvittäkää asia ja vastatkaa asiakkaalle."


def seed_cases(total, now, calendar, units, topics, rng, progress=None):
    """Top the case table up to `total` cases, received over the weeks (up to three years)
    before `now`, in chunks: memory stays flat however many cases are asked for."""
    existing = db.session.scalar(sa.select(sa.func.count()).select_from(Case))
    missing = total - existing
    if missing <= 0:
        return 0
    factory = _CaseFactory(now, calendar, units, topics, rng)
    showcase = _showcase(now, calendar, long_cases=missing >= LONG_CASES_FROM) if (
        existing == 0 and missing >= 20) else []
    random_count = missing - len(showcase)
    # Spread over more weeks the more cases there are: a bank's years of feedback.
    span = timedelta(days=max(35, min(3 * 365, missing // 20)))
    start = now - span
    bulk = _BulkLoad(large=missing >= BULK_LOAD_FROM)
    made = 0
    # Millions of short-lived rows, no cycles: the cyclic collector would only slow the load.
    gc.disable()
    try:
        made = _load(factory, bulk, showcase, random_count, start, span, rng, progress)
    finally:
        gc.enable()
    bulk.finish()
    factory.save_counters()
    db.session.flush()
    return made


def _load(factory, bulk, showcase, random_count, start, span, rng, progress):
    made = 0
    for first in range(0, random_count, CHUNK):
        count = min(CHUNK, random_count - first)
        # Each chunk covers its own slice of the span, so receipts (and references) rise in time.
        slice_start = start + span * (first / random_count)
        slice_end = start + span * ((first + count) / random_count)
        width = (slice_end - slice_start).total_seconds()
        moments = [(slice_start + timedelta(seconds=rng.random() * width), {}) for _ in range(count)]
        if first + count == random_count:
            moments += showcase
        for received_at, forced in sorted(moments, key=lambda moment: moment[0]):
            factory.build(received_at, forced, bulk)
        bulk.flush()
        made += len(moments)
        if progress:
            progress(len(moments))
    return made


class _CaseFactory:
    """Builds one plausible case with its timeline, answer and channel rows as plain dicts."""

    def __init__(self, now, calendar, units, topics, rng):
        self.now, self.calendar, self.rng = now, calendar, rng
        self.tz = calendar.tz
        self.today = now.astimezone(self.tz).date()
        self.customers = db.session.execute(
            sa.select(Customer.id, Customer.name, Customer.street_address, Customer.postal_code,
                      Customer.city, Customer.phone, Customer.email, Customer.language,
                      Customer.segment, Customer.home_office_id)
        ).all()
        self.staff_by_unit = {}
        for unit_id, user_id in db.session.execute(sa.select(Membership.unit_id, Membership.user_id)):
            self.staff_by_unit.setdefault(unit_id, []).append(user_id)
        self.topic_units = {code: units[unit].id for code, _name, unit in TOPICS if unit}
        self.unit_ids = {code: unit.id for code, unit in units.items()}
        self.topic_ids = {code: topic.id for code, topic in topics.items()}
        self.topics = topics
        self.topic_codes = list(topics)
        self.counters = {row.year: row.last_number
                         for row in db.session.scalars(sa.select(ReferenceCounter))}
        self.next_id = {table: (db.session.scalar(sa.select(sa.func.max(model.id))) or 0) + 1
                        for table, model in _WITH_IDS.items()}
        # Calendar arithmetic per distinct day, not per case.
        self._due, self._between, self._next_banking_day = {}, {}, {}

    def _take_id(self, table):
        value = self.next_id[table]
        self.next_id[table] += 1
        return value

    def _due_date(self, day):
        if day not in self._due:
            self._due[day] = self.calendar.add_banking_days(day, ANSWER_PROMISE_BANKING_DAYS)
        return self._due[day]

    def _escalation_day(self, due):
        """The morning a case still open after `due` is reported overdue: the first banking day
        after it."""
        if due not in self._next_banking_day:
            self._next_banking_day[due] = self.calendar.add_banking_days(due, 1)
        return self._next_banking_day[due]

    def _escalate(self, bulk, case_id, due, answered_at, events):
        """Escalate the case as the morning run would have: on the first banking day after its
        due date, in the unit holding it then, if it was still waiting for its answer that day
        (answered later, or not yet)."""
        day = self._escalation_day(due)
        if day > self.today or (answered_at and answered_at.astimezone(self.tz).date() < day):
            return
        holder = None
        for kind, _actor, _from_unit, to_unit, _text, at, *_facts in events:
            if kind in (EventKind.RECEIVED, EventKind.FORWARDED) and at.astimezone(self.tz).date() < day:
                holder = to_unit
        bulk.add("escalation", {"case_id": case_id, "unit_id": holder, "escalated_on": day})

    def _banking_days(self, start, end):
        key = (start, end)
        if key not in self._between:
            self._between[key] = self.calendar.banking_days_between(start, end)
        return self._between[key]

    def build(self, received_at, forced, bulk):
        rng, now = self.rng, self.now
        case_id = self._take_id("case")
        year = received_at.astimezone(self.tz).year
        self.counters[year] = self.counters.get(year, 0) + 1
        customer = rng.choice(self.customers) if rng.random() < 0.8 else None
        segment = customer.segment if customer else (
            Segment.BUSINESS if rng.random() < 1 / 6 else Segment.PRIVATE)
        if forced.get("long") and segment != Segment.PRIVATE:
            # A private customer's: customer service's inbox is the one bench/run.py measures.
            private = [c for c in self.customers if c.segment == Segment.PRIVATE]
            customer, segment = rng.choice(private) if private else None, Segment.PRIVATE
        language = customer.language if customer else rng.choice([Language.FI, Language.SV])
        topic_code = rng.choice(self.topic_codes)
        reply_wanted = forced.get("reply_wanted", rng.random() < 0.85)
        reply_channel = rng.choice(list(ReplyChannel)) if reply_wanted else None
        intake_unit = self.unit_ids["business-cs" if segment == Segment.BUSINESS else "cs"]
        received_date = received_at.astimezone(self.tz).date()
        due = self._due_date(received_date)
        age = self._banking_days(received_date, self.today)
        state = forced.get("state") or _pick_state(rng, age, reply_wanted)

        holder = intake_unit
        events = [(EventKind.RECEIVED, None, None, intake_unit, "", received_at)]
        step = received_at
        # A long-running case stays in the inbox it came to.
        if rng.random() < 0.45 and not forced.get("long"):
            target = self.topic_units.get(topic_code) or (
                customer.home_office_id if customer else self.unit_ids[rng.choice(BRANCHES)])
            step += timedelta(hours=rng.uniform(0.5, 20))
            events.append((EventKind.FORWARDED, rng.choice(self.staff_by_unit[holder]), holder, target,
                           FORWARD_NOTE, step))
            if target != holder:
                bulk.add("past_unit", {"case_id": case_id, "unit_id": holder})
            holder = target
        assignee = None
        if state != "new":
            assignee = rng.choice(self.staff_by_unit[holder])
            step += timedelta(hours=rng.uniform(0.2, 6))
            events.append((EventKind.ASSIGNED, assignee, holder, None, "", step, {"taken": True}))
        for _note in range(rng.choice((0, 0, 0, 1, 1, 2, 3)) if assignee else 0):
            step += timedelta(hours=rng.uniform(0.5, 8))
            events.append((EventKind.NOTE, assignee, holder, None, rng.choice(NOTES), step))
        estimate = notice_on = None
        wants_estimate = forced.get("estimate", age >= 2 and rng.random() < 0.3)
        if reply_wanted and state in ("new", "assigned") and wants_estimate:
            estimate = self.calendar.add_banking_days(self.today, rng.randint(1, 5))
            step += timedelta(hours=rng.uniform(1, 24))
            notice_on = min(step, now).astimezone(self.tz).date()
            events.append((EventKind.INTERIM_NOTICE, assignee, holder, None, "", step,
                           {"estimate": estimate.isoformat()}))
        closed_at = answered_at = None
        first_answer = dict.fromkeys(FIRST_ANSWER_COLUMNS)
        contact = customer if customer and reply_wanted else None
        if forced.get("long") and assignee:
            step, first_answer = self._long_history(
                bulk, events, step, case_id, received_at, holder, assignee, reply_channel,
                contact, segment, language)
        if state in ("answered", "closed"):
            if reply_wanted:
                step += timedelta(hours=rng.uniform(2, 60))
                events.extend(self._answer_events(assignee, holder, reply_channel, language, step))
                answered_at = min(step, now)
                first_answer = Case.first_answer_values(received_at, answered_at, holder,
                                                        reply_channel, self.calendar)
                self._answer(bulk, case_id, reply_channel, contact, segment, holder, assignee,
                             answered_at, language)
            if state == "closed":
                closed_at = step + timedelta(hours=rng.uniform(1, 48))
                resolution = Resolution.ANSWERED if reply_wanted else Resolution.NO_ANSWER_WANTED
                events.append((EventKind.CLOSED, assignee, holder, None, "", closed_at,
                               {"resolution": str(resolution)}))
        if len(events) == 1:
            events.append((EventKind.NOTE, None, holder, None, rng.choice(NOTES),
                           received_at + timedelta(minutes=rng.uniform(5, 90))))
        if reply_wanted:
            self._escalate(bulk, case_id, estimate or due, answered_at, events)
        latest = min(now, max(event[5] for event in events))
        name = customer.name if customer else rng.choice(FINNISH_FIRST) + " " + rng.choice(FINNISH_LAST)
        contact_name = name if reply_wanted or rng.random() < 0.5 else ""
        bulk.add("case", {
            "id": case_id,
            "reference": format_reference(year, self.counters[year]),
            "received_at": received_at,
            "intake_channel": rng.choices(INTAKE_CHANNELS, weights=(70, 15, 10, 5, 0))[0],
            "contact_name": contact_name,
            "contact_street": contact.street_address if contact else "",
            "contact_postal_code": contact.postal_code if contact else "",
            "contact_city": contact.city if contact else "",
            "contact_phone": contact.phone if contact else "",
            "contact_email": contact.email if contact else "",
            "segment": segment,
            "topic_id": self.topic_ids[topic_code],
            "case_type": rng.choice(CASE_TYPES),
            "message": rng.choice(MESSAGES["sv" if language == Language.SV else "fi"]),
            "reply_wanted": reply_wanted,
            "reply_channel": reply_channel,
            "language": language,
            "status": STATES[state],
            "current_unit_id": holder,
            "assignee_id": assignee,
            "customer_id": customer.id if customer else None,
            "match_method": MatchMethod.EMAIL if customer else MatchMethod.NONE,
            "masked_kinds": "",
            "service_unit_id": intake_unit,
            "suggested_unit_id": self.topic_units.get(topic_code) or (
                customer.home_office_id if customer else None),
            "due_date": due,
            "estimated_decision_date": estimate,
            "effective_due_date": estimate or due,
            # As the operations set them on a first answer: the same definition, on the model.
            **first_answer,
            "interim_notice_on": notice_on,
            "own_banking_matter": False,
            "delivery_problem": "",
            "closed_at": min(closed_at, now) if closed_at else None,
            "resolution": (Resolution.ANSWERED if reply_wanted else Resolution.NO_ANSWER_WANTED)
            if state == "closed" else None,
            "version": len(events),
            # As inboxes.sorting keeps them for cases written through the ORM.
            **sort_keys(contact_name or (customer.name if customer else ""), self.topics[topic_code]),
        })
        for kind, actor, from_unit, to_unit, text, at, *facts in events:
            bulk.add("event", {"id": self._take_id("event"), "case_id": case_id, "kind": kind,
                               "actor_id": actor, "from_unit_id": from_unit, "to_unit_id": to_unit,
                               "text": text, "facts": facts[0] if facts else {},
                               "at": min(at, latest)})

    def _answer_events(self, assignee, holder, channel, language, at):
        """An answer's two events, as the channels write them."""
        text = ANSWER_TEXT["sv" if language == Language.SV else "fi"]
        delivered = {"purpose": "answer", "channel": str(channel)}
        if channel == ReplyChannel.LETTER:
            delivered["posted_on"] = at.astimezone(self.tz).date().isoformat()
        return [(EventKind.REPLIED, assignee, holder, None, text, at, {"channel": str(channel)}),
                (EventKind.DELIVERED, None, None, None, "", at, delivered)]

    def _long_history(self, bulk, events, step, case_id, received_at, holder, assignee, channel,
                      contact, segment, language):
        """Notes and answers, one after another, as on a matter that runs for weeks; returns
        the last step and the first answer's columns."""
        first_answer = None
        for _answer in range(LONG_ANSWERS):
            for _note in range(LONG_NOTES_PER_ANSWER):
                step += timedelta(minutes=self.rng.uniform(30, 300))
                events.append((EventKind.NOTE, assignee, holder, None,
                               self.rng.choice(NOTES), step))
            step += timedelta(minutes=self.rng.uniform(30, 300))
            at = min(step, self.now)
            events.extend(self._answer_events(assignee, holder, channel, language, at))
            self._answer(bulk, case_id, channel, contact, segment, holder, assignee, at, language)
            first_answer = first_answer or Case.first_answer_values(
                received_at, at, holder, channel, self.calendar)
        return step, first_answer

    def _answer(self, bulk, case_id, channel, contact, segment, unit_id, author, at, language):
        """The answer as the channel left it: a sent email, a call made, a letter posted."""
        answer_id = self._take_id("answer")
        text = ANSWER_TEXT["sv" if language == Language.SV else "fi"]
        bulk.add("answer", {"id": answer_id, "case_id": case_id, "purpose": Purpose.ANSWER,
                            "channel": channel, "subject": "", "text": text,
                            "status": AnswerStatus.DELIVERED, "failure": "", "created_at": at,
                            "created_by_id": author, "delivered_at": at})
        if channel == ReplyChannel.EMAIL:
            bulk.add("outbox", {
                "id": self._take_id("outbox"), "kind": OutboxKind.ANSWER,
                "recipient": contact.email if contact else "customer@example.fi",
                "sender": "feedback@bank.example", "sender_name": "", "subject": "Re: feedback",
                "body_text": text, "body_html": "", "message_id": f"<demo-{answer_id}@bank.example>",
                "status": OutboxStatus.SENT, "attempts": 1, "next_attempt_at": at, "last_error": "",
                "claimed_by": None, "claimed_until": None, "created_at": at, "sent_at": at,
                "case_id": case_id, "answer_id": answer_id})
        elif channel == ReplyChannel.PHONE:
            bulk.add("callback", {
                "id": self._take_id("callback"), "case_id": case_id, "answer_id": answer_id,
                "unit_id": unit_id, "phone": contact.phone if contact else "+358401234567",
                "segment": segment, "window_start": at - timedelta(hours=2), "window_end": at,
                "due_at": at, "attempts": 1, "status": CallbackStatus.DONE, "created_at": at,
                "closed_at": at})
        else:
            # No PDF is rendered for demo letters: the download renders it from the answer.
            bulk.add("letter", {"id": self._take_id("letter"), "case_id": case_id,
                                "answer_id": answer_id, "unit_id": unit_id, "pdf": b"",
                                "created_at": at, "posted_at": at, "posted_by_id": author})

    def save_counters(self):
        for year, last in self.counters.items():
            counter = db.session.get(ReferenceCounter, year)
            if counter is None:
                db.session.add(ReferenceCounter(year=year, last_number=last))
            else:
                counter.last_number = last


class _BulkLoad:
    """Rows gathered per table and written a chunk at a time, parents first.

    On PostgreSQL rows go in with COPY. A large load drops the full-text index (or
    SQLite's triggers) first and builds it once at the end, which is faster than
    keeping it current row by row (search.set_aside_for_bulk_load).
    """

    # In the order they go in: a row's foreign keys point to rows already there.
    TABLES = {"case": Case, "past_unit": CasePastUnit, "escalation": CaseEscalation,
              "event": CaseEvent, "answer": Answer, "outbox": OutboxMessage,
              "callback": CallbackTask, "letter": Letter}

    def __init__(self, large):
        self.rows = {name: [] for name in self.TABLES}
        self.connection = db.session.connection()
        self.postgres = self.connection.dialect.name == "postgresql"
        self.large = large
        if large:
            search.set_aside_for_bulk_load(self.connection)

    def add(self, table, row):
        self.rows[table].append(row)

    def flush(self):
        for name, model in self.TABLES.items():
            rows = self.rows[name]
            if not rows:
                continue
            columns = list(rows[0])
            names = ", ".join(columns)
            data = [list(row.values()) for row in rows]
            cursor = self.connection.connection.driver_connection.cursor()
            if self.postgres:
                _convert(data, model, columns, {sa.Enum: _enum_value, sa.JSON: json.dumps})
                with cursor.copy(f"COPY {model.__tablename__} ({names}) FROM STDIN") as copy:
                    for values in data:
                        copy.write_row(values)
            else:
                # The driver directly: SQLAlchemy's per-value processing would double the load time.
                # Enum members are strings already; moments and days need the ORM's text forms.
                _convert(data, model, columns, {UTCDateTime: _utc_text, sa.Date: date.isoformat,
                                                sa.JSON: json.dumps})
                # Table and column names come from the models, never from input.
                cursor.executemany(f"INSERT INTO {model.__tablename__} ({names}) "  # nosec B608
                                   f"VALUES ({', '.join('?' * len(columns))})", data)
            rows.clear()

    def finish(self):
        if self.large:
            search.install(self.connection)
        _reset_sequences()


def _convert(data, model, columns, converters):
    """Convert, in place, the columns whose type has a converter; None stays None."""
    for index, column in enumerate(columns):
        convert = converters.get(type(model.__table__.c[column].type))
        if convert:
            for values in data:
                if values[index] is not None:
                    values[index] = convert(values[index])


def _enum_value(member):
    return member.value


def _utc_text(moment):
    """A moment as the ORM's UTCDateTime stores it in SQLite: UTC, without a zone."""
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M:%S.%f}"


def refresh_statistics():
    """After a bulk load the planner needs fresh statistics, and PostgreSQL its visibility map
    (index-only scans, which the inbox counts rely on, read the table without it)."""
    engine = db.engine
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE")


def _reset_sequences():
    """PostgreSQL's id sequences do not see explicit ids; move them past the rows."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    for table in (model.__tablename__ for model in _WITH_IDS.values()):
        # The table names are the models', never input.
        move = f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE((SELECT MAX(id) FROM {table}), 1))"  # noqa: E501  # nosec B608
        db.session.execute(sa.text(move))


def seed_demo(now, calendar, password=DEMO_PASSWORD, cases=240, seed=2026, progress=None):
    """Create the demo set; returns how many cases were added."""
    rng = random.Random(seed)
    units, topics = seed_reference_data(password, rng)
    added = seed_cases(cases, now.astimezone(UTC), calendar, units, topics, rng, progress)
    # The cases went in through the driver, unseen by the stamps' and counters' listeners.
    counters.rebuild()
    summaries.rebuild(db.session.connection(), clock.timezone())
    stamps.touch_all(db.session.connection())
    return added

