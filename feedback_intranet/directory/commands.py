"""`flask --app wsgi directory ...`: the sync that cron runs every few minutes."""

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext

from .. import clock
from ..extensions import db
from ..models import Unit
from ..monitoring import rounds
from ..rules.counts import counted, listed
from .client import DirectoryUnavailable
from .operations import DISABLED, GONE, OUTSIDE_GROUP, directory_from_config, sync

_WHY = {DISABLED: "disabled in the directory", GONE: "no longer in the directory",
        OUTSIDE_GROUP: "not in LDAP_ALLOWED_GROUP"}
_DETAILS = {"full_name": "name", "email": "email", "language": "language"}
_GROUPS = {"member": "now a member of {unit}", "no_longer_member": "no longer a member of {unit}",
           "team_lead": "now team lead of {unit}", "no_longer_team_lead": "no longer team lead of {unit}",
           "admin": "now an administrator", "no_longer_admin": "no longer an administrator"}


@click.group("directory")
def directory_group():
    """Signing in with the bank's directory."""


@directory_group.command("sync")
@with_appcontext
def directory_sync():
    """Bring every directory user in line with the directory: details, units, team leads and
    admin rights from groups; deactivate the disabled and gone (their sessions end)."""
    directory = directory_from_config(current_app.config)
    if directory is None:
        raise click.ClickException("LDAP_URL is not set: there is no directory to sync with.")
    began = rounds.started()
    try:
        run = sync(directory, clock.now())
    except DirectoryUnavailable as error:
        db.session.rollback()
        raise click.ClickException(
            f"The directory cannot be reached, nothing changed: {error}") from error
    db.session.commit()
    rounds.finished(rounds.DIRECTORY_SYNC, began, {"checked": run.checked,
                                                   "changed": len(run.changed)})
    units = dict(db.session.execute(sa.select(Unit.id, Unit.name)).all())
    for username, followed in run.changed:
        said = []
        if followed.details:
            said.append(f"{listed(_DETAILS[name] for name in followed.details)} updated")
        said += [_GROUPS[change].format(unit=units.get(unit_id, unit_id))
                 for change, unit_id in followed.groups]
        if followed.deactivated:
            said.append(f"deactivated ({_WHY[followed.deactivated]}), sessions ended")
        if followed.reactivated:
            said.append("reactivated (the directory enables them again)")
        click.echo(f"{username}: {'; '.join(said)}.")
    deactivated = sum(1 for _, followed in run.changed if followed.deactivated)
    reactivated = sum(1 for _, followed in run.changed if followed.reactivated)
    click.echo(f"Checked {counted(run.checked, 'directory user', 'directory users')}: "
               f"{len(run.changed)} changed, {deactivated} deactivated, "
               f"{reactivated} reactivated.")
