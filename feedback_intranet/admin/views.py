import json

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required, login_user
from sqlalchemy.exc import IntegrityError
from wtforms.fields.choices import SelectChoice

from .. import access, audit, clock, data_requests
from .. import customer_texts as ct
from ..closing_days import (
    add_closing_day,
    badges_changed,
    banking_calendar,
    check_closing_day,
    withdraw_closing_day,
)
from ..directory.client import configured as directory_configured
from ..directory.operations import directory_from_config
from ..extensions import db
from ..i18n import gettext as _
from ..inbound import texts as inbound_texts
from ..inbound.mailbox import configured as mailbox_configured
from ..models import (
    AuditKind,
    ClosingDay,
    DeviatingHours,
    DirectoryRole,
    GroupMapping,
    InboundOutcome,
    Language,
    ReplyTemplate,
    RoutingRule,
    Topic,
    Unit,
    UnitKind,
    User,
)
from ..refusals import Refusal
from ..replies.texts import COMPLAINT_PARAGRAPH, bank_text
from ..rules.dates import format_date
from ..web.downloads import csv_download
from ..web.forms import parse_id, show_refusal
from ..web.locale import get_locale_code
from . import audit_texts, queries
from .audit_log import audit_page, audit_query, audit_rows
from .forms import (
    ROLE_CHOICES,
    AuditFilterForm,
    BankTextsForm,
    ClosingDayForm,
    DataRequestForm,
    DeviatingHoursForm,
    GroupMappingForm,
    LinkToDirectoryForm,
    ReplyTemplateForm,
    RoutingRuleForm,
    TopicForm,
    UnitForm,
    UserForm,
)
from .operations import (
    add_deviating_hours,
    add_group_mapping,
    link_to_directory,
    remove_deviating_hours,
    remove_group_mapping,
    save_bank_texts,
    save_reply_template,
    save_routing_rule,
    save_topic,
    save_unit,
    save_user,
    unlink_from_directory,
)

bp = Blueprint("admin", __name__, url_prefix="/admin")
# Audit events are written in the reader's language from their facts.
bp.add_app_template_filter(audit_texts.describe, "audit_text")
bp.add_app_template_filter(audit_texts.username, "audit_user")


@bp.before_request
@login_required
def require_admin():
    if not access.can_administer(current_user):
        abort(403)


def _posted_roles(units):
    roles = {}
    for unit in units:
        role = request.form.get(f"role-{unit.id}", "")
        if role in ("member", "lead"):
            roles[unit.id] = role
    return roles


def _save(form, save, message):
    """Run an admin change from a valid form: commit it, or put its refusal at the field."""
    try:
        saved = save()
    except Refusal as error:
        db.session.rollback()
        show_refusal(error, form)
        return False
    _commit_audited("saved", record=getattr(saved, "__tablename__", None),
                    id=getattr(saved, "id", None), path=request.path)
    flash(message(saved), "success")
    return True


def _commit_audited(change, **facts):
    """Every admin change is logged in the transaction that makes it."""
    audit.record(AuditKind.ADMIN_CHANGE, change=change, **facts)
    db.session.commit()


def _edit_page(form, title, back_endpoint, back_label):
    return render_template("admin/edit.html", form=form, title=title,
                           back_url=url_for(back_endpoint), back_label=back_label)


@bp.route("/")
def index():
    """What an admin checks first: every unit's backlog, the outbox and the last retention
    run; then the administration's pages, grouped."""
    return render_template("admin/index.html", units=queries.unit_figures(clock.today(), get_locale_code()),
                           outbox=queries.outbox_counts(), retention=queries.last_retention_run())


@bp.route("/users")
def users():
    """Every staff user; `?unit=<id>` the members of one unit (from the landing page's units
    without a team lead)."""
    unit_id = parse_id(request.args.get("unit"))
    unit = db.get_or_404(Unit, unit_id) if unit_id else None
    return render_template("admin/users.html", users=queries.users(unit_id), unit=unit)


