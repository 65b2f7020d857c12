"""`flask --app wsgi inbound ...`: the fetch that a service runs, and the purge that
`retention apply` runs too."""

import threading

import click
from flask import current_app
from flask.cli import with_appcontext

from .. import clock
from ..closing_days import banking_calendar
from ..extensions import db
from ..logs import get_logger
from ..monitoring import rounds
from ..rules.counts import counted
from .mailbox import MailboxUnavailable, Settings, configured
from .operations import Rules, fetch, purge

log = get_logger(__name__)

_OUTCOMES = {"threaded": ("reply threaded", "replies threaded"),
             "new_feedback": ("new feedback", "new feedback"),
             "automatic_reply": ("automatic reply", "automatic replies"),
             "bounce": ("delivery report", "delivery reports"),
             "quarantined": ("quarantined", "quarantined")}


@click.group("inbound")
def inbound_group():
    """Customers' replies and bounces from the feedback mailbox."""


def _settings():
    if not configured(current_app.config):
        raise click.ClickException("IMAP_URL is not set: there is no mailbox to read.")
    try:
        return Settings.from_config(current_app.config)
    except ValueError as error:
        raise click.ClickException(str(error)) from error


def fetch_round(settings):
    """One round: every mail in the mailbox read once; what it did, in words."""
    began = rounds.started()
    rules = Rules.from_config(current_app.config)
    done = fetch(settings, rules, clock_now=clock.now, calendar=banking_calendar(clock.timezone()))
    said = [counted(count, *_OUTCOMES[outcome]) for outcome, count in sorted(done.outcomes.items())]
    if done.finished:
        said.append(f"{counted(done.finished, 'mail', 'mails')} processed earlier taken out")
    rounds.finished(rounds.INBOUND, began, {**done.outcomes, "taken out": done.finished})
    return "; ".join(said) or "no mail"


@inbound_group.command("fetch")
@click.option("--loop", is_flag=True,
              help="Keep fetching every INBOUND_INTERVAL_SECONDS until stopped (a service).")
@with_appcontext
def inbound_fetch(loop):
    """Read the feedback mailbox: thread replies into their cases, open new feedback, record
    automatic replies and delivery reports, quarantine the rest."""
    settings = _settings()
    if not loop:
        try:
            click.echo(f"{fetch_round(settings)}.")
        except MailboxUnavailable as error:
            raise click.ClickException(f"The mailbox cannot be used: {error}") from error
        return
    stop = threading.Event()
    interval = current_app.config["INBOUND_INTERVAL_SECONDS"]
    while not stop.is_set():
        try:
            log.info("Inbound round: %s", fetch_round(settings))
        except MailboxUnavailable as error:
            log.warning("The mailbox cannot be used, trying again in %s s: %s", interval, error)
        except Exception:  # keep the service alive; the next round tries again
            log.exception("Inbound round failed")
        finally:
            db.session.remove()
        stop.wait(interval)


def purge_now():
    """Quarantined mail past its days deleted, old records' senders blanked; in words."""
    config = current_app.config
    settings = Settings.from_config(config) if configured(config) else None
    deleted, blanked = purge(settings, clock.now(), banking_calendar(clock.timezone()),
                             quarantine_days=config["INBOUND_QUARANTINE_DAYS"],
                             log_days=config["INBOUND_LOG_DAYS"])
    db.session.commit()
    mailbox = (f"{counted(deleted, 'quarantined mail', 'quarantined mails')} deleted from "
               f"{settings.quarantine_folder}" if settings else "no mailbox configured")
    return (f"Inbound mail: {mailbox}; the sender blanked in "
            f"{counted(blanked, 'record', 'records')} older than {config['INBOUND_LOG_DAYS']} days")


@inbound_group.command("purge")
@with_appcontext
def inbound_purge():
    """Delete quarantined mail kept INBOUND_QUARANTINE_DAYS, and blank the senders and subjects
    of inbound records older than INBOUND_LOG_DAYS (`retention apply` runs this too)."""
    try:
        click.echo(f"{purge_now()}.")
    except MailboxUnavailable as error:
        db.session.rollback()
        raise click.ClickException(f"The mailbox cannot be used: {error}") from error
