"""Airflow 3 on this machine without Docker: the project's dags/ with SQLite metadata, on loopback.

The four components (api-server, scheduler, dag-processor, triggerer) run as separate processes,
each in its own process group (setsid) with its PID, start time and command line recorded in
`<home>/local-airflow.json`; a recorded PID that is no longer that process is never signalled.
`down()` stops each group (SIGTERM, a second SIGTERM after ~10 s, SIGKILL at the deadline) and
checks that no process of this Airflow home is left. `airflow standalone` is not used: killing it
orphans its children. The NEWSFLOW_* settings are passed to the components, and so to every task.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import psutil

from pipeline.config import PROJECT_ROOT, Settings
from pipeline.localstack.processes import (
    ProcessCheck,
    check_process,
    free_ports,
    group_members,
    launch_identity,
    port_open,
    process_identity,
    reap,
    signal_quietly,
)

COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
STATE = "local-airflow.json"
PASSWORDS = "passwords.json"
DAGS_FOLDER = PROJECT_ROOT / "dags"
# /api/v2/monitor/health names the components this way.
HEALTH_KEYS = {"scheduler": "scheduler", "dag-processor": "dag_processor", "triggerer": "triggerer"}


class AirflowLocalError(RuntimeError):
    """The local Airflow could not start or stop; the message says why (with the log tail)."""


@dataclass(frozen=True)
class LocalAirflow:
    """Where the local Airflow answers and how to log in."""

    url: str
    username: str
    password: str
    home: str
    pids: dict[str, int]
    logs: str


@dataclass(frozen=True)
class ComponentStatus:
    """One component in `status()`."""

    name: str
    pid: int | None
    running: bool
    healthy: bool | None
    log: str


@dataclass(frozen=True)
class AirflowStatus:
    """What `newsflow stack status` shows for Airflow."""

    url: str | None
    username: str | None
    password: str | None
    home: str
    running: bool
    healthy: bool
    components: list[ComponentStatus]
    detail: str

    def to_dict(self) -> dict:
        """For `--json`."""
        return asdict(self)


# -- start -----------------------------------------------------------------------------------------


def home_of(settings: Settings) -> Path:
    """AIRFLOW_HOME of the local Airflow: NEWSFLOW_AIRFLOW_HOME, else <stack dir>/airflow."""
    return Path(settings.airflow_home or Path(settings.stack_dir) / "airflow")


def up(settings: Settings, home: Path | None = None, port: int | None = None, say=print) -> LocalAirflow:
    """Start the local Airflow (a no-op when it already runs healthy) and wait until every component is healthy."""
    home = Path(home or home_of(settings)).resolve()
    port = int(port or settings.airflow_port)
    current = _load(home)
    if current and all(_check(current, n).ours for n in current["pids"]):
        if _health_ok(_health(current["url"]))[0]:
            say(f"airflow: already running at {current['url']} (home {home})")
            return _info(current)
        say("airflow: running but not healthy; restarting it")
    if current:
        down(home)
    if port_open("127.0.0.1", port):
        raise AirflowLocalError(f"port {port} on 127.0.0.1 is taken: choose another with NEWSFLOW_AIRFLOW_PORT")
    home.mkdir(parents=True, exist_ok=True)
    (home / "logs").mkdir(exist_ok=True)
    username = settings.airflow_username
    password = settings.airflow_password.get_secret_value()
    env = environment(settings, home, port)
    _write_private(home / PASSWORDS, json.dumps({username: password}))
    _migrate(home, env, say)
    url = f"http://127.0.0.1:{port}"
    state: dict[str, Any] = {"url": url, "port": port, "username": username, "home": str(home), "pids": {}, "logs": {}}
    try:
        for name in COMPONENTS:
            log_path = home / "logs" / f"{name}.log"
            with log_path.open("ab") as log:
                process = subprocess.Popen(
                    [_airflow(), name],
                    env=env,
                    cwd=home,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # setsid: its own process group
                )
            state["pids"][name] = process.pid
            state.setdefault("identities", {})[name] = launch_identity(process.pid)
            state["logs"][name] = str(log_path)
            _save(home, state)
        _wait_healthy(state, settings.airflow_start_timeout_s, say)
        _settle(home, state)
    except BaseException:
        # Our own unreaped children: their PIDs cannot have been reused, so no identity check is needed.
        _stop_groups(dict(state["pids"]), 10.0, 20.0, say)
        for pid in state["pids"].values():
            reap(pid)
        down(home)
        raise
    say(f"airflow: healthy at {url} — log in as {username} / {password}")
    return _info(state)


def environment(settings: Settings, home: Path, port: int) -> dict[str, str]:
    """The components' environment: this one without any AIRFLOW*/NEWSFLOW_* leftovers, plus ours."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "NEWSFLOW_", "_AIRFLOW"))}
    env.update(settings.environment())
    secret_file = home / "secrets.json"
    if not secret_file.exists():
        _write_private(secret_file, json.dumps({"jwt": secrets.token_urlsafe(48), "api": secrets.token_urlsafe(32)}))
    keys = json.loads(secret_file.read_text())
    log_port, trigger_log_port = free_ports(2)
    parallelism = str(settings.airflow_parallelism)
    env.update(
        {
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",  # Airflow spawns `airflow` by name
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": parallelism,
            "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": parallelism,
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
            "AIRFLOW__CORE__AUTH_MANAGER": "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{settings.airflow_username}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / PASSWORDS),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__API__SECRET_KEY": keys["api"],
            "AIRFLOW__API_AUTH__JWT_SECRET": keys["jwt"],
            "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
            # The log servers bind every interface and default to fixed ports another Airflow may hold.
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(log_port),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(trigger_log_port),
            "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
        }
    )
    return env


