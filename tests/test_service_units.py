"""The systemd units in deploy/systemd: valid to systemd, fenced in, running real commands of
the app, on a schedule that never runs a job twice at once, reading an environment file that
names every setting."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from config import ConfigurationError, ProductionConfig

ROOT = Path(__file__).resolve().parent.parent
SYSTEMD = ROOT / "deploy" / "systemd"
INSTALL = "/opt/feedback-intranet"
ENVIRONMENT = SYSTEMD / "feedback-intranet.env.example"
SERVICES = sorted(SYSTEMD.glob("*.service"))
TIMERS = sorted(SYSTEMD.glob("*.timer"))
needs_systemd = pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                                   reason="systemd-analyze is not installed")


def read_unit(path):
    """{section: [(key, value), ...]}, in the file's order (a key may come more than once)."""
    sections, section = {}, None
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            section = sections.setdefault(line.strip("[]"), [])
        else:
            key, _, value = line.partition("=")
            section.append((key.strip(), value.strip()))
    return sections


def values(path, section, key):
    return [value for name, value in read_unit(path).get(section, []) if name == key]


def value(path, section, key):
    (found,) = values(path, section, key) or [None]
    return found


def read_environment(path=ENVIRONMENT):
    """{name: value} of the lines that set a variable, as systemd's EnvironmentFile= reads them."""
    settings = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, setting = line.partition("=")
            settings[name.strip()] = setting.strip().strip("\"'")
    return settings


def installed(units, folder):
    """The units as installed from this checkout: the app at ROOT, the virtualenv the tests run
    in (systemd checks that every program a unit starts exists)."""
    for unit in units:
        text = unit.read_text().replace(f"{INSTALL}/.venv/bin", str(Path(sys.executable).parent))
        (folder / unit.name).write_text(text.replace(INSTALL, str(ROOT)))
    return sorted(folder.iterdir())


@needs_systemd
def test_systemd_finds_nothing_wrong_in_any_unit(tmp_path):
    result = subprocess.run(["systemd-analyze", "verify", "--man=no",
                             *installed([*SERVICES, *TIMERS], tmp_path)],
                            capture_output=True, text=True)
    # A setting systemd cannot read is only a warning ("ignoring"): any line about ours fails.
    complaints = [line for line in (result.stdout + result.stderr).splitlines()
                  if "feedback-intranet" in line]
    assert (result.returncode, complaints) == (0, [])


@needs_systemd
def test_every_service_is_fenced_in_as_systemd_rates_it(tmp_path):
    # --threshold is in tenths: every service's exposure is at most 2.0 of 10 ("OK").
    result = subprocess.run(["systemd-analyze", "security", "--offline=yes", "--threshold=20",
                             *installed(SERVICES, tmp_path)], capture_output=True, text=True)
    assert result.returncode == 0, [line for line in result.stdout.splitlines() if "→" in line]


# Who runs it, where, with which settings, behind which fences.
SAME_IN_EVERY_SERVICE = (
    "User", "Group", "WorkingDirectory", "EnvironmentFile", "UMask", "NoNewPrivileges",
    "ProtectSystem", "ProtectHome", "PrivateTmp", "PrivateDevices", "CapabilityBoundingSet",
    "RestrictAddressFamilies", "SystemCallFilter",
)


def test_every_service_runs_as_the_intranets_own_user_with_the_same_settings_and_fences():
    fences = {service.name: {key: values(service, "Service", key) for key in SAME_IN_EVERY_SERVICE}
              for service in SERVICES}
    web = fences["feedback-intranet-web.service"]
    assert web["User"] == ["feedback-intranet"] and web["ProtectSystem"] == ["strict"]
    assert web["EnvironmentFile"] == ["/etc/feedback-intranet/feedback-intranet.env"]
    assert web["WorkingDirectory"] == [INSTALL]
    assert {name for name, fence in fences.items() if fence != web} == set()


def test_each_timer_starts_a_oneshot_service_so_a_run_never_overlaps_the_next():
    """A oneshot service stays "activating" until its command ends, and systemd starts a unit
    that is already starting no second time: the timer's next elapse waits for the run."""
    assert TIMERS
    for timer in TIMERS:
        service = timer.with_suffix(".service")
        assert service in SERVICES and value(timer, "Timer", "Unit") is None, timer.name
        assert value(service, "Service", "Type") == "oneshot", service.name
        # A run that hangs would hold back every later one.
        assert value(service, "Service", "TimeoutStartSec"), service.name
        assert value(timer, "Timer", "Persistent") == "true", timer.name
        assert value(timer, "Install", "WantedBy") == "timers.target", timer.name
    oneshots = {s for s in SERVICES if value(s, "Service", "Type") == "oneshot"}
    assert oneshots == {timer.with_suffix(".service") for timer in TIMERS}


def test_the_email_worker_is_restarted_whatever_stopped_it_for_as_long_as_it_takes():
    worker = SYSTEMD / "feedback-intranet-outbox.service"
    assert value(worker, "Service", "Restart") == "always"
    assert value(worker, "Unit", "StartLimitIntervalSec") == "0"
    assert value(worker, "Service", "ExecStart").endswith(" outbox send --loop")


