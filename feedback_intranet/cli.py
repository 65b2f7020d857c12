"""Command-line tasks: demo data and the first admin.

What they print is English for the operator, in words a person reads: "answers", "timeline
events", "emails", never the tables they are kept in.
"""

import signal
import threading
import time
from pathlib import Path

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext

from . import audit, clock
from .admin.operations import save_user
from .closing_days import banking_calendar
from .demo import DEMO_PASSWORD, STAFF, refresh_statistics, seed_demo
from .directory.commands import directory_group
from .extensions import db
from .inbound.commands import inbound_group, purge_now
from .inbound.mailbox import MailboxUnavailable
from .logs import get_logger
from .models import AuditKind, CaseStatus, OutboxStatus, Unit, User
from .monitoring import rounds
from .refusals import Refusal
from .rules.counts import counted, listed
from .rules.dates import format_date

log = get_logger(__name__)


def register_cli(app):
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(create_user_command)
    app.cli.add_command(outbox_group)
    app.cli.add_command(retention_group)
    app.cli.add_command(masking_group)
    app.cli.add_command(counters_group)
    app.cli.add_command(reports_group)
    app.cli.add_command(reminders_group)
    app.cli.add_command(directory_group)
    app.cli.add_command(inbound_group)
    app.cli.add_command(backup_command)


@click.command("backup")
@click.argument("destination", type=click.Path(path_type=Path))
@with_appcontext
def backup_command(destination):
    """Back up the database while the intranet runs. SQLite: through its online backup API to
    DESTINATION (a new file, or a directory to name one in); PostgreSQL: pg_dump's custom format
    into the directory DESTINATION (deploy/backup-postgresql)."""
    from .backups import backup_postgresql, backup_sqlite

    began = rounds.started()
    try:
        if db.engine.dialect.name == "postgresql":
            written = backup_postgresql(db.engine, destination)
        else:
            written = backup_sqlite(db.engine, destination, now=clock.now())
    except Refusal as error:
        raise click.ClickException(str(error)) from None
    size = written.stat().st_size
    rounds.finished(rounds.BACKUP, began, {"bytes": size})
    click.echo(f"Backed up the database to {written} ({size / 1024 / 1024:.1f} MB).")


@click.group("outbox")
def outbox_group():
    """The email outbox."""


@click.group("retention")
def retention_group():
    """Personal data kept no longer than needed."""


@retention_group.command("apply")
@click.option("--dry-run", is_flag=True, help="Only count what would be anonymised.")
@click.option("--months", type=int, default=None,
              help="Retention period in months (default: RETENTION_MONTHS, 36).")
@with_appcontext
def retention_apply(dry_run, months):
    """Anonymise closed cases past the retention period; safe to run again, e.g. from cron."""
    from . import retention

    months = months if months is not None else current_app.config["RETENTION_MONTHS"]
    began = rounds.started()
    outcome = retention.apply(clock.now(), months, dry_run=dry_run)
    verb = "Would anonymise" if dry_run else "Anonymised"
    click.echo(f"{verb} the cases closed more than {months} months ago: {outcome.summary()}.")
    if dry_run:
        return
    rounds.finished(rounds.RETENTION, began)
    try:
        click.echo(f"{purge_now()}.")
    except MailboxUnavailable as error:
        db.session.rollback()
        raise click.ClickException(
            f"The cases are done, but the mailbox cannot be used to purge quarantined mail: "
            f"{error}") from error


def _settle(wrong, fix, rebuild, kept, rows):
    """The end of a check of figures kept beside the cases: say they match, or with `fix`
    count them again, or exit with status 1. `rows` names one wrong row and several."""
    if not wrong:
        click.echo(f"The {kept} match the cases.")
        return
    if fix:
        rebuild()
        db.session.commit()
        was = "was" if len(wrong) == 1 else "were"
        click.echo(f"Counted again: {counted(len(wrong), *rows)} {was} wrong.")
        return
    raise SystemExit(1)


def _unit_codes():
    return dict(db.session.execute(sa.select(Unit.id, Unit.code)).all())


@click.group("counters")
def counters_group():
    """The inbox counters."""


@counters_group.command("check")
@click.option("--fix", is_flag=True, help="Count the cases again where the counters differ.")
@with_appcontext
def counters_check(fix):
    """Recompute the inbox counters from the cases and report any difference (exit status 1)."""
    from .inboxes import counters

    wrong = counters.differences()
    units = _unit_codes()
    holders = dict(db.session.execute(sa.select(User.id, User.username).where(
        User.id.in_({key[2] for key in wrong}))).all())
    carried_from = counters.carried_before(clock.today())
    for (unit_id, status, holder_id, wanted, due), (cases, kept) in sorted(wrong.items()):
        held = f"held by {holders.get(holder_id, holder_id)}" if holder_id else "held by nobody"
        when = (f"due before {carried_from.isoformat()}" if due == counters.CARRIED
                else f"due {due.isoformat()}")
        click.echo(f"{units.get(unit_id, unit_id)}, {CaseStatus(status).english_title.lower()}, "
                   f"{held}, {'answer wanted' if wanted else 'no answer wanted'}, "
                   f"{when}: {counted(cases, 'case', 'cases')}, the counter says {kept}")
    _settle(wrong, fix, counters.rebuild, "inbox counters", ("counter", "counters"))


