from dataclasses import dataclass

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from .. import access, clock
from ..auth.operations import safe_next_path
from ..cases import list_rows, operations
from ..cases.common import CaseChanged, commit_change
from ..cases.forms import AssignManyForm
from ..closing_days import banking_calendar, next_banking_day
from ..extensions import db
from ..i18n import gettext as _
from ..models import CaseStatus, CaseType, Language, ReplyChannel, Segment, Topic, User
from ..refusals import Refusal
from ..rules.badges import badges_by_id
from ..rules.dates import format_date, format_moment
from ..web.downloads import csv_download
from ..web.form_tokens import consume_token
from ..web.forms import parse_id, show_refusal
from ..web.inbox_lists import LIST_KEY, remember_list
from ..web.locale import get_locale_code
from ..web.lookups import active_units, member_or_404, unit_members, visible_unit_or_404
from . import bar, figures, frame, queries, rows, stamps
from . import cache as inbox_cache

bp = Blueprint("inboxes", __name__)
MY_CASES_LIMIT = 50


@bp.route("/")
@login_required
def index():
    if request.args.get("unit"):
        return redirect(url_for("inboxes.inbox", unit_code=request.args["unit"]))
    units = queries.units_for_tabs(current_user, get_locale_code())
    if not units and access.can_administer(current_user):
        # An admin of no unit starts where every unit's backlog shows, not in the first inbox.
        return redirect(url_for("admin.index"))
    if not units:
        return render_template("inboxes/no_units.html")
    return redirect(url_for("inboxes.inbox", unit_code=units[0].code))


@dataclass(frozen=True)
class Listing:
    """Which list of an inbox the user is on: its filter (and member), sort and direction, as the
    address gives them; links to other pages of the list keep them."""

    filter: str
    member: int | None
    sort: str
    descending: bool

    def args(self, **changes):
        """The address's arguments for this list with `changes` (another sort, a cursor)."""
        args = {"filter": self.filter, "member": self.member,
                "sort": self.sort if self.sort != queries.DEFAULT_SORT else None,
                "order": "desc" if self.descending else None}
        return {name: value for name, value in {**args, **changes}.items() if value is not None}


def _badges(cases, today):
    return badges_by_id(cases, today, banking_calendar(clock.timezone()))


@bp.route("/inbox/<unit_code>")
@login_required
def inbox(unit_code):
    # An admin's inbox lists every unit to switch to, and finds its own among them.
    today, locale = clock.today(), get_locale_code()
    other_units = active_units(locale) if access.can_administer(current_user) else []
    unit = visible_unit_or_404(unit_code, among=other_units)
    leads = access.can_lead_unit(current_user, unit.id)
    filter_name = request.args.get("filter", queries.DEFAULT_FILTER)
    person_id = current_user.id
    member = None
    if filter_name == queries.MEMBER_FILTER and leads:
        member = member_or_404(unit.id, parse_id(request.args.get("member")))
        person_id = member.id
    elif filter_name not in queries.filters_for(leads):
        filter_name = queries.DEFAULT_FILTER
    page_size = current_app.config["INBOX_PAGE_SIZE"]
    sort = request.args.get("sort", queries.DEFAULT_SORT)
    if sort not in queries.SORTS:
        sort = queries.DEFAULT_SORT
    descending = request.args.get("order") == "desc"
    columns = queries.sort_columns(sort, locale)
    after = queries.Cursor.decode(request.args.get("after"), columns)
    before = queries.Cursor.decode(request.args.get("before"), columns)
    last = request.args.get("page") == "last"
    tabs = queries.units_for_tabs(current_user, locale)
    other_ids = [t.id for t in tabs if t.id != unit.id]
    # The stamps first: figures computed after them are never older than their key says.
    stamp_of = stamps.stamps([unit.id, *other_ids])
    listing = Listing(filter_name, member.id if member else None, sort, descending)
    remember_list(unit.code, listing.args())

    def case_table():
        page = queries.inbox_page(unit.id, filter_name, person_id, today,
                                  next_banking_day(today, clock.timezone()), page_size,
                                  columns=columns, descending=descending,
                                  after=after, before=before, last=last, language=locale)
        if not page.rows:
            return ""
        return frame.case_table(unit, listing, page, rows.rendered(
            page.rows, _badges(page.rows, today), locale, leads), leads)

    (counts, held), table, *other_counts = inbox_cache.cached(
        figures.counts(unit.id, stamp_of[unit.id], today),
        figures.case_table(unit, stamp_of[unit.id], today, locale, listing, person_id,
                           page_size, (after, before, last), leads, case_table),
        *(figures.open_count(u, stamp_of[u]) for u in other_ids),
    )
    assign_form = None
    if leads:
        assign_form = AssignManyForm()
        assign_form.member.choices = [SelectChoice(u.id, u.full_name) for u in unit_members(unit.id)]
    return render_template(
        "inboxes/inbox.html",
        unit=unit,
        tabs=tabs,
        other_units=other_units,
        tab_counts={**dict(zip(other_ids, other_counts, strict=True)), unit.id: counts["open"]},
        inbox_bar=bar.inbox_bar(unit.code, listing, queries.filters_for(leads), filter_name,
                                {**counts, "mine": held.get(current_user.id, 0)}, leads),
        member=member,
        case_table=inbox_cache.html(table),
        leads=leads,
        assign_form=assign_form,
    )