def test_the_web_process_starts_its_metrics_directory_empty_each_time():
    """prometheus_client's multiprocess files live in the web unit's runtime directory, which
    systemd creates empty at each start and removes at each stop."""
    web = SYSTEMD / "feedback-intranet-web.service"
    (runtime,) = values(web, "Service", "RuntimeDirectory")
    assert values(web, "Service", "Environment") == [f"PROMETHEUS_MULTIPROC_DIR=%t/{runtime}"]
    assert value(web, "Service", "RuntimeDirectoryPreserve") is None
    # Only the web process writes there: no other unit, nor the file they all read, names it.
    assert "PROMETHEUS_MULTIPROC_DIR" not in read_environment()
    assert [s.name for s in SERVICES if "PROMETHEUS_MULTIPROC_DIR" in s.read_text()] == [web.name]


def flask_commands():
    """(unit, the words after `flask --app wsgi`) of every flask command a unit runs."""
    for service in SERVICES:
        for key in ("ExecStart", "ExecStartPre", "ExecStartPost"):
            for line in values(service, "Service", key):
                words = line.split()
                if words[0] == f"{INSTALL}/.venv/bin/flask":
                    assert words[1:3] == ["--app", "wsgi"], service.name
                    yield service.name, words[3:]


def test_every_flask_command_a_unit_runs_is_a_command_of_the_app_with_those_options(app):
    commands = dict(flask_commands())
    assert len(commands) == 8
    runner = app.test_cli_runner()
    for service, words in commands.items():
        # --help stops before the command runs, but after its words and options are parsed:
        # an unknown command or option fails with a usage error.
        result = runner.invoke(args=[*words, "--help"])
        assert result.exit_code == 0, (service, words, result.output)
        assert "Usage:" in result.output


def test_the_web_unit_runs_gunicorn_on_the_app_with_the_checkouts_settings():
    (start,) = values(SYSTEMD / "feedback-intranet-web.service", "Service", "ExecStart")
    program, *arguments = start.split()
    assert program == f"{INSTALL}/.venv/bin/gunicorn"
    assert arguments == ["-c", "deploy/gunicorn.conf.py", "wsgi:app"]
    assert (ROOT / "deploy" / "gunicorn.conf.py").is_file()


def settings_the_code_reads():
    """Every environment variable the app, its configuration and its gunicorn settings read."""
    reads = r"(?:environ\.get\(|environ\[|getenv\(|_bool\(|_int\(|_float\(|_hours\()"
    pattern = re.compile(reads + r"""\s*["']([A-Z][A-Z0-9_]+)["']""")
    files = [ROOT / "config.py", ROOT / "wsgi.py", *(ROOT / "deploy").glob("*.py"),
             *(ROOT / "feedback_intranet").rglob("*.py")]
    return {name for path in files for name in pattern.findall(path.read_text())}


def test_the_environment_file_names_every_setting_the_code_reads():
    text = ENVIRONMENT.read_text()
    set_by_units = {setting.partition("=")[0]
                    for service in SERVICES for setting in values(service, "Service", "Environment")}
    named = {name for name in settings_the_code_reads()
             if re.search(rf"^#?{name}=", text, re.MULTILINE)}
    assert settings_the_code_reads() - named - set_by_units == set()
    assert {"SECRET_KEY", "DATABASE_URL", "INBOX_CACHE_URI", "RATELIMIT_STORAGE_URI"} <= named


def test_the_environment_file_sets_what_the_units_and_production_need():
    settings = read_environment()
    assert settings["FLASK_CONFIG"] == "production"
    # The timers' commands refuse to run without their mailbox and directory; the outbox needs
    # its mail server, the backup its database; production, its secret.
    assert {"IMAP_URL", "LDAP_URL", "MAIL_SERVER", "DATABASE_URL", "SECRET_KEY", "METRICS_TOKEN",
            "LOG_FORMAT", "TRUSTED_PROXIES", "INTRANET_BASE_URL"} <= set(settings)
    # Copied as it is, it does not start: the secret is left for the operator to make.
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        ProductionConfig.check({"SECRET_KEY": settings["SECRET_KEY"]})


def test_the_environment_file_with_a_key_is_a_production_configuration_without_warnings():
    """The app starts from the file alone (plus a key), as the units start it, without a
    warning, and without reaching the database, Redis, the directory or the mailbox: none of
    their hosts exist here."""
    settings = {**read_environment(), "SECRET_KEY": "k" * 64}
    script = ("import wsgi; from config import ProductionConfig; "
              "print(wsgi.app.config['CONFIG_NAME'], *ProductionConfig.warnings(wsgi.app.config))")
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                            text=True, env={"PATH": "/usr/bin:/bin", **settings}, timeout=60)
    assert (result.returncode, result.stdout.strip()) == (0, "production"), result.stderr