CARRIED_AT_ONCE = 1000  # counter rows a commit of carry-forward moves


@counters_group.command("carry-forward")
@with_appcontext
def counters_carry_forward():
    """Carry the counters of the days before yesterday onto one row per unit, status, holder
    and wish for an answer (nightly): every count stays the same, on fewer rows."""
    from .inboxes import counters

    # A commit per batch: the first run on a long backlog moves thousands of rows, and SQLite's
    # other writers wait for it at most five seconds.
    moved = 0
    while batch := counters.carry_forward(clock.today(), CARRIED_AT_ONCE):
        db.session.commit()
        moved += batch
    click.echo(f"Carried forward {counted(moved, 'counter', 'counters')} of days before "
               f"{counters.carried_before(clock.today()).isoformat()}.")


@click.group("reports")
def reports_group():
    """The report summaries."""


@reports_group.command("check")
@click.option("--fix", is_flag=True, help="Count the cases again where the summaries differ.")
@with_appcontext
def reports_check(fix):
    """Recompute the report summaries from the cases and report any difference (exit status 1)."""
    from .reports import summaries

    connection, tz = db.session.connection(), clock.timezone()
    wrong = summaries.differences(connection, tz)
    units = _unit_codes()
    columns = {table.name: (keys, counts) for table, keys, counts in summaries.TABLES}

    def named(names, values):
        def value(name, value):
            if name.endswith("unit_id"):
                return units.get(value, value)
            if name == "units":  # ",3,7,"
                return "+".join(str(units.get(int(i), i)) for i in value.strip(",").split(","))
            return value
        return ", ".join(f"{_COLUMN_WORDS.get(name, name)} {value(name, v)}"
                         for name, v in zip(names, values, strict=True))

    for (table, key), (made, kept) in sorted(wrong.items(), key=str):
        keys, counts = columns[table]
        click.echo(f"{_SUMMARY_WORDS[table]}, {named(keys, key)}: "
                   f"the cases make {named(counts, made) if made else 'nothing'}; "
                   f"the summary says {named(counts, kept) if kept else 'nothing'}")
    _settle(wrong, fix, lambda: summaries.rebuild(connection, tz), "report summaries",
            ("summary row", "summary rows"))


# The report summaries and their columns as the check names them.
_SUMMARY_WORDS = {
    "report_day": "daily figures",
    "report_answer_day": "answers by day",
    "report_forward_day": "forwards by day",
    "report_reforward_day": "cases forwarded more than once, by day",
}
_COLUMN_WORDS = {
    "unit_id": "unit", "from_unit_id": "from", "to_unit_id": "to", "banking_days": "banking days",
    "by_estimate": "by the estimate", "count": "count",
}


@click.group("reminders")
def reminders_group():
    """The morning summaries."""


@reminders_group.command("send")
@click.option("--dry-run", is_flag=True, help="Only say who would get what; write nothing.")
@with_appcontext
def reminders_send(dry_run):
    """Send this banking morning's summaries (once a day, e.g. from cron at 7.30 Helsinki time)."""
    from .reminders.operations import send_morning

    began = rounds.started()
    run = send_morning(clock.now(), banking_calendar(clock.timezone()), dry_run=dry_run)
    if not dry_run:
        rounds.finished(rounds.REMINDERS, began, {"sent": run.sent, "escalated": run.escalated})
    day = f"{run.day:%A} {format_date(run.day)}"
    if run.closed:
        click.echo(f"{day} is not a banking day ({run.closed}): nothing sent.")
        return
    for line in run.planned:
        click.echo(line)
    if dry_run:
        said = [f"Would send {counted(len(run.planned), 'morning summary', 'morning summaries')}"]
    else:
        said = [f"Sent {counted(run.sent, 'morning summary', 'morning summaries')}"
                f" ({run.with_escalations} with escalations)"]
    if run.nothing_to_tell:
        said.append(f"{counted(run.nothing_to_tell, 'person', 'people')} had nothing to be told")
    if run.already_sent:
        said.append(f"{counted(run.already_sent, 'person', 'people')} had theirs already")
    if run.escalated:
        said.append(f"{counted(run.escalated, 'case', 'cases')} escalated as overdue for the "
                    "first time")
    click.echo(f"{'; '.join(said)}.")


@click.group("masking")
def masking_group():
    """Sensitive numbers kept out of stored text."""


