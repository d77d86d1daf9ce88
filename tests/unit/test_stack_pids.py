"""`stack down` / `stack up` signal a recorded PID only while it is still the process that was started."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.config import Settings
from pipeline.localstack import airflow as airflow_local
from pipeline.localstack.processes import (
    check_process,
    ephemeral_range,
    free_ports,
    group_members,
    launch_identity,
    process_identity,
)
from pipeline.localstack.stack import LocalStack


@pytest.fixture
def bystander() -> Iterator[subprocess.Popen]:
    """A live process that is not ours to stop (leads its own process group, as the services do)."""
    proc = subprocess.Popen(["sleep", "60"], start_new_session=True)
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait(timeout=10)


def _stack(tmp_path: Path, records: dict) -> tuple[LocalStack, list[str]]:
    said: list[str] = []
    stack = LocalStack(Settings(stack_dir=tmp_path / "stack"), say=said.append)
    stack.dir.mkdir(parents=True)
    for name, record in records.items():
        records[name] = {"version": "1", "address": "127.0.0.1:1", "log": str(tmp_path / f"{name}.log"), **record}
    stack.state_file.write_text(json.dumps(records))
    return stack, said


def test_down_does_not_signal_a_pid_that_is_now_another_process(tmp_path: Path, bystander) -> None:
    # What a reboot leaves: the recorded PID now belongs to something started later, running something else.
    stale = {
        "pid": bystander.pid,
        "create_time": 1_600_000_000.0,
        "cmdline": ["java", "kafka.Kafka"],
        "cmdline_settled": True,
    }
    stack, said = _stack(tmp_path, {"kafka": stale})

    assert stack.down() == []

    assert bystander.poll() is None, "down() signalled a process it did not start"
    assert group_members(bystander.pid) == [bystander.pid]
    assert "kafka" not in json.loads(stack.state_file.read_text())
    (message,) = said
    assert message.startswith(f"kafka: not running: pid {bystander.pid} is another process than the one started")
    assert "sleep 60" in message and "removed its stale record, signalled nothing" in message


def test_a_reused_pid_with_the_same_start_time_but_another_command_is_not_ours(tmp_path: Path, bystander) -> None:
    identity = process_identity(bystander.pid)
    stale = {
        "pid": bystander.pid,
        "create_time": identity["create_time"],
        "cmdline": ["java", "kafka.Kafka"],
        "cmdline_settled": True,
    }
    stack, said = _stack(tmp_path, {"kafka": stale})

    (kafka, _) = stack.status()
    assert (kafka.running, kafka.healthy) == (False, False)
    assert kafka.detail.startswith(f"not running: pid {bystander.pid} runs another command than the one started")

    assert stack.down() == []
    assert bystander.poll() is None
    assert "runs another command" in said[0]


def test_a_record_without_a_start_time_is_never_signalled(tmp_path: Path, bystander) -> None:
    stack, said = _stack(tmp_path, {"elasticsearch": {"pid": bystander.pid}})  # written by an older newsflow

    assert stack.down() == []
    assert bystander.poll() is None
    assert "recorded without its start time" in said[0]


def test_down_stops_the_process_it_recorded(tmp_path: Path, bystander) -> None:
    stack, said = _stack(tmp_path, {"kafka": {"pid": bystander.pid, **launch_identity(bystander.pid)}})

    assert stack.down() == [f"kafka (pid {bystander.pid})"]

    assert bystander.wait(timeout=10) is not None and said == []
    assert not group_members(bystander.pid)


def test_an_unsettled_command_line_is_checked_by_start_time_alone(bystander) -> None:
    # Between start and health a program may rewrite its command line (Elasticsearch's script execs java).
    record = {"pid": bystander.pid, **launch_identity(bystander.pid)}
    assert check_process({**record, "cmdline": ["/bin/bash", "bin/elasticsearch"]}).ours
    assert not check_process({**record, "cmdline": ["/bin/bash", "bin/elasticsearch"], "cmdline_settled": True}).ours
    assert not check_process({**record, "start_ticks": record["start_ticks"] - 3000}).ours


def test_the_kernel_start_survives_a_wall_clock_adjustment(bystander) -> None:
    # psutil's create_time is boot time (from the wall clock) + ticks: it moves when the VM's clock is set.
    # CI once leaked a whole stack that way: `down` took its own Kafka for another process.
    record = {"pid": bystander.pid, **launch_identity(bystander.pid), "cmdline_settled": True}
    assert record["start_ticks"] > 0 and record["boot_id"]
    assert check_process({**record, "create_time": record["create_time"] - 30}).ours
    assert not check_process({**record, "start_ticks": record["start_ticks"] + 1}).ours
    assert not check_process({**record, "boot_id": "another-boot"}).ours


def test_a_record_without_kernel_ticks_is_checked_by_wall_clock_start(bystander) -> None:
    # Written by an older newsflow, or on a system without /proc.
    record = {"pid": bystander.pid, **launch_identity(bystander.pid), "cmdline_settled": True}
    del record["start_ticks"], record["boot_id"]
    assert check_process(record).ours
    assert check_process({**record, "create_time": record["create_time"] + 0.5}).ours
    assert not check_process({**record, "create_time": record["create_time"] - 30}).ours


def test_a_pid_that_has_exited_is_gone() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    record = {"pid": proc.pid, **launch_identity(proc.pid)}
    proc.wait(timeout=30)
    assert check_process(record).verdict == "gone"


def test_airflow_down_does_not_signal_a_pid_that_is_now_another_process(tmp_path: Path, bystander) -> None:
    home = tmp_path / "airflow"
    home.mkdir()
    (home / airflow_local.STATE).write_text(
        json.dumps(
            {
                "url": "http://127.0.0.1:1",
                "port": 1,
                "username": "admin",
                "home": str(home),
                "pids": {"scheduler": bystander.pid},
                "identities": {
                    "scheduler": {
                        "create_time": 1_600_000_000.0,
                        "cmdline": ["airflow", "scheduler"],
                        "cmdline_settled": True,
                    }
                },
                "logs": {},
            }
        )
    )
    said: list[str] = []

    assert not airflow_local.status(home).components[1].running
    assert airflow_local.down(home, say=said.append) == []

    assert bystander.poll() is None, "down() signalled a process it did not start"
    assert not (home / airflow_local.STATE).exists()
    (message,) = said
    assert message.startswith(f"airflow scheduler: not running: pid {bystander.pid} is another process than the one")
    assert "(now `sleep 60`, started " in message and message.endswith("; signalled nothing")


def test_a_kafka_cluster_id_never_starts_with_a_dash() -> None:
    from pipeline.localstack.provision import kafka_cluster_id as _kafka_cluster_id

    ids = {_kafka_cluster_id() for _ in range(2000)}  # one in 64 random ids starts with `-`
    assert len(ids) == 2000 and not any(i.startswith("-") for i in ids)
    assert all(len(i) == 22 for i in ids)


def test_free_ports_lie_below_the_ephemeral_range_and_are_bindable() -> None:
    # a stopped service's port is then never handed to a socket bound to port 0 or connecting out while it is down
    low, _ = ephemeral_range()
    ports = free_ports(6)
    assert len(set(ports)) == 6
    assert all(10_000 <= p < low for p in ports)
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", ports[0]))
