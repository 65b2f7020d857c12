"""Demo data: units, staff, a customer register and cases in every badge state.

Reference data is created once by its natural key (idempotent); cases are
topped up to the number asked for with bulk inserts, so large demo sets load fast.
"""

import random
from datetime import UTC, datetime, time, timedelta

import sqlalchemy as sa

from .extensions import db, passwords
from .models import (
    Case,
    CaseEvent,
    CasePastUnit,
    CaseStatus,
    CaseType,
    Customer,
    EventKind,
    IntakeChannel,
    Language,
    MatchMethod,
    Membership,
    ReferenceCounter,
    ReplyChannel,
    ReplyTemplate,
    Resolution,
    RoutingRule,
    Segment,
    Topic,
    Unit,
    UnitKind,
    User,
)
from .references import format_reference

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
    db.session.flush()
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
            email=f"{username}@bank.example", is_admin=is_admin, language=Language.EN,
        )
        user.password_hash = password_hash
        user.active = True
        if not user.memberships:
            for code, lead in memberships.items():
                user.memberships.append(Membership(unit_id=units[code].id, is_team_lead=lead))
    db.session.flush()

    _get_or_create(
        RoutingRule, (RoutingRule.name, "Business investments to Investments"),
        name="Business investments to Investments", topic_id=topics["investments"].id,
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


def _pick_state(rng, age, reply_wanted):
    """A plausible status for a case received `age` banking days ago."""
    if age <= 2:
        weights = {"new": 5, "assigned": 3, "answered": 1, "closed": 0.5}
    elif age <= 5:
        weights = {"new": 2, "assigned": 3, "answered": 2, "closed": 3}
    elif age <= 20:
        weights = {"new": 1, "assigned": 1.5, "answered": 1, "closed": 8}
    else:
        # Old feedback is nearly all closed; a little stays open and long overdue.
        weights = {"new": 0.3, "assigned": 0.5, "answered": 0.4, "closed": 40}
    if not reply_wanted:
        weights.pop("answered")
    states = list(weights)
    return rng.choices(states, weights=[weights[s] for s in states])[0]


def _showcase(now, calendar):
    """A few cases that put every badge state in the inboxes, whatever day the demo starts."""
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
    return cases


def seed_cases(total, now, calendar, units, topics, rng, progress=None):
    """Top the case table up to `total` cases, received over the weeks before `now`."""
    existing = db.session.scalar(sa.select(sa.func.count()).select_from(Case))
    missing = total - existing
    if missing <= 0:
        return 0
    customers = db.session.execute(
        sa.select(Customer.id, Customer.name, Customer.street_address, Customer.postal_code,
                  Customer.city, Customer.phone, Customer.email, Customer.language,
                  Customer.segment, Customer.home_office_id)
    ).all()
    staff_by_unit = {}
    for unit_id, user_id in db.session.execute(sa.select(Membership.unit_id, Membership.user_id)):
        staff_by_unit.setdefault(unit_id, []).append(user_id)
    topic_units = {code: units[unit].id for code, _name, unit in TOPICS if unit}
    unit_ids = {code: unit.id for code, unit in units.items()}

    # Spread over more weeks the more cases there are: a bank's years of feedback.
    span_days = max(35, min(3 * 365, missing // 20))
    showcase = _showcase(now, calendar) if existing == 0 and missing >= 20 else []
    moments = sorted(
        [(now - timedelta(seconds=rng.uniform(0, span_days * 86400)), {})
         for _ in range(missing - len(showcase))] + showcase,
        key=lambda moment: moment[0],
    )
    counters = {row.year: row.last_number for row in db.session.scalars(sa.select(ReferenceCounter))}
    next_case_id = (db.session.scalar(sa.select(sa.func.max(Case.id))) or 0) + 1
    next_event_id = (db.session.scalar(sa.select(sa.func.max(CaseEvent.id))) or 0) + 1
    today = now.astimezone(calendar.tz).date()
    topic_codes = list(topics)

    cases, events, past_units = [], [], []
    for index, (received_at, forced) in enumerate(moments):
        year = received_at.astimezone(calendar.tz).year
        counters[year] = counters.get(year, 0) + 1
        customer = rng.choice(customers) if rng.random() < 0.8 else None
        segment = customer.segment if customer else rng.choice([Segment.PRIVATE] * 5 + [Segment.BUSINESS])
        language = customer.language if customer else rng.choice([Language.FI, Language.SV])
        topic_code = rng.choice(topic_codes)
        reply_wanted = forced.get("reply_wanted", rng.random() < 0.85)
        intake_unit = unit_ids["business-cs" if segment == Segment.BUSINESS else "cs"]
        received_date = received_at.astimezone(calendar.tz).date()
        due = calendar.due_date(received_at)
        age = calendar.banking_days_between(received_date, today)
        state = forced.get("state") or _pick_state(rng, age, reply_wanted)

        holder = intake_unit
        case_events = [(EventKind.RECEIVED, None, None, intake_unit, "", received_at)]
        step = received_at
        if rng.random() < 0.45:
            target = topic_units.get(topic_code) or (
                customer.home_office_id if customer else unit_ids[rng.choice(BRANCHES)]
            )
            step = step + timedelta(hours=rng.uniform(0.5, 20))
            case_events.append((EventKind.FORWARDED, rng.choice(staff_by_unit[holder]), holder,
                                target, "Please investigate and answer the customer.", step))
            if target != holder:
                past_units.append({"case_id": next_case_id + index, "unit_id": holder})
            holder = target
        assignee = None
        if state != "new":
            assignee = rng.choice(staff_by_unit[holder])
            step = step + timedelta(hours=rng.uniform(0.2, 6))
            case_events.append((EventKind.ASSIGNED, assignee, holder, None, "", step))
        estimate = None
        wants_estimate = forced.get("estimate", age >= 2 and rng.random() < 0.3)
        if reply_wanted and state in ("new", "assigned") and wants_estimate:
            estimate = calendar.add_banking_days(today, rng.randint(1, 5))
            step = step + timedelta(hours=rng.uniform(1, 24))
            case_events.append((EventKind.INTERIM_NOTICE, assignee, holder, None,
                                f"Estimated decision date {estimate.isoformat()}.", step))
        answered_at = closed_at = None
        if state in ("answered", "closed"):
            if reply_wanted:
                step = answered_at = step + timedelta(hours=rng.uniform(2, 60))
                case_events.append((EventKind.REPLIED, assignee, holder, None, "", answered_at))
            if state == "closed":
                closed_at = step + timedelta(hours=rng.uniform(1, 48))
                case_events.append((EventKind.CLOSED, assignee, holder, None, "", closed_at))
        latest = min(now, max(e[5] for e in case_events))
        reply_channel = rng.choice(list(ReplyChannel)) if reply_wanted else None
        answered_on = notice_on = None
        if answered_at:
            answered_on = min(answered_at, now).astimezone(calendar.tz).date()
        if estimate:
            notice_on = min(step, now).astimezone(calendar.tz).date()
        name = customer.name if customer else rng.choice(FINNISH_FIRST) + " " + rng.choice(FINNISH_LAST)

        case_id = next_case_id + index
        cases.append({
            "id": case_id,
            "reference": format_reference(year, counters[year]),
            "received_at": received_at,
            "intake_channel": rng.choices(list(IntakeChannel), weights=(70, 15, 10, 5))[0],
            "contact_name": name if reply_wanted or rng.random() < 0.5 else "",
            "contact_street": customer.street_address if customer and reply_wanted else "",
            "contact_postal_code": customer.postal_code if customer and reply_wanted else "",
            "contact_city": customer.city if customer and reply_wanted else "",
            "contact_phone": customer.phone if customer and reply_wanted else "",
            "contact_email": customer.email if customer and reply_wanted else "",
            "segment": segment,
            "topic_id": topics[topic_code].id,
            "case_type": rng.choice(list(CaseType)),
            "message": rng.choice(MESSAGES["sv" if language == Language.SV else "fi"]),
            "reply_wanted": reply_wanted,
            "reply_channel": reply_channel,
            "language": language,
            "status": {"new": CaseStatus.NEW, "assigned": CaseStatus.ASSIGNED,
                       "answered": CaseStatus.ANSWERED, "closed": CaseStatus.CLOSED}[state],
            "current_unit_id": holder,
            "assignee_id": assignee,
            "customer_id": customer.id if customer else None,
            "match_method": MatchMethod.EMAIL if customer else MatchMethod.NONE,
            "service_unit_id": intake_unit,
            "suggested_unit_id": topic_units.get(topic_code) or (
                customer.home_office_id if customer else None),
            "due_date": due,
            "estimated_decision_date": estimate,
            "effective_due_date": estimate or due,
            "first_answered_at": min(answered_at, now) if answered_at else None,
            "first_answer_on": answered_on,
            "first_answer_banking_days": calendar.banking_days_between(received_date, answered_on)
            if answered_on else None,
            "first_answer_unit_id": holder if answered_on else None,
            "first_answer_channel": reply_channel if answered_on else None,
            "interim_notice_on": notice_on,
            "closed_at": min(closed_at, now) if closed_at else None,
            "resolution": (Resolution.ANSWERED if reply_wanted else Resolution.NO_ANSWER_WANTED)
            if state == "closed" else None,
            "version": len(case_events),
        })
        for kind, actor, from_unit, to_unit, text, at in case_events:
            events.append({
                "id": next_event_id, "case_id": case_id, "kind": kind, "actor_id": actor,
                "from_unit_id": from_unit, "to_unit_id": to_unit, "text": text,
                "at": min(at, latest),
            })
            next_event_id += 1
        if len(cases) >= 5000:
            _flush_rows(cases, events, past_units)
            if progress:
                progress(len(cases))
            cases, events, past_units = [], [], []
    _flush_rows(cases, events, past_units)
    if progress:
        progress(len(cases))
    for year, last in counters.items():
        counter = db.session.get(ReferenceCounter, year)
        if counter is None:
            db.session.add(ReferenceCounter(year=year, last_number=last))
        else:
            counter.last_number = last
    db.session.flush()
    _reset_sequences()
    return missing


def _flush_rows(cases, events, past_units):
    if cases:
        db.session.execute(sa.insert(Case.__table__), cases)
        db.session.execute(sa.insert(CaseEvent.__table__), events)
    if past_units:
        db.session.execute(sa.insert(CasePastUnit.__table__), past_units)


def _reset_sequences():
    """PostgreSQL's id sequences do not see explicit ids; move them past the rows."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    for table in ("feedback_case", "case_event"):
        db.session.execute(sa.text(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"COALESCE((SELECT MAX(id) FROM {table}), 1))"
        ))


def seed_demo(now, calendar, password=DEMO_PASSWORD, cases=240, seed=2026, progress=None):
    """Create the demo set; returns how many cases were added."""
    rng = random.Random(seed)
    units, topics = seed_reference_data(password, rng)
    return seed_cases(cases, now.astimezone(UTC), calendar, units, topics, rng, progress)

