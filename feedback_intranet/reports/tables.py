"""The report pages as tables (and charts): the same table is shown on the page and sent as CSV."""

from dataclasses import dataclass, field

import sqlalchemy as sa

from ..closing_days import banking_calendar
from ..extensions import db
from ..i18n import gettext as _
from ..i18n import lazy_gettext as _l
from ..i18n import lazy_pgettext, ngettext, pgettext
from ..models import IntakeChannel, ReplyChannel, Segment, Topic
from ..rules import charts
from ..rules.dates import format_day_range, format_short_date
from . import queries


@dataclass
class Table:
    name: str
    title: str
    header: list
    rows: list
    totals: list | None = None
    note: str = ""

    def csv_rows(self):
        return self.rows + ([self.totals] if self.totals else [])


@dataclass
class Report:
    tables: list
    charts: list = field(default_factory=list)
    # What the report says first, in a sentence or two.
    headline: str = ""
    detail: str = ""

    def table(self, name):
        return next((table for table in self.tables if table.name == name), None)


@dataclass
class Context:
    """What every report needs: the units in scope, the period (None for the backlog, which is
    now), today and the bank's time zone."""

    units: list
    period: object
    today: object
    tz: object
    language: str

    @property
    def unit_ids(self):
        return [unit.id for unit in self.units]

    def unit_name(self, unit_id):
        return next(unit.name_in(self.language) for unit in self.units if unit.id == unit_id)

    def week_labels(self):
        """Each week of the period with its days: "week 49, 30.11.–6.12.2026"."""
        return [_("week %(number)s, %(days)s", number=number, days=format_day_range(first, last))
                for number, first, last in self.period.week_spans()]

    def week_axis(self):
        """The weeks under a chart: the number over the days, as short as they go."""
        return [(pgettext("chart axis", "wk %(number)s", number=number),
                 format_short_date(first) if first == last
                 else f"{format_short_date(first)}–{format_short_date(last)}")
                for number, first, last in self.period.week_spans()]


def _topic_names(language):
    return {topic.id: topic.name_in(language) for topic in db.session.scalars(sa.select(Topic))}


def _percent(value):
    return "" if value is None else value


PROMISE_HEADER = (_l("Owed an answer"), _l("Kept"), _l("Not kept"), _l("Not yet due"),
                  _l("Kept %"), _l("Interim notices"), _l("Answered by the estimate"))
NO_CASES = queries.PromiseFigures(0, 0, 0, 0, 0)
# Escalations are counted by the day they happened: the escalation's own (unit, day) index.
ESCALATED = _l("Escalated as overdue")
ESCALATED_NOTE = _l("Escalated as overdue: cases the morning summary reported overdue to the unit "
                    "holding them, on their first banking day overdue there, counted by that day, "
                    "not by the day of receipt. A case forwarded and overdue again counts in each "
                    "unit.")
ESCALATED_BY_WEEK_NOTE = _l("The promise by the week the cases were received; the escalations "
                            "by the week they were escalated.")


def _promise_row(label, figures):
    return [label, figures.owed, figures.kept, figures.broken, figures.pending,
            _percent(figures.kept_percent), figures.noticed, figures.by_estimate]


def _promise_table(name, title, first, rows_by_key, label_of):
    rows = sorted((_promise_row(label_of(key), figures) for key, figures in rows_by_key.items()),
                  key=lambda row: str(row[0]))
    totals = None
    if rows_by_key:
        totals = _promise_row(_("All"), sum(rows_by_key.values(), NO_CASES))
    return Table(name, title, [first, *PROMISE_HEADER], rows, totals)


def _promise_by_unit(context, by_unit, escalated):
    """The promise per unit with the cases escalated there: a unit with escalations but no case
    received in the period still has its row."""
    rows = sorted(([*_promise_row(context.unit_name(unit_id), by_unit.get(unit_id, NO_CASES)),
                    escalated.get(unit_id, 0)] for unit_id in by_unit.keys() | escalated.keys()),
                  key=lambda row: str(row[0]))
    totals = None
    if rows:
        totals = [*_promise_row(_("All"), sum(by_unit.values(), NO_CASES)),
                  sum(escalated.values())]
    return Table("promise-by-unit", _("Promise kept by unit"),
                 [_("Unit"), *PROMISE_HEADER, ESCALATED], rows, totals, note=ESCALATED_NOTE)