@bp.route("/users/new", methods=["GET", "POST"])
@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def edit_user(user_id=None):
    user = db.get_or_404(User, user_id) if user_id else None
    form = UserForm(obj=user, new=user is None)
    units = queries.units(get_locale_code())
    if user is not None and request.method == "GET":
        form.language.data = user.language.value
        # The form edits what was set by hand; the directory's part is shown beside it.
        form.is_admin.data, form.active.data = user.admin_by_hand, not user.deactivated_by_admin
        roles = _by_hand_roles(user)
    else:
        roles = _posted_roles(units)

    def save():
        was_deactivated = user is not None and user.deactivated_by_admin
        was_by_hand = _by_hand_rights(user) if user is not None else None
        saved = save_user(
            current_user, user,
            username=form.username.data, full_name=form.full_name.data,
            email=form.email.data, password=form.password.data,
            language=form.language.data, is_admin=form.is_admin.data,
            active=form.active.data, roles=roles, now=clock.now(),
            must_change_password=form.must_change_password.data,
        )
        if user is not None and was_deactivated != saved.deactivated_by_admin:
            audit.record(AuditKind.ADMIN_CHANGE, id=saved.id, change=(
                "user_deactivated" if saved.deactivated_by_admin else "deactivation_lifted"))
        if was_by_hand is not None and was_by_hand != _by_hand_rights(saved):
            # What an admin grants by hand, apart from what the directory grants.
            audit.record(AuditKind.ADMIN_CHANGE, change="set_by_hand", id=saved.id,
                         **_by_hand_rights(saved))
        return saved

    if form.validate_on_submit() and _save(
            form, save, lambda saved: _("Saved %(name)s.", name=saved.username)):
        if user is not None and user.id == current_user.id:
            login_user(user)  # an admin's new password of their own keeps this session
        return redirect(url_for("admin.users"))
    return _user_page(user, form, roles, LinkToDirectoryForm(formdata=None))


def _user_page(user, form, roles, link_form):
    return render_template(
        "admin/user_form.html", form=form, user=user, units=queries.units(get_locale_code()),
        roles=roles, role_choices=ROLE_CHOICES, link_form=link_form,
        directory_configured=directory_configured(current_app.config),
        from_directory={m.unit_id: m for m in user.memberships if m.from_directory}
        if user else {},
    )


def _by_hand_rights(user):
    return {"admin": user.admin_by_hand,
            "units": sorted(f"{m.unit.code}:{'lead' if m.lead_by_hand else 'member'}"
                            for m in user.memberships if m.by_hand)}


def _by_hand_roles(user):
    return {m.unit_id: "lead" if m.lead_by_hand else "member" for m in user.memberships
            if m.by_hand}


@bp.route("/users/<int:user_id>/link", methods=["POST"])
def link_user(user_id):
    """Link a local account to a directory entry: the person signs in with the directory."""
    user = db.get_or_404(User, user_id)
    link_form = LinkToDirectoryForm()
    local_username = user.username
    if link_form.validate_on_submit():
        try:
            link_to_directory(current_user, user, directory_from_config(current_app.config),
                              link_form.directory_username.data, clock.now())
        except Refusal as error:
            db.session.rollback()
            show_refusal(error, link_form)
        else:
            _commit_audited("directory_linked", id=user.id, directory_id=user.directory_id,
                            dn=user.directory_dn, local_username=local_username)
            flash(_("%(local)s now signs in with the bank's directory as %(username)s; the "
                    "local password is gone.", local=local_username, username=user.username),
                  "success")
            return redirect(url_for("admin.edit_user", user_id=user.id))
    form = UserForm(obj=user)
    form.language.data = user.language.value
    form.is_admin.data, form.active.data = user.admin_by_hand, not user.deactivated_by_admin
    return _user_page(user, form, _by_hand_roles(user), link_form)


@bp.route("/users/<int:user_id>/unlink", methods=["POST"])
def unlink_user(user_id):
    user = db.get_or_404(User, user_id)
    try:
        unlink_from_directory(current_user, user)
    except Refusal as error:
        db.session.rollback()
        show_refusal(error)
    else:
        _commit_audited("directory_unlinked", id=user.id)
        flash(_("%(username)s is a local account again: set a password for them to log in.",
                username=user.username), "success")
    return redirect(url_for("admin.edit_user", user_id=user.id))


@bp.route("/directory-groups", methods=["GET", "POST"])
def directory_groups():
    """Which directory groups make people members or team leads of a unit, or administrators."""
    form = GroupMappingForm()
    units = [u for u in queries.units(get_locale_code()) if u.active]
    form.unit.choices = _unit_choices(units, empty=_("No unit (administrators)"))
    if form.validate_on_submit():
        try:
            mapping = add_group_mapping(current_user, group_dn=form.group_dn.data,
                                        role=form.role.data, unit_id=form.unit.data)
        except Refusal as error:
            db.session.rollback()
            show_refusal(error, form)
        except IntegrityError:
            # Another admin added the same mapping a moment ago.
            db.session.rollback()
            show_refusal(Refusal(_("That group is already mapped so."), "group_dn"), form)
        else:
            _commit_audited("group_mapping_added", id=mapping.id, dn=mapping.group_dn,
                            role=mapping.role.value,
                            unit=mapping.unit.code if mapping.unit else None)
            flash(_("Added the group %(dn)s.", dn=mapping.group_dn), "success")
            return redirect(url_for("admin.directory_groups"))
    return render_template("admin/directory_groups.html", form=form,
                           mappings=queries.group_mappings(get_locale_code()),
                           admin_role=DirectoryRole.ADMIN)