def _airflow() -> str:
    candidate = Path(sys.executable).parent / "airflow"
    return str(candidate) if candidate.exists() else "airflow"


def _migrate(home: Path, env: dict[str, str], say) -> None:
    """`airflow db migrate` the first time (and after an Airflow upgrade)."""
    from importlib.metadata import version

    marker = home / ".migrated"
    wanted = version("apache-airflow-core")
    if marker.exists() and marker.read_text().strip() == wanted and (home / "airflow.db").exists():
        return
    say("airflow: migrating the metadata database (first start)")
    done = subprocess.run([_airflow(), "db", "migrate"], env=env, cwd=home, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise AirflowLocalError(
            f"`airflow db migrate` failed ({done.returncode}):\n{(done.stdout + done.stderr)[-4000:]}"
        )
    marker.write_text(wanted)


def _wait_healthy(state: dict, timeout_s: float, say) -> None:
    deadline = time.monotonic() + timeout_s
    last = "no answer yet"
    while time.monotonic() < deadline:
        dead = [n for n in state["pids"] if not _check(state, n).ours]
        if dead:
            raise AirflowLocalError(f"airflow {', '.join(dead)} exited during start:\n" + _tails(state, dead))
        ok, last = _health_ok(_health(state["url"]))
        if ok:
            return
        time.sleep(0.5)  # polling interval of a deadline wait
    raise AirflowLocalError(
        f"airflow not healthy after {timeout_s:.0f}s ({last}):\n" + _tails(state, list(state["pids"]))
    )


def _health(url: str) -> dict | None:
    import httpx

    try:
        response = httpx.get(f"{url}/api/v2/monitor/health", timeout=3)
        return response.json() if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError):
        return None


def _health_ok(health: dict | None) -> tuple[bool, str]:
    if health is None:
        return False, "api-server not answering"
    bad = [k for k in ("metadatabase", *HEALTH_KEYS.values()) if (health.get(k) or {}).get("status") != "healthy"]
    return (not bad, "healthy" if not bad else f"not healthy yet: {', '.join(bad)}")


# -- stop ------------------------------------------------------------------------------------------


def down(home: Path, grace_s: float = 10.0, deadline_s: float = 20.0, say=lambda _: None) -> list[str]:
    """Stop every component's process group and verify nothing of this Airflow home is left.

    The scheduler, triggerer and dag-processor go first (their running tasks still need the
    api-server to report their state), then the api-server. Each gets SIGTERM; after `grace_s` a
    second SIGTERM (the scheduler waits for running tasks until signalled again) to the whole group;
    at `deadline_s` SIGKILL to the group. A recorded PID that is no longer the component started
    (another process after a reboot) is left alone, with a message.
    """
    home = Path(home).resolve()
    state = _load(home)
    if not state:
        leftovers = processes_of(home)
        if leftovers:
            for pid in leftovers:
                signal_quietly(pid, signal.SIGKILL)
        return []
    groups = {}
    for name, pid in state["pids"].items():
        check = _check(state, name)
        if check.ours:
            groups[name] = pid
        else:
            say(f"airflow {name}: not running: {check.detail}; signalled nothing")
    _stop_groups({n: p for n, p in groups.items() if n != "api-server"}, grace_s, deadline_s, say)
    _stop_groups({n: p for n, p in groups.items() if n == "api-server"}, grace_s, deadline_s, say)
    for pid in groups.values():
        reap(pid)
    left = _wait_gone(groups.values(), home, 10.0)
    if left:
        for pid in left:
            signal_quietly(pid, signal.SIGKILL)
        left = _wait_gone(groups.values(), home, 5.0)
    if left:
        raise AirflowLocalError(f"processes of the local Airflow survived SIGKILL: {left}")
    (home / STATE).unlink(missing_ok=True)
    return [f"{name} (pid {pid})" for name, pid in groups.items()]