@bp.route("/next-case/<reference>")
@login_required
def next_case(reference):
    """The case after `reference` in the inbox list the user came from, same filter and sort;
    back to that list when none follows."""
    remembered = session.get(LIST_KEY)
    if not remembered:
        return redirect(url_for("inboxes.index"))
    among = active_units(get_locale_code()) if access.can_administer(current_user) else []
    unit = visible_unit_or_404(remembered.get("unit"), among=among)
    args = {name: value for name, value in remembered.items() if name != "unit"}
    back = url_for("inboxes.inbox", unit_code=unit.code, **args)
    case = queries.case_by_reference(reference)
    if case is None or not access.can_view_case(current_user, case):
        abort(404)
    filter_name = args.get("filter", queries.DEFAULT_FILTER)
    person_id = current_user.id
    leads = access.can_lead_unit(current_user, unit.id)
    if filter_name == queries.MEMBER_FILTER and leads:
        person_id = member_or_404(unit.id, parse_id(args.get("member"))).id
    elif filter_name not in queries.filters_for(leads):
        filter_name = queries.DEFAULT_FILTER
    sort = args.get("sort") if args.get("sort") in queries.SORTS else queries.DEFAULT_SORT
    columns = queries.sort_columns(sort, get_locale_code())
    today = clock.today()
    following = queries.next_case_reference(unit.id, filter_name, person_id, today,
                                            next_banking_day(today, clock.timezone()),
                                            columns, args.get("order") == "desc", case)
    if following is None:
        flash(_("No more cases in this list."), "info")
        return redirect(back)
    return redirect(url_for("cases.show", reference=following))


@bp.route("/inbox/<unit_code>/export.csv")
@login_required
def export(unit_code):
    """The filtered inbox as CSV for Excel; the message text stays out."""
    unit = visible_unit_or_404(unit_code)
    filter_name = request.args.get("filter", queries.DEFAULT_FILTER)
    if filter_name not in queries.filters_for(access.can_lead_unit(current_user, unit.id)):
        filter_name = queries.DEFAULT_FILTER
    today = clock.today()
    next_bd = next_banking_day(today, clock.timezone())
    header = [_("Reference"), _("Received"), _("Due"), _("Estimated decision"), _("Status"),
              _("Type"), _("Topic"), _("Segment"), _("Reply by"), _("Language"), _("Assignee"),
              _("Customer"), _("Customer number"), _("Sensitive data removed")]
    language, tz = get_locale_code(), clock.timezone()
    # Read before the audit commit expires them: the rows stream after this view returns.
    unit_id, user_id = unit.id, current_user.id

    # Titles translated once for the file, not once per row; one table per kind, as members of
    # two kinds may be the same string.
    status, kind, segment, channel, speaks = (
        {member: str(member.title) for member in enum}
        for enum in (CaseStatus, CaseType, Segment, ReplyChannel, Language))
    yes = _("yes")

    def rows():
        for row in queries.export_rows(unit_id, filter_name, user_id, today, next_bd):
            topic = Topic.name_for(language, row.name, row.name_fi, row.name_sv)
            yield [
                row.reference, format_moment(row.received_at, tz), format_date(row.due_date),
                format_date(row.estimated_decision_date) if row.estimated_decision_date else "",
                status[row.status], kind[row.case_type], topic, segment[row.segment],
                channel[row.reply_channel] if row.reply_channel else "", speaks[row.language],
                row.full_name or "", row.contact_name or row.customer_name or "",
                row.customer_number or "", yes if row.masked_kinds else "",
            ]

    return csv_download(header, rows(), f"{unit.code}-{filter_name}-{today.isoformat()}.csv",
                        export="inbox", unit=unit.code, filter=filter_name)


