"""Processes the local stack starts: is a recorded PID still ours, its group, stopping it, free ports.

Every PID is recorded with its start time and command line (psutil); a PID that no longer matches is
never signalled (after a reboot it may belong to anything). On Linux the start time is also recorded as
the kernel keeps it, in clock ticks since boot with the boot's id: that does not move when the wall
clock is adjusted, while psutil's `create_time` (boot time from the wall clock + ticks) does.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import psutil

CREATE_TIME_TOLERANCE_S = 1.0  # psutil's start time can move by about a second when the clock is adjusted
_BOOT_ID = Path("/proc/sys/kernel/random/boot_id")


_PORT_FLOOR = 10_000  # below it live the usual services' ports (9092, 9200, 5432, ...)


def ephemeral_range() -> tuple[int, int]:
    """The ports the kernel hands out by itself (to a socket bound to port 0, or connecting out)."""
    try:
        low, high = map(int, Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    except (OSError, ValueError):
        return 32768, 60999  # Linux's default
    return low, high


def free_ports(n: int) -> list[int]:
    """Ports free now on loopback, below the kernel's ephemeral range (held open together so they differ).

    A fault drill stops a service and starts it again on its port. A port of the ephemeral range may meanwhile be
    handed to anything that listens on port 0 or connects out (a client retrying the stopped service may even
    connect to itself), and the service could not come back; a port below the range is never handed out but asked
    for. Where the range leaves no room below it, the kernel picks (port 0)."""
    low, _ = ephemeral_range()
    socks: list[socket.socket] = []
    try:
        for _ in range(50 * n if low - _PORT_FLOOR >= 1000 else 0):
            if len(socks) == n:
                break
            s = socket.socket()
            try:
                s.bind(("127.0.0.1", random.randrange(_PORT_FLOOR, low)))
            except OSError:  # taken (or one of ours already): another
                s.close()
                continue
            socks.append(s)
        while len(socks) < n:
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def signal_quietly(pid: int, sig: int, *, group: bool = False) -> None:
    """Send `sig` to a process (or its group); one that is gone or not ours to signal is left alone."""
    try:
        (os.killpg if group else os.kill)(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def reap(pid: int) -> None:
    """Collect an exited child of ours so it does not linger as a zombie."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def port_open(host: str, port: int) -> bool:
    """True when something accepts connections there."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def process_alive(pid: int) -> bool:
    """True while the process exists and is not a zombie."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def group_members(pgid: int) -> list[int]:
    """PIDs of live processes in a process group."""
    members = []
    for proc in psutil.process_iter(["status"]):
        try:
            if proc.info["status"] != psutil.STATUS_ZOMBIE and os.getpgid(proc.pid) == pgid:
                members.append(proc.pid)
        except (ProcessLookupError, psutil.NoSuchProcess):
            continue
    return members


def kernel_start(pid: int) -> dict:
    """The start of a process as Linux keeps it: `boot_id` and `start_ticks` (field 22 of /proc/<pid>/stat).

    Clock-independent, unlike a wall-clock start time. Empty where /proc does not have it (not Linux).
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        boot_id = _BOOT_ID.read_text().strip()
    except OSError:
        return {}
    fields = stat.rsplit(")", 1)[1].split()  # the command name in parentheses may hold spaces; field 3 follows it
    return {"boot_id": boot_id, "start_ticks": int(fields[19])}


def process_identity(pid: int) -> dict | None:
    """What tells a live process from a later one with the same PID: its start time and command line; None when gone."""
    try:
        proc = psutil.Process(pid)
        with proc.oneshot():
            if proc.status() == psutil.STATUS_ZOMBIE:
                return None
            identity = {"create_time": proc.create_time(), "cmdline": proc.cmdline()}
    except psutil.NoSuchProcess:
        return None
    return {**identity, **kernel_start(pid)}


def launch_identity(pid: int) -> dict:
    """The identity to record with a PID just started; its command line is settled once the program is up."""
    return {**(process_identity(pid) or {"create_time": None, "cmdline": []}), "cmdline_settled": False}


@dataclass(frozen=True)
class ProcessCheck:
    """Whether a recorded PID is still the process that was started: `ours`, `gone`, or `other` (the PID was reused)."""

    verdict: Literal["ours", "gone", "other"]
    detail: str

    @property
    def ours(self) -> bool:
        """True when the PID may be signalled."""
        return self.verdict == "ours"


def check_process(recorded: dict) -> ProcessCheck:
    """Compare a record (`pid`, `create_time`, `cmdline`, `cmdline_settled`) with the process now under that PID.

    The start time must match (see `_same_start`); the command line too once it is settled (a program may
    rewrite it while it starts: Elasticsearch's launcher script execs java, Airflow's api-server sets its
    process title).
    """
    pid = recorded["pid"]
    try:
        current = process_identity(pid)
    except psutil.AccessDenied:
        return ProcessCheck("other", f"pid {pid} is a process this user may not inspect")
    if current is None:
        return ProcessCheck("gone", f"pid {pid} has exited")
    started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(current["create_time"]))
    now = f"now `{describe_command(current['cmdline'])}`, started {started}"
    if recorded.get("create_time") is None:
        return ProcessCheck(
            "other", f"pid {pid} was recorded without its start time, so it cannot be told from another process ({now})"
        )
    if not _same_start(recorded, current):
        return ProcessCheck("other", f"pid {pid} is another process than the one started ({now})")
    if recorded.get("cmdline_settled", True) and current["cmdline"] != recorded.get("cmdline"):
        return ProcessCheck("other", f"pid {pid} runs another command than the one started ({now})")
    return ProcessCheck("ours", f"pid {pid}")


def _same_start(recorded: dict, current: dict) -> bool:
    """Same start: by the kernel's ticks since boot where both have them (exact), else by wall-clock start time."""
    if recorded.get("start_ticks") is not None and current.get("start_ticks") is not None:
        return (recorded.get("boot_id"), recorded["start_ticks"]) == (current.get("boot_id"), current["start_ticks"])
    return abs(current["create_time"] - recorded["create_time"]) <= CREATE_TIME_TOLERANCE_S


def describe_command(cmdline: list[str], limit: int = 80) -> str:
    """A command line shortened for a message."""
    text = " ".join(cmdline) or "?"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def stop_group(pid: int, grace_s: float = 30.0) -> None:
    """SIGTERM the process group led by `pid`, SIGKILL what is left after the grace period."""
    for sig, wait in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 10.0)):
        if not group_members(pid):
            break
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + wait
        while group_members(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
    # Reap our own children so they do not linger as zombies.
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