# "Kept in November": each month as the time something happened (Finnish inflects it).
IN_MONTH = [
    lazy_pgettext("in a month", "in January"),
    lazy_pgettext("in a month", "in February"),
    lazy_pgettext("in a month", "in March"),
    lazy_pgettext("in a month", "in April"),
    lazy_pgettext("in a month", "in May"),
    lazy_pgettext("in a month", "in June"),
    lazy_pgettext("in a month", "in July"),
    lazy_pgettext("in a month", "in August"),
    lazy_pgettext("in a month", "in September"),
    lazy_pgettext("in a month", "in October"),
    lazy_pgettext("in a month", "in November"),
    lazy_pgettext("in a month", "in December"),
]


def _promise_headline(context, figures):
    """The figure the report is read for, and how many cases it stands on."""
    if figures.kept_percent is None:
        return _("No case received in the period has reached its due date yet."), ""
    period = context.period
    if period.whole_month():
        when = str(IN_MONTH[period.start.month - 1])
        if period.start.year != context.today.year:
            when = f"{when} {period.start.year}"
        headline = _("%(percent)s %% kept %(in_month)s", percent=figures.kept_percent,
                     in_month=when)
    else:
        headline = _("%(percent)s %% kept, %(days)s", percent=figures.kept_percent,
                     days=format_day_range(period.start, period.end))
    detail = ngettext("%(kept)s of %(num)s case answered within the promise.",
                      "%(kept)s of %(num)s cases answered within the promise.",
                      figures.decided, kept=figures.kept)
    return headline, detail


def promise_report(context):
    args = (context.period, context.unit_ids, context.today)
    by_unit = queries.promise("unit", *args)
    by_topic = queries.promise("topic", *args)
    by_week = queries.promise("week", *args)
    escalated_by_unit, escalated_by_week = queries.escalations(context.period, context.unit_ids)
    topics = _topic_names(context.language)
    labels, axis = context.week_labels(), context.week_axis()
    weekly = [by_week.get(index) for index in range(len(labels))]
    trend = Table("promise-by-week", _("Promise kept by week of receipt"),
                  [_("Week"), _("Kept"), _("Not kept"), _("Not yet due"), _("Kept %"), ESCALATED],
                  [[label, *((figures.kept, figures.broken, figures.pending,
                              _percent(figures.kept_percent)) if figures else (0, 0, 0, "")),
                    escalated_by_week.get(index, 0)]
                   for index, (label, figures) in enumerate(zip(labels, weekly, strict=True))],
                  note=ESCALATED_BY_WEEK_NOTE)
    percents = [figures.kept_percent if figures else None for figures in weekly]
    chart = charts.percent_line_chart(
        _("Promise kept by week"),
        _("Share of cases answered within the promise, by week of receipt: %(weeks)s.",
          weeks="; ".join(f"{label}: {'–' if value is None else f'{value} %'}"
                          for label, value in zip(labels, percents, strict=True))),
        labels, percents, axis)
    headline, detail = _promise_headline(context, sum(by_unit.values(), NO_CASES))
    return Report(headline=headline, detail=detail, tables=[
        _promise_by_unit(context, by_unit, escalated_by_unit),
        _promise_table("promise-by-topic", _("Promise kept by topic"), _("Topic"), by_topic,
                       topics.get),
        trend,
    ], charts=[chart])


def _answer_time_table(name, title, first, counts_by_key, label_of):
    def row(label, counts):
        return [label, sum(count for _days, count in counts), queries.nearest_rank(counts, 50),
                queries.nearest_rank(counts, 90)]

    rows = sorted((row(label_of(key), counts) for key, counts in counts_by_key.items()),
                  key=lambda r: str(r[0]))
    everything = {}
    for counts in counts_by_key.values():
        for days, count in counts:
            everything[days] = everything.get(days, 0) + count
    totals = row(_("All"), list(everything.items())) if everything else None
    return Table(name, title, [first, pgettext("cases", "Answered"), _("Median"), _("90th percentile")], rows,
                 totals, note=_("Banking days after the day of receipt up to the day of the first "
                               "answer; percentiles by the nearest-rank method."))


