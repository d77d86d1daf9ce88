"""The docs tell the truth: the settings reference is generated and fresh, every NEWSFLOW_* name they mention
exists, and every `newsflow` command they name is a real one."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from pipeline.config import Settings
from tests.conftest import ROOT

DOCS = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("*.md"))]
# Variables that are not settings: they steer the test and setup scripts.
NOT_SETTINGS = {"NEWSFLOW_WITH_BROWSER", "NEWSFLOW_DRILL_OUTAGE_S", "NEWSFLOW_X"}


def test_the_settings_reference_is_generated_from_the_settings_class() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "configuration_doc.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_setting_a_doc_names_exists(doc) -> None:
    known = {f"NEWSFLOW_{name.upper()}" for name in Settings.model_fields}
    unknown = []
    for name in set(re.findall(r"NEWSFLOW_[A-Z0-9_]*[A-Z0-9](?:_\*)?|NEWSFLOW_[A-Z0-9_]+_\*", doc.read_text())):
        if name in NOT_SETTINGS:
            continue
        if name.endswith("_*"):  # a family, e.g. NEWSFLOW_RETRY_*
            if not any(k.startswith(name[:-1]) for k in known):
                unknown.append(name)
        elif name not in known:
            unknown.append(name)
    assert not unknown, f"{doc.name} names settings that do not exist: {sorted(unknown)}"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_command_a_doc_names_exists(doc) -> None:
    from pipeline.cli import _parser

    commands = set(_parser()._subparsers._group_actions[0].choices)
    named = set(re.findall(r"`newsflow ([a-z]+)", doc.read_text()))
    assert named <= commands, f"{doc.name} names commands that do not exist: {sorted(named - commands)}"