@bp.route("/directory-groups/<int:row_id>/remove", methods=["POST"])
def remove_directory_group(row_id):
    mapping = db.get_or_404(GroupMapping, row_id)
    facts = {"id": mapping.id, "dn": mapping.group_dn, "role": mapping.role.value,
             "unit": mapping.unit.code if mapping.unit else None}
    remove_group_mapping(current_user, mapping)
    _commit_audited("group_mapping_removed", **facts)
    flash(_("Removed the group %(dn)s: its members lose what it gave at their next sign-in or "
            "the next directory sync.", dn=facts["dn"]), "success")
    return redirect(url_for("admin.directory_groups"))


@bp.route("/units")
def units():
    return render_template("admin/units.html", units=queries.units(get_locale_code()))


@bp.route("/units/new", methods=["GET", "POST"])
@bp.route("/units/<int:unit_id>", methods=["GET", "POST"])
def edit_unit(unit_id=None):
    unit = db.get_or_404(Unit, unit_id) if unit_id else None
    form = UnitForm(obj=unit)
    if unit is not None and request.method == "GET":
        form.kind.data = unit.kind.value
        form.escalation_language.data = unit.escalation_language.value
        for text in queries.unit_texts(unit):
            getattr(form, f"greeting_{text.language}").data = text.greeting
            getattr(form, f"signature_{text.language}").data = text.signature
    if form.validate_on_submit() and _save(form, lambda: save_unit(
        current_user, unit,
        code=form.code.data, name=form.name.data, kind=form.kind.data,
        name_fi=form.name_fi.data or "", name_sv=form.name_sv.data or "",
        street_address=form.street_address.data or "",
        postal_code=form.postal_code.data or "", city=form.city.data or "",
        active=form.active.data,
        escalation_email=form.escalation_email.data or "",
        escalation_language=form.escalation_language.data,
        texts={lang.value: (getattr(form, f"greeting_{lang.value}").data or "",
                            getattr(form, f"signature_{lang.value}").data or "")
               for lang in Language},
    ), lambda saved: _("Saved %(name)s.", name=saved.name_in(get_locale_code()))):
        return redirect(url_for("admin.units"))
    return _edit_page(form, unit.name_in(get_locale_code()) if unit else _("New unit"),
                      "admin.units", _("Units"))


@bp.route("/closing-days", methods=["GET", "POST"])
def closing_days():
    """Adding a closing day takes two steps: the page first says how many open cases' badges
    the day changes, and saves the day when the admin confirms."""
    form = ClosingDayForm()
    badge_changes = None
    if form.validate_on_submit():
        calendar = banking_calendar(clock.timezone())
        try:
            if form.confirmed.data == "yes":
                add_closing_day(current_user, form.day.data, form.reason.data, calendar,
                                get_locale_code())
                _commit_audited("closing_day_added", day=form.day.data.isoformat())
                flash(_("Added %(day)s as a closing day. Due dates already promised do not "
                        "change.", day=format_date(form.day.data)), "success")
                return redirect(url_for("admin.closing_days"))
            check_closing_day(form.day.data, calendar, get_locale_code())
            badge_changes = badges_changed(form.day.data, clock.today(), calendar)
        except Refusal as error:
            db.session.rollback()
            show_refusal(error, form)
        except IntegrityError:
            # Another admin closed the same day a moment ago.
            db.session.rollback()
            show_refusal(Refusal(_("%(day)s is already a closing day.",
                                   day=format_date(form.day.data)), "day"), form)
    return render_template("admin/closing_days.html", form=form, badge_changes=badge_changes,
                           days=queries.closing_days(), today=clock.today())


@bp.route("/closing-days/<int:row_id>/withdraw", methods=["POST"])
def withdraw_day(row_id):
    closing_day = db.get_or_404(ClosingDay, row_id)
    try:
        withdraw_closing_day(current_user, closing_day, now=clock.now(), today=clock.today())
    except Refusal as error:
        db.session.rollback()
        show_refusal(error)
    else:
        _commit_audited("closing_day_withdrawn", day=closing_day.day.isoformat())
        flash(_("Withdrew the closing day %(day)s: it is a banking day again. Due dates already "
                "promised do not change.", day=format_date(closing_day.day)), "success")
    return redirect(url_for("admin.closing_days"))