def answer_time_report(context):
    args = (context.period, context.unit_ids)
    return Report(tables=[
        _answer_time_table("answer-time-by-unit", _("Time to answer by unit"), _("Unit"),
                           queries.answer_days("unit", *args), context.unit_name),
        _answer_time_table("answer-time-by-channel", _("Time to answer by channel"), _("Channel"),
                           queries.answer_days("channel", *args),
                           lambda channel: ReplyChannel(channel).title),
    ])


def volume_report(context):
    labels, axis = context.week_labels(), context.week_axis()
    topics = _topic_names(context.language)
    dimensions = [
        ("topic", "volume-by-topic", _("Received by topic"), _("Topic"), topics.get),
        ("segment", "volume-by-segment", _("Received by segment"), _("Segment"),
         lambda value: Segment(value).title),
        ("reply_channel", "volume-by-reply-channel", _("Received by reply channel"),
         _("Reply channel"),
         lambda value: ReplyChannel(value).title if value else _("No answer wanted")),
        ("intake_channel", "volume-by-intake-channel", _("Received by intake channel"),
         _("Intake channel"), lambda value: IntakeChannel(value).title),
    ]
    counts = queries.volumes(context.period, context.unit_ids)
    # Every case has one topic: the topics' weeks add up to the cases of each week.
    weekly = [sum(week) for week in zip(*counts["topic"].values(), strict=True)] or [0] * len(labels)
    tables = [Table("volume-by-week", _("Received per week"), [_("Week"), pgettext("cases", "Received")],
                    [[label, count] for label, count in zip(labels, weekly, strict=True)],
                    [_("All"), sum(weekly)])]
    for dimension, name, title, first, label_of in dimensions:
        by_value = counts[dimension]
        rows = sorted(([str(label_of(value)), *per_week, sum(per_week)]
                       for value, per_week in by_value.items()), key=lambda row: row[0])
        tables.append(Table(name, title, [first, *labels, _("Total")], rows,
                            [_("All"), *weekly, sum(weekly)] if rows else None))
    chart = charts.bar_chart(
        _("Cases received per week"),
        _("Cases received per week: %(weeks)s.",
          weeks="; ".join(f"{label}: {count}" for label, count in zip(labels, weekly, strict=True))),
        labels, weekly, axis)
    return Report(tables=tables, charts=[chart])


def forwarding_report(context):
    moves, more_than_once = queries.forwarding(context.period, context.unit_ids,
                                               context.language)
    rows = [[source, target, count] for source, target, count in moves]
    return Report(tables=[
        Table("forwarding", _("Forwards between units"),
              [pgettext("forwarding", "From"), pgettext("forwarding", "To"), _("Forwards")], rows,
              [_("All"), "", sum(row[2] for row in rows)] if rows else None),
        Table("forwarded-more-than-once", _("Cases forwarded more than once"),
              [_("Figure"), _("Cases")], [[_("Forwarded more than once"), more_than_once]]),
    ])


def backlog_report(context):
    # The only report that counts banking days at request time: it reads the closing days.
    by_unit = queries.backlog(context.unit_ids, context.today, banking_calendar(context.tz))
    # Most overdue first, then the most open; context.units are in name order.
    rows = sorted(({"unit": unit.name_in(context.language), **by_unit[unit.id]}
                   for unit in context.units if unit.id in by_unit),
                  key=lambda row: (-row["overdue"], -row["total"]))
    header = [_("Unit"), _("Overdue"), pgettext("cases", "Open")] + [
        _("Age %(bucket)s banking days", bucket=bucket) for bucket in queries.AGE_BUCKETS]
    return Report(tables=[Table(
        "backlog", _("Backlog now"), header,
        [[row["unit"], row["overdue"], row["total"], *row["buckets"]] for row in rows],
        note=_("Open cases by unit and age in banking days, most overdue first."))])


@dataclass(frozen=True)
class ReportKind:
    title: str
    build: object
    # The backlog is now; the others are for cases received in a period.
    uses_period: bool = True


REPORTS = {
    "backlog": ReportKind(_l("Backlog now"), backlog_report, uses_period=False),
    "promise": ReportKind(_l("Promise kept"), promise_report),
    "answer-time": ReportKind(_l("Time to answer"), answer_time_report),
    "volumes": ReportKind(_l("Volumes"), volume_report),
    "forwarding": ReportKind(_l("Forwarding"), forwarding_report),
}


def period_label(period):
    return format_day_range(period.start, period.end)