@masking_group.command("reapply")
@click.option("--dry-run", is_flag=True, help="Only count what would be masked.")
@with_appcontext
def masking_reapply(dry_run):
    """Mask stored text again with the current detector; run once after upgrading."""
    from . import remasking

    outcome = remasking.reapply(dry_run=dry_run)
    verb = "Would mask" if dry_run else "Masked"
    click.echo(f"{verb} numbers in {outcome.summary()}.")


@outbox_group.command("send")
@click.option("--loop", is_flag=True, help="Keep delivering (for a service).")
@click.option("--interval", default=5.0, show_default=True, help="Seconds between rounds.")
@with_appcontext
def outbox_send(loop, interval):
    """Deliver the email that is due, once (or keep going with --loop)."""
    from .outbox import deliver_due, run_forever

    if loop:
        stop = threading.Event()

        def stop_after_this_message(signum, _frame):
            log.info("Stopping (%s) once the message being sent is done", signal.Signals(signum).name)
            stop.set()

        # systemd stops the service with SIGTERM: a message the mail server has taken is recorded
        # as sent before the worker ends, so it is never sent again.
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, stop_after_this_message)
        click.echo(f"Delivering the outbox every {interval} s; Ctrl-C or SIGTERM stops.")
        run_forever(interval, stop)
        click.echo("Stopped.")
    else:
        outcome = deliver_due()
        click.echo(listed(counted(outcome[status], *_DELIVERED[status])
                          for status in _DELIVERED if outcome.get(status))
                   or "Nothing was due.")


# How a round of the outbox names what became of its emails.
_DELIVERED = {
    OutboxStatus.SENT: ("email handed to the mail server", "emails handed to the mail server"),
    OutboxStatus.QUEUED: ("email to try again later", "emails to try again later"),
    OutboxStatus.FAILED: ("email that could not be sent", "emails that could not be sent"),
}


@click.command("seed-demo")
@click.option("--password", default=DEMO_PASSWORD, show_default=True,
              help="Password of every demo account.")
@click.option("--cases", default=240, show_default=True, help="Cases to have in total.")
@click.option("--i-know-this-is-production", "production_ok", is_flag=True,
              help="Allow demo accounts in the production configuration.")
@with_appcontext
def seed_demo_command(password, cases, production_ok):
    """Create demo units, staff, customers and cases (safe to run again)."""
    if current_app.config["CONFIG_NAME"] == "production" and not production_ok:
        raise click.ClickException(
            "Refusing to create demo accounts with a known password in production. "
            "Pass --i-know-this-is-production if this really is a demo installation."
        )
    started = time.monotonic()
    with click.progressbar(length=cases, label="Cases", show_pos=True, show_eta=True,
                           item_show_func=lambda rate: rate) as bar:

        def progress(done):
            rate = (bar.pos + done) / max(time.monotonic() - started, 0.001)
            bar.update(done, f"{rate:,.0f} cases/s")

        added = seed_demo(
            clock.now(), banking_calendar(clock.timezone()), password=password, cases=cases,
            progress=progress,
        )
    db.session.commit()
    if added:
        click.echo("Refreshing the database's statistics…")
        refresh_statistics()
    click.echo(f"Added {counted(added, 'case', 'cases')}.")
    click.echo(f"Demo logins (password: {password}):")
    for username, full_name, memberships, is_admin in STAFF:
        roles = ", ".join(f"{code}{' (team lead)' if lead else ''}" for code, lead in memberships.items())
        click.echo(f"  {username:<18} {full_name:<18} {'admin' if is_admin else roles}")


@click.command("create-user")
@click.option("--username", prompt=True)
@click.option("--full-name", prompt=True)
@click.option("--email", prompt=True)
@click.option("--admin/--no-admin", "is_admin", default=False, show_default=True)
@click.option("--unit", "unit_codes", multiple=True, help="Code of a unit to join (repeatable).")
@click.option("--lead", "lead_codes", multiple=True, help="Code of a unit to lead (repeatable).")
@click.password_option()
@with_appcontext
def create_user_command(username, full_name, email, is_admin, unit_codes, lead_codes, password):
    """Create a staff user, e.g. the first admin in production."""
    codes = set(unit_codes) | set(lead_codes)
    units = {u.code: u.id for u in db.session.scalars(sa.select(Unit).where(Unit.code.in_(codes)))}
    missing = codes - set(units)
    if missing:
        raise click.ClickException(f"No such unit: {', '.join(sorted(missing))}")
    roles = {units[code]: "member" for code in unit_codes}
    roles.update({units[code]: "lead" for code in lead_codes})
    try:
        user = save_user(
            None, None, username=username, full_name=full_name, email=email,
            password=password, language="en", is_admin=is_admin, active=True, roles=roles,
            now=clock.now(),
        )
    except Refusal as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    # An operator on the server is an admin too: the new account goes into the audit log.
    audit.record(AuditKind.ADMIN_CHANGE, username=audit.COMMAND_LINE, change="user_created",
                 record="user", id=user.id)
    db.session.commit()
    click.echo(f"Created {user.username}{' (administrator)' if is_admin else ''}.")

