"""Case references: FB-<year>-<six digits>, numbered per Helsinki calendar year."""

from sqlalchemy.dialects import postgresql, sqlite

from .models import ReferenceCounter

_UPSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def format_reference(year, number):
    return f"FB-{year}-{number:06d}"


def next_reference(session, year):
    """Take the next number of `year` in the caller's transaction.

    One upsert both creates the year's counter and increments it, so two
    concurrent intakes never get the same number.
    """
    insert = _UPSERTS[session.get_bind().dialect.name](ReferenceCounter)
    statement = (
        insert.values(year=year, last_number=1)
        .on_conflict_do_update(
            index_elements=[ReferenceCounter.year],
            set_={"last_number": ReferenceCounter.last_number + 1},
        )
        .returning(ReferenceCounter.last_number)
    )
    return format_reference(year, session.execute(statement).scalar_one())