def _stop_groups(groups: dict[str, int], grace_s: float, deadline_s: float, say) -> None:
    """SIGTERM the leaders; SIGTERM leader and group again after the grace period; SIGKILL the groups at the deadline."""
    start = time.monotonic()
    for pgid in groups.values():
        signal_quietly(pgid, signal.SIGTERM)
    escalated = False
    while left := {name: group_members(pgid) for name, pgid in groups.items() if group_members(pgid)}:
        elapsed = time.monotonic() - start
        if elapsed > deadline_s:
            say(f"airflow: SIGKILL after {deadline_s:.0f}s: {_describe(left)}")
            for pgid in groups.values():
                signal_quietly(pgid, signal.SIGKILL, group=True)
            return
        if elapsed > grace_s and not escalated:
            say(f"airflow: still running after {grace_s:.0f}s, SIGTERM again: {_describe(left)}")
            for pgid in groups.values():
                signal_quietly(pgid, signal.SIGTERM)
                signal_quietly(pgid, signal.SIGTERM, group=True)
            escalated = True
        time.sleep(0.2)  # polling interval of a deadline wait


def _describe(groups: dict[str, list[int]]) -> str:
    def command(pid: int) -> str:
        try:
            return " ".join(psutil.Process(pid).cmdline())[:80]
        except psutil.Error:
            return "?"

    return "; ".join(f"{name}: " + ", ".join(f"{p} ({command(p)})" for p in pids) for name, pids in groups.items())


def _wait_gone(groups, home: Path, timeout_s: float) -> list[int]:
    deadline = time.monotonic() + timeout_s
    while True:
        left = sorted({m for g in groups for m in group_members(g)} | set(processes_of(home)))
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.2)


def processes_of(home: Path) -> list[int]:
    """Live processes (other than this one) whose AIRFLOW_HOME is `home`: catches any that left their group."""
    found = []
    for proc in psutil.process_iter():
        if proc.pid == os.getpid():
            continue
        try:
            if proc.environ().get("AIRFLOW_HOME") == str(home) and proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc.pid)
        except psutil.Error:  # gone meanwhile, or another user's
            continue
    return found


# -- status ----------------------------------------------------------------------------------------


def status(home: Path) -> AirflowStatus:
    """The UI address, the login, and each component's PID, liveness and health."""
    home = Path(home).resolve()
    state = _load(home)
    if not state:
        return AirflowStatus(None, None, None, str(home), False, False, [], "not started")
    health = _health(state["url"])
    ok, detail = _health_ok(health)
    components = []
    for name in COMPONENTS:
        pid = state["pids"].get(name)
        key = HEALTH_KEYS.get(name)
        healthy: bool | None
        if name == "api-server":
            healthy = health is not None
        else:
            healthy = None if health is None else (health.get(key or "") or {}).get("status") == "healthy"
        running = bool(pid) and _check(state, name).ours
        components.append(ComponentStatus(name, pid, running, healthy, state["logs"].get(name, "")))
    password = _password(home, state["username"])
    running = all(c.running for c in components)
    return AirflowStatus(
        state["url"], state["username"], password, str(home), running, running and ok, components, detail
    )


# -- state -----------------------------------------------------------------------------------------


def _load(home: Path) -> dict | None:
    path = home / STATE
    return json.loads(path.read_text()) if path.exists() else None


def _save(home: Path, state: dict) -> None:
    (home / STATE).write_text(json.dumps(state, indent=2))


def _info(state: dict) -> LocalAirflow:
    home = Path(state["home"])
    return LocalAirflow(
        state["url"],
        state["username"],
        _password(home, state["username"]) or "",
        str(home),
        dict(state["pids"]),
        str(home / "logs"),
    )


def _password(home: Path, username: str) -> str | None:
    try:
        return json.loads((home / PASSWORDS).read_text()).get(username)
    except (OSError, ValueError):
        return None


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


def _check(state: dict, name: str) -> ProcessCheck:
    """Whether the PID recorded for a component is still that component (identity from `launch_identity`)."""
    return check_process({"pid": state["pids"][name], **state.get("identities", {}).get(name, {})})


def _settle(home: Path, state: dict) -> None:
    """Record the command lines of healthy components (the api-server sets its process title while it starts)."""
    for name, pid in state["pids"].items():
        current = process_identity(pid)
        if current and _check(state, name).ours:
            state["identities"][name] = {**current, "cmdline_settled": True}
    _save(home, state)


def _tails(state: dict, names: list[str], lines: int = 25) -> str:
    out = []
    for name in names:
        path = Path(state["logs"].get(name, "/dev/null"))
        try:
            tail = "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            tail = "(no log)"
        out.append(f"--- {name} ({path}) ---\n{tail}")
    return "\n".join(out)


# -- API client ------------------------------------------------------------------------------------