def _unit_choices(units, empty=None):
    choices = [SelectChoice(0, empty)] if empty else []
    return choices + [SelectChoice(unit.id, unit.name_in(get_locale_code()))
                      for unit in units if unit.active]


@bp.route("/topics")
def topics():
    return render_template("admin/topics.html", topics=queries.topics(get_locale_code(), active_first=True))


@bp.route("/topics/new", methods=["GET", "POST"])
@bp.route("/topics/<int:topic_id>", methods=["GET", "POST"])
def edit_topic(topic_id=None):
    topic = db.get_or_404(Topic, topic_id) if topic_id else None
    form = TopicForm(obj=topic)
    central_units = [u for u in queries.units(get_locale_code()) if u.kind == UnitKind.CENTRAL_UNIT]
    form.central_unit.choices = _unit_choices(central_units, empty=_("None"))
    if topic is not None and request.method == "GET":
        form.central_unit.data = topic.central_unit_id or 0
    if form.validate_on_submit() and _save(form, lambda: save_topic(
        current_user, topic, code=form.code.data, name=form.name.data,
        central_unit_id=form.central_unit.data, active=form.active.data,
        name_fi=form.name_fi.data or "", name_sv=form.name_sv.data or "",
    ), lambda saved: _("Saved %(name)s.", name=saved.name_in(get_locale_code()))):
        return redirect(url_for("admin.topics"))
    return _edit_page(form, topic.name_in(get_locale_code()) if topic else _("New topic"),
                      "admin.topics", _("Topics"))


@bp.route("/routing-rules")
def routing_rules():
    return render_template("admin/routing_rules.html", rules=queries.routing_rules())


@bp.route("/routing-rules/new", methods=["GET", "POST"])
@bp.route("/routing-rules/<int:rule_id>", methods=["GET", "POST"])
def edit_routing_rule(rule_id=None):
    rule = db.get_or_404(RoutingRule, rule_id) if rule_id else None
    form = RoutingRuleForm(obj=rule)
    form.topic.choices = [SelectChoice(t.id, t.name_in(get_locale_code()))
                          for t in queries.topics(get_locale_code())]
    form.unit.choices = _unit_choices(queries.units(get_locale_code()))
    if rule is not None and request.method == "GET":
        form.topic.data, form.unit.data = rule.topic_id, rule.unit_id
        form.segment.data = rule.segment.value if rule.segment else ""
    if form.validate_on_submit() and _save(form, lambda: save_routing_rule(
        current_user, rule, name=form.name.data, topic_id=form.topic.data,
        segment=form.segment.data, unit_id=form.unit.data, active=form.active.data,
    ), lambda saved: _("Saved the rule %(name)s.", name=saved.name)):
        return redirect(url_for("admin.routing_rules"))
    return _edit_page(form, rule.name if rule else _("New routing rule"), "admin.routing_rules",
                      _("Routing rules"))


@bp.route("/reply-templates")
def reply_templates():
    return render_template("admin/reply_templates.html", templates=queries.reply_templates())


@bp.route("/reply-templates/new", methods=["GET", "POST"])
@bp.route("/reply-templates/<int:template_id>", methods=["GET", "POST"])
def edit_reply_template(template_id=None):
    template = db.get_or_404(ReplyTemplate, template_id) if template_id else None
    form = ReplyTemplateForm(obj=template)
    form.topic.choices = [SelectChoice(0, _("Any topic"))] + [
        SelectChoice(t.id, t.name_in(get_locale_code())) for t in queries.topics(get_locale_code())]
    if template is not None and request.method == "GET":
        form.topic.data, form.language.data = template.topic_id or 0, template.language.value
    if form.validate_on_submit() and _save(form, lambda: save_reply_template(
        current_user, template, title=form.title.data, topic_id=form.topic.data,
        language=form.language.data, body=form.body.data, active=form.active.data,
    ), lambda saved: _("Saved the template %(title)s.", title=saved.title)):
        return redirect(url_for("admin.reply_templates"))
    return _edit_page(form, template.title if template else _("New reply template"),
                      "admin.reply_templates", _("Reply templates"))


