"""`newsflow stack up | status | down` on a private stack: idempotent up, down leaves no process."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from pipeline.localstack.processes import group_members, process_alive, process_identity
from pipeline.localstack.stack import SERVICES, LocalStack
from tests.integration.conftest import stack_settings_for
from tests.integration.test_end_to_end import main_env

pytestmark = pytest.mark.integration


def test_up_twice_is_a_no_op_and_down_leaves_no_process(tmp_path, capsys) -> None:
    settings = stack_settings_for(tmp_path / "stack")
    stack = LocalStack(settings)
    try:
        assert main_env(settings, ["stack", "up"]) == 0
        first = {s.name: s.pid for s in stack.status()}
        assert all(s.healthy for s in stack.status())
        capsys.readouterr()

        assert main_env(settings, ["stack", "up"]) == 0
        out = capsys.readouterr().out
        assert "kafka: already running" in out and "elasticsearch: already running" in out
        assert {s.name: s.pid for s in stack.status()} == first

        assert main_env(settings, ["stack", "status", "--strict"]) == 0
        status = capsys.readouterr().out
        assert "8.19.7" in status and str(settings.kafka_port) in status and "healthy" in status

        # Each PID is recorded with what identifies its process, the command line as it runs once healthy
        # (Elasticsearch's launcher script has exec'd java by then).
        state = json.loads(stack.state_file.read_text())
        for name in SERVICES:
            assert state[name]["cmdline_settled"] is True
            now = process_identity(state[name]["pid"])
            assert state[name]["cmdline"] == now["cmdline"]
            assert (state[name]["boot_id"], state[name]["start_ticks"]) == (now["boot_id"], now["start_ticks"])
        assert Path(state["elasticsearch"]["cmdline"][0]).name == "java"

        # A record that no longer matches its process (what a reboot leaves) is dropped, never signalled.
        kafka = state["kafka"]
        stack.state_file.write_text(
            json.dumps({**state, "kafka": {**kafka, "start_ticks": kafka["start_ticks"] - 360_000}})
        )
        try:
            assert main_env(settings, ["stack", "down", "--service", "kafka"]) == 0
            out = capsys.readouterr().out
            assert f"kafka: not running: pid {kafka['pid']} is another process than the one started" in out
            assert "stopped: nothing was running" in out
            assert process_alive(kafka["pid"]) and "kafka" not in json.loads(stack.state_file.read_text())
        finally:
            stack.state_file.write_text(json.dumps(state))  # the true record back, so `down` stops it
    finally:
        main_env(settings, ["stack", "down"])
        shutil.rmtree(stack.es_base(), ignore_errors=True)
    assert all(not group_members(pid) for pid in first.values())
    assert main_env(settings, ["stack", "status", "--strict"]) == 1
    assert "not started" in capsys.readouterr().out


def test_up_fails_clearly_when_a_port_is_taken(tmp_path, capsys) -> None:
    import socket

    settings = stack_settings_for(tmp_path / "stack")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", settings.kafka_port))
        busy.listen()
        assert main_env(settings, ["stack", "up", "--service", "kafka"]) == 1
    assert f"port {settings.kafka_port} is already in use" in capsys.readouterr().err


def test_second_provisioning_needs_no_network(stack_settings, tmp_path, monkeypatch) -> None:
    # The session stack already resolved Kafka and fetched Elasticsearch into the cache; without Maven
    # on PATH (and so without any download) another stack still finds everything it needs.
    settings = stack_settings_for(tmp_path / "other").model_copy(update={"cache_dir": stack_settings.cache_dir})
    monkeypatch.setenv("PATH", "/nonexistent")
    stack = LocalStack(settings)
    classpath = stack.kafka_classpath().split(":")
    assert any("kafka_2.13" in jar for jar in classpath) and all(Path(j).exists() for j in classpath)
    assert stack.es_zip().exists()
