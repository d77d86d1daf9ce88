"""deploy/prometheus/: promtool accepts the scrape config and the alert rules, the rules' unit tests
(alerts_test.yml) pass, and every newsflow metric the rules name is one the workers export."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
import yaml
from prometheus_client import CollectorRegistry

from pipeline.metrics import Families
from tests.conftest import ROOT

DEPLOY = ROOT / "deploy" / "prometheus"
# The alerts the README and docs/operations.md promise.
PROMISED = {
    "NewsflowConsumerLagGrowing",
    "NewsflowDeadLetterRate",
    "NewsflowNothingIndexed",
    "NewsflowWorkerHeld",
    "NewsflowWorkerFailed",
    "NewsflowTranslationBreakerOpen",
    "NewsflowTranslationPendingGrowing",
}


def promtool(*args: str) -> subprocess.CompletedProcess:
    """promtool from Debian's `prometheus` package, run in deploy/prometheus/ (the files name each other relatively)."""
    binary = shutil.which("promtool")
    if binary is None:
        pytest.fail(
            "promtool not found: install the Debian package `prometheus` "
            "(`make test` installs it through scripts/system-deps.sh)"
        )
    return subprocess.run([binary, *args], capture_output=True, text=True, timeout=120, cwd=DEPLOY)


def rules() -> list[dict]:
    return [rule for group in yaml.safe_load((DEPLOY / "alerts.yml").read_text())["groups"] for rule in group["rules"]]


def test_promtool_accepts_the_alert_rules() -> None:
    done = promtool("check", "rules", "alerts.yml")
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"SUCCESS: {len(rules())} rules found" in done.stdout + done.stderr


def test_promtool_accepts_the_scrape_config() -> None:
    done = promtool("check", "config", "prometheus.yml")
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_alert_rules_unit_tests_pass() -> None:
    done = promtool("test", "rules", "alerts_test.yml")
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_promised_alert_exists_and_is_tested_firing() -> None:
    names = {rule["alert"] for rule in rules()}
    assert names >= PROMISED
    tests = yaml.safe_load((DEPLOY / "alerts_test.yml").read_text())["tests"]
    fired = {case["alertname"] for t in tests for case in t["alert_rule_test"] if case.get("exp_alerts")}
    assert fired == names, f"alerts without a test that makes them fire: {sorted(names - fired)}"


def test_the_rules_name_only_metrics_the_workers_export() -> None:
    registry = CollectorRegistry()
    Families(registry)
    exported = {
        sample_name
        for family in registry.collect()
        for sample_name in (
            family.name,
            f"{family.name}_total",
            f"{family.name}_bucket",
            f"{family.name}_count",
            f"{family.name}_sum",
        )
    }
    named = {m for rule in rules() for m in re.findall(r"\bnewsflow_[a-z_]+", rule["expr"])}
    assert named and named <= exported, f"not exported: {sorted(named - exported)}"