@bp.route("/texts", methods=["GET", "POST"])
def texts():
    form = BankTextsForm()
    if request.method == "GET":
        for lang in Language:
            getattr(form, f"complaint_{lang.value}").data = bank_text(
                COMPLAINT_PARAGRAPH, lang.value, ct.COMPLAINT_PARAGRAPH)
    if form.validate_on_submit() and _save(form, lambda: save_bank_texts(
        current_user, COMPLAINT_PARAGRAPH,
        {lang.value: getattr(form, f"complaint_{lang.value}").data for lang in Language},
    ), lambda _saved: _("Saved the complaint paragraph.")):
        return redirect(url_for("admin.texts"))
    return _edit_page(form, _("The bank's standard texts"), "admin.users", _("Staff"))


@bp.route("/service-hours", methods=["GET", "POST"])
def service_hours():
    form = DeviatingHoursForm()
    if form.validate_on_submit() and _save(form, lambda: add_deviating_hours(
        current_user, day=form.day.data, segment=form.segment.data, opens=form.opens.data,
        closes=form.closes.data, reason=form.reason.data,
    ), lambda saved: _("Saved the hours of %(day)s.", day=format_date(saved.day))):
        return redirect(url_for("admin.service_hours"))
    return render_template("admin/service_hours.html", form=form, rows=queries.deviating_hours())


@bp.route("/service-hours/<int:row_id>/remove", methods=["POST"])
def remove_service_hours(row_id):
    remove_deviating_hours(current_user, db.get_or_404(DeviatingHours, row_id))
    _commit_audited("deviating_hours_removed", id=row_id)
    flash(_("Removed; the regular hours apply that day."), "success")
    return redirect(url_for("admin.service_hours"))


@bp.route("/outbox")
def outbox():
    return render_template("admin/outbox.html", messages=queries.latest_outbox_messages())


@bp.route("/inbound-mail")
def inbound_mail():
    """What became of the mail read from the feedback mailbox; masked, as stored."""
    outcome = request.args.get("outcome", "")
    chosen = InboundOutcome(outcome) if outcome in set(InboundOutcome) else None
    return render_template("admin/inbound_mail.html", chosen=chosen, outcomes=list(InboundOutcome),
                           mails=queries.latest_inbound_mail(chosen),
                           describe=inbound_texts.describe,
                           configured=mailbox_configured(current_app.config))


def _audit_filters():
    form = AuditFilterForm(request.args)
    form.validate()
    if form.errors:
        return form, None
    return form, audit_query(username=form.user.data or "", kind=form.kind.data or "",
                             reference=form.case.data or "", start=form.start.data,
                             end=form.end.data, tz=clock.timezone())


@bp.route("/audit")
def audit_log():
    form, query = _audit_filters()
    rows, older = audit_page(query, parse_id(request.args.get("before"))) if query is not None \
        else ([], None)
    return render_template("admin/audit.html", form=form, rows=rows, older=older,
                           args=form.query_args())


@bp.route("/audit.csv")
def audit_csv():
    form, query = _audit_filters()
    if query is None:
        # Not a file of nothing: the page, with the wrong filter explained at its field.
        return render_template("admin/audit.html", form=form, rows=[], older=None,
                               args=form.query_args()), 400
    header = [_("Time"), _("Event"), _("User"), _("Address"), _("Case"), _("Customer id"),
              _("Detail")]
    tz = clock.timezone()

    def rows():
        for event in audit_rows(query):
            yield [f"{event.at.astimezone(tz):%Y-%m-%d %H:%M:%S}", event.kind.title,
                   audit_texts.username(event), event.address, event.case_reference,
                   event.customer_id or "", audit_texts.describe(event)]

    return csv_download(header, rows(), f"audit-{clock.today().isoformat()}.csv",
                        export="audit_log", filters=request.query_string.decode()[:200])


@bp.route("/data-request", methods=["GET", "POST"])
def data_request():
    """Everything held about one customer, as a JSON download; the request is audited."""
    form = DataRequestForm()
    if form.validate_on_submit():
        customer, cases = data_requests.find(form.customer_number.data or "", form.email.data or "")
        if customer is None and not cases:
            form.customer_number.errors.append(_("Nothing is held about such a customer."))
        else:
            how = "customer_number" if form.customer_number.data else "email"
            # The audit names the customer by id only, never by the number or email given.
            audit.record(AuditKind.DATA_REQUEST, customer_id=customer.id if customer else None,
                         found_by=how, cases=len(cases))
            db.session.commit()
            body = json.dumps(data_requests.report(customer, cases), ensure_ascii=False, indent=2)
            filename = f"data-request-{clock.today().isoformat()}.json"
            return Response(body, content_type="application/json; charset=utf-8",
                            headers={"Content-Disposition": f'attachment; filename="{filename}"'})
    return render_template("admin/data_request.html", form=form)
