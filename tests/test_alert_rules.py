"""The Prometheus alert rules (deploy/prometheus/alerts.yml): valid, each shown firing and not
firing by promtool's unit tests, and each telling the person on call how bad it is and what to
do. promtool comes with Debian's prometheus package; .ci/run installs it, and without it these
tests fail rather than skip."""

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

RULES = Path(__file__).resolve().parent.parent / "deploy" / "prometheus"


def promtool(*arguments):
    path = shutil.which("promtool")
    if path is None:
        pytest.fail("promtool is missing: apt-get install prometheus (Debian's package has it)")
    result = subprocess.run([path, *arguments], cwd=RULES, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def alert_rules():
    groups = yaml.safe_load((RULES / "alerts.yml").read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def test_prometheus_accepts_the_rules():
    assert "SUCCESS: 8 rules found" in promtool("check", "rules", "alerts.yml")


def test_each_alert_fires_and_stays_quiet_when_its_unit_tests_say():
    assert "SUCCESS" in promtool("test", "rules", "alerts_test.yml")


def test_every_alert_is_tested_both_firing_and_not_firing():
    tests = yaml.safe_load((RULES / "alerts_test.yml").read_text())["tests"]
    checks = [check for test in tests for check in test["alert_rule_test"]]

    names = {rule["alert"] for rule in alert_rules()}
    assert {check["alertname"] for check in checks if check["exp_alerts"]} == names
    assert {check["alertname"] for check in checks if not check["exp_alerts"]} == names


def test_every_alert_says_how_bad_and_what_to_do():
    for rule in alert_rules():
        assert rule["for"], rule["alert"]
        assert rule["labels"]["severity"] in ("critical", "warning"), rule["alert"]
        assert rule["annotations"]["summary"], rule["alert"]
        assert len(rule["annotations"]["description"]) > 100, rule["alert"]