@bp.route("/inbox/<unit_code>/assign", methods=["POST"])
@login_required
def assign_many(unit_code):
    """The team lead gives the selected cases to one member, e.g. when someone is away."""
    unit = visible_unit_or_404(unit_code)
    if not access.can_lead_unit(current_user, unit.id):
        abort(403)
    form = AssignManyForm()
    form.member.choices = [SelectChoice(u.id, u.full_name) for u in unit_members(unit.id)]
    back = safe_next_path(request.form.get("back")) or url_for("inboxes.inbox", unit_code=unit.code)
    if not form.validate_on_submit():
        flash(_("Choose a member of the unit to assign the cases to."), "error")
        return redirect(back)
    # Each box says "case id:version", so a case changed since the list was loaded is caught.
    versions = {}
    for value in request.form.getlist("case_ids"):
        case_id, _colon, version = value.partition(":")
        if parse_id(case_id) and parse_id(version):
            versions[int(case_id)] = int(version)
    if not consume_token(form.token.data):
        return redirect(back)
    try:
        moved = commit_change(lambda: operations.assign_many(
            current_user._get_current_object(), unit.id, list(versions), form.member.data,
            now=clock.now(), versions=versions))
    except PermissionError:
        abort(403)
    except CaseChanged:
        flash(_("A selected case changed while you assigned. Nothing was assigned; look again."),
              "error")
        return redirect(back)
    except Refusal as error:
        show_refusal(error)
        return redirect(back)
    member = db.session.get(User, form.member.data)
    flash(_("Assigned %(count)s cases to %(name)s.", count=len(moved), name=member.full_name),
          "success")
    return redirect(back)


@bp.route("/workload/<unit_code>")
@login_required
def workload(unit_code):
    unit = visible_unit_or_404(unit_code)
    if not access.can_lead_unit(current_user, unit.id):
        abort(403)
    today = clock.today()
    stamp = stamps.stamps([unit.id])[unit.id]
    (counts, _held), loads = inbox_cache.cached(figures.counts(unit.id, stamp, today),
                                       figures.workload(unit.id, stamp, today))
    members = list(unit_members(unit.id))
    # Someone who left the unit but still holds its cases is listed too.
    missing = set(loads) - {m.id for m in members} - {None}
    if missing:
        members += queries.members_by_id(missing)
    rows = [(m, loads.get(m.id, (0, 0, 0))) for m in members]
    return render_template("inboxes/workload.html", unit=unit, rows=rows, counts=counts)


@bp.route("/my-cases")
@login_required
def my_cases():
    today = clock.today()
    unit_ids = sorted(access.member_unit_ids(current_user))
    stamp_of = stamps.stamps(unit_ids)

    def case_list():
        cases = queries.my_cases(current_user.id, unit_ids, MY_CASES_LIMIT)
        if not cases:
            return ""
        return render_template("inboxes/_my_cases.html", limit=MY_CASES_LIMIT,
                               rows=list_rows.rows(cases, _badges(cases, today)))

    (fragment,) = inbox_cache.cached(figures.my_cases(current_user, stamp_of, today,
                                                      get_locale_code(), MY_CASES_LIMIT, case_list))
    return render_template("inboxes/my_cases.html", case_list=inbox_cache.html(fragment))
