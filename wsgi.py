"""The app, for a WSGI server (`gunicorn wsgi:app`) and for the flask command (`flask --app wsgi`).

Without FLASK_CONFIG a server is production. The flask command also reads instance/FLASK_CONFIG,
which the quick start writes, so a checkout set up for the demo stays one in every terminal; and
when the configuration is incomplete it still lists every command, with one line on what to set.
"""

import os

import click
from flask.cli import FlaskGroup

from config import ConfigurationError, checkout_config
from feedback_intranet import create_app, long_lived


def _flask_command_context():
    """The click context the flask command loads the app in; None under a WSGI server."""
    context = click.get_current_context(silent=True)
    if context is not None and isinstance(context.find_root().command, FlaskGroup):
        return context
    return None


def _stop():
    raise click.exceptions.Exit(1)


def _refusing(command):
    """`command` as `flask --help` lists it; run, it stops before reading (or prompting for) its
    arguments."""
    return click.Command(
        command.name, callback=_stop, help=command.help, short_help=command.short_help,
        hidden=command.hidden, add_help_option=False,
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    )


def _serving():
    """The app for a WSGI server's worker. What it built at start lives as long as the worker:
    set aside, the collector's full passes no longer walk it (one took 130 ms in a worker that had
    served a while, and a full pass came every few hundred requests); feedback_intranet/long_lived
    sets aside what the first requests built too."""
    app = create_app()
    long_lived.set_aside("at start")
    return app


def _load():
    context = _flask_command_context()
    if context is None:
        return _serving()
    name = os.environ.get("FLASK_CONFIG") or checkout_config()
    try:
        return create_app({"CONFIG": name} if name else None)
    except ConfigurationError as error:
        if context.parent is not None:
            # A command that uses the app, such as the development server: it stops here.
            raise click.ClickException(str(error)) from None
        # The flask command itself, listing its commands or finding the one to run: it lists them
        # all and says what to set; whichever is run stops.
        click.secho(f"Error: {error}", err=True, fg="red")
        # Logging settings of its own too: the error may be LOG_FORMAT's or LOG_LEVEL's.
        app = create_app({"CONFIG": "production", "LOG_FORMAT": "text", "LOG_LEVEL": "INFO"},
                         check=False)
        for command_name, command in list(app.cli.commands.items()):
            app.cli.commands[command_name] = _refusing(command)
        return app


app = _load()
