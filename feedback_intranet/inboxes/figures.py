"""What the inbox pages cache, each as an entry: a key naming everything the figure depends on
besides the cases (the unit's stamp stands for those) and the function that computes it.

Views pass the entries a page needs to cache.cached, which reads them in one go.
"""

from .. import clock
from ..closing_days import next_banking_day
from . import cache, counters, queries


def counts(unit_id, stamp, today):
    """Every filter's count and each holder's "mine" (counters.unit_counts): sums of the unit's
    counters, not counts of its cases; one entry for all members. "Needs attention" depends on
    the next banking day too, i.e. on the closing days: a change of those moves every stamp."""
    return cache.Entry(cache.key("counts", unit_id, stamp, today),
                       lambda: counters.unit_counts(unit_id, today,
                                                    next_banking_day(today, clock.timezone())))


def open_count(unit_id, stamp):
    """The open count of a tab other than the one shown."""
    return cache.Entry(cache.key("open", unit_id, stamp), lambda: queries.open_count(unit_id))


def workload(unit_id, stamp, today):
    return cache.Entry(cache.key("workload", unit_id, stamp, today),
                       lambda: queries.workload(unit_id, today))


def case_table(unit, stamp, today, locale, listing, person_id, page_size, cursors, leads, render):
    """The rendered rows and pager of one inbox page. The unit's name and code come from before
    the stamps were read, so they are keyed, not trusted; the person matters only to the
    personal filters. What "needs attention" lists follows the closing days too, which move
    every stamp when they change."""
    after, before, last = cursors
    personal = person_id if listing.filter in queries.PERSONAL_FILTERS else None
    return cache.Entry(cache.key("table", unit.id, stamp, today, locale, unit.code,
                                 unit.name_in(locale),
                                 listing.filter, personal, listing.sort, listing.descending,
                                 page_size, after and after.encode(),
                                 before and before.encode(), last, leads), render)


def my_cases(user, stamp_of, today, locale, limit, render):
    """The person's cases in all their units; unit names come with the user: keyed."""
    names = {m.unit_id: m.unit.name_in(locale) for m in user.memberships}
    return cache.Entry(cache.key("my-cases", user.id, today, locale, limit,
                                 *(f"{u}/{stamp_of[u]}/{names.get(u)}" for u in sorted(stamp_of))),
                       render)
