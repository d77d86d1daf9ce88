"""The local real stack without Docker: Kafka (KRaft) and Elasticsearch from Maven Central, on loopback."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pipeline.config import Settings
from pipeline.localstack.processes import (
    check_process,
    free_ports,
    launch_identity,
    port_open,
    process_alive,
    process_identity,
    stop_group,
)
from pipeline.localstack.provision import (
    StackError,
    ensure_service_user,
    es_zip,
    java,
    java_home,
    kafka_classpath,
    kafka_cluster_id,
    kafka_properties,
    run,
    unzip,
    world_traversable,
)

SERVICES = ("kafka", "elasticsearch")


@dataclass(frozen=True)
class ServiceStatus:
    """What `stack status` shows for one service."""

    name: str
    version: str
    address: str
    pid: int | None
    running: bool
    healthy: bool
    detail: str
    log: str


def _say(message: str) -> None:
    print(message, flush=True)


class LocalStack:
    """Provisions, starts, checks and stops the local Kafka and Elasticsearch."""

    def __init__(self, settings: Settings, say: Callable[[str], None] = _say) -> None:
        self.s = settings
        self.say = say
        self.dir = settings.stack_dir.resolve()
        self.cache = settings.cache_dir.resolve()
        self.state_file = self.dir / "state.json"

    # -- state ---------------------------------------------------------------------------------

    def _state(self) -> dict:
        return json.loads(self.state_file.read_text()) if self.state_file.exists() else {}

    def _save(self, state: dict) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        self.state_file.write_text(json.dumps(state, indent=2))

    # -- public -------------------------------------------------------------------------------

    def up(self, services: tuple[str, ...] = SERVICES) -> list[ServiceStatus]:
        """Start what is not running and wait until it is healthy; a no-op for what already is."""
        self.dir.mkdir(parents=True, exist_ok=True)
        starters = {"kafka": self._start_kafka, "elasticsearch": self._start_es}
        for name in [n for n in SERVICES if n in services]:
            start = starters[name]
            current = self._status_of(name)
            if current and current.running and current.healthy:
                self.say(f"{name}: already running (pid {current.pid}, {current.address})")
                continue
            if current and current.running and current.pid:
                self.say(f"{name}: running (pid {current.pid}), waiting for it to be healthy")
                self._wait_healthy(name, current.pid, own=False)
                continue
            if current:
                self.say(f"{name}: {current.detail}; starting a new one")
            start()
        return self.status()

    def down(self, services: tuple[str, ...] = SERVICES) -> list[str]:
        """Stop the services this stack started, by PID and process group; leaves no process.

        A recorded PID is signalled only while it is still the process this stack started (same
        start time and command line): after a reboot it may belong to anything. A record that no
        longer matches is dropped with a message, and nothing is signalled.
        """
        state = self._state()
        stopped = []
        for name in [n for n in reversed(SERVICES) if n in services]:
            info = state.get(name)
            if not info:
                continue
            check = check_process(info)
            if check.ours:
                stop_group(info["pid"])
                stopped.append(f"{name} (pid {info['pid']})")
            else:
                self.say(f"{name}: not running: {check.detail}; removed its stale record, signalled nothing")
            state.pop(name)
            self._save(state)
        return stopped

    def status(self) -> list[ServiceStatus]:
        """Versions, addresses, PIDs and health of both services."""
        return [self._status_of(n) or self._absent(n) for n in SERVICES]

    # -- status -------------------------------------------------------------------------------

    def _absent(self, name: str) -> ServiceStatus:
        version = self.s.kafka_version if name == "kafka" else self.s.es_version
        port = self.s.kafka_port if name == "kafka" else self.s.es_port
        return ServiceStatus(name, version, f"127.0.0.1:{port}", None, False, False, "not started", "")

    def _status_of(self, name: str) -> ServiceStatus | None:
        info = self._state().get(name)
        if not info:
            return None
        check = check_process(info)
        running = check.ours
        healthy, detail = self._health(name, info) if running else (False, f"not running: {check.detail}")
        return ServiceStatus(name, info["version"], info["address"], info["pid"], running, healthy, detail, info["log"])

    def _health(self, name: str, info: dict) -> tuple[bool, str]:
        host, port = info["address"].rsplit(":", 1)
        if name == "kafka":
            return (True, "accepting connections") if port_open(host, int(port)) else (False, "port closed")
        try:
            with urllib.request.urlopen(
                f"http://{info['address']}/_cluster/health?wait_for_status=yellow&timeout=1s", timeout=3
            ) as response:
                health = json.loads(response.read())
        except OSError as exc:
            return False, f"no answer: {exc}"
        return health.get("status") in ("green", "yellow") and not health.get(
            "timed_out"
        ), f"cluster {health.get('status')}"

    def _wait_healthy(self, name: str, pid: int, own: bool = True) -> None:
        """Wait for health; on failure stop the group. `own`: our unreaped child, whose PID cannot have been reused."""
        deadline = time.monotonic() + self.s.stack_start_timeout_s
        while time.monotonic() < deadline:
            status = self._status_of(name)
            if status and status.healthy:
                self._settle(name, pid)
                self.say(f"{name}: healthy ({status.detail}) at {status.address}, pid {pid}")
                return
            if not (process_alive(pid) if own else status and status.running):
                break
            time.sleep(0.5)
        info = self._state().get(name, {})
        tail = _tail(Path(info.get("log", "/dev/null")))
        if own or (info and check_process(info).ours):
            stop_group(pid)
        state = self._state()
        state.pop(name, None)
        self._save(state)
        raise StackError(
            f"{name} did not become healthy within {self.s.stack_start_timeout_s:.0f}s "
            f"(process {'exited' if not process_alive(pid) else 'stopped'}).\nLast lines of {info.get('log')}:\n{tail}"
        )

    def _record(self, name: str, pid: int, version: str, port: int, log: Path) -> None:
        """Record a service just started: its PID with what identifies the process (see `check_process`)."""
        state = self._state()
        state[name] = {
            "pid": pid,
            **launch_identity(pid),
            "version": version,
            "address": f"127.0.0.1:{port}",
            "log": str(log),
        }
        self._save(state)

    def _settle(self, name: str, pid: int) -> None:
        """Record the command line a healthy service runs under (Elasticsearch's launcher script has exec'd java by then)."""
        state = self._state()
        info = state.get(name)
        if info and info["pid"] == pid and not info.get("cmdline_settled") and check_process(info).ours:
            current = process_identity(pid)
            if current:
                info.update(cmdline=current["cmdline"], cmdline_settled=True)
                self._save(state)

    # -- Kafka --------------------------------------------------------------------------------

    def kafka_classpath(self) -> str:
        """The broker's classpath (see `provision.kafka_classpath`)."""
        return kafka_classpath(self.s, self.say)

    def _start_kafka(self) -> None:
        home = self.dir / "kafka"
        data, logs = home / "data", home / "logs"
        data.mkdir(parents=True, exist_ok=True)
        logs.mkdir(parents=True, exist_ok=True)
        for port in (self.s.kafka_port, self.s.kafka_controller_port):
            if port_open("127.0.0.1", port):
                raise StackError(
                    f"kafka: port {port} is already in use by another process (set NEWSFLOW_KAFKA_PORT / NEWSFLOW_KAFKA_CONTROLLER_PORT)"
                )
        classpath = kafka_classpath(self.s, self.say)
        config = home / "server.properties"
        config.write_text(kafka_properties(self.s, data))
        log4j = home / "log4j2.properties"
        log4j.write_text(KAFKA_LOG4J)
        java_bin = java()
        if not (data / "meta.properties").exists():
            cluster_file = home / "cluster.id"
            if not cluster_file.exists():
                cluster_file.write_text(kafka_cluster_id())
            run(
                [
                    java_bin,
                    "-cp",
                    classpath,
                    f"-Dlog4j2.configurationFile={log4j}",
                    f"-Dkafka.logs.dir={logs}",
                    "kafka.tools.StorageTool",
                    "format",
                    "-t",
                    cluster_file.read_text().strip(),
                    "-c",
                    str(config),
                    "--ignore-formatted",
                ],
                "formatting Kafka storage",
            )
        stdout = logs / "stdout.log"
        with stdout.open("ab") as out:
            proc = subprocess.Popen(
                [
                    java_bin,
                    f"-Xms{self.s.kafka_heap}",
                    f"-Xmx{self.s.kafka_heap}",
                    f"-Dkafka.logs.dir={logs}",
                    f"-Dlog4j2.configurationFile={log4j}",
                    "-cp",
                    classpath,
                    "kafka.Kafka",
                    str(config),
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                cwd=home,
            )
        self._record("kafka", proc.pid, self.s.kafka_version, self.s.kafka_port, logs / "server.log")
        self.say(f"kafka: started pid {proc.pid}, waiting for 127.0.0.1:{self.s.kafka_port}")
        self._wait_healthy("kafka", proc.pid)

    # -- Elasticsearch ------------------------------------------------------------------------

    def es_base(self) -> Path:
        """Where Elasticsearch's files live; outside a private home when it must run as another user."""
        base = self.dir / "elasticsearch"
        if os.geteuid() != 0 or world_traversable(self.dir):
            return base
        digest = hashlib.sha256(str(base).encode()).hexdigest()[:12]
        return Path("/var/tmp/newsflow") / digest / "elasticsearch"

    def es_zip(self) -> Path:
        """The distribution zip (see `provision.es_zip`)."""
        return es_zip(self.s, self.say)

    def _start_es(self) -> None:
        for port in (self.s.es_port, self.s.es_transport_port):
            if port_open("127.0.0.1", port):
                raise StackError(
                    f"elasticsearch: port {port} is already in use by another process (set NEWSFLOW_ES_PORT / NEWSFLOW_ES_TRANSPORT_PORT)"
                )
        base = self.es_base()
        home = base / f"elasticsearch-{self.s.es_version}"
        if not home.exists():
            base.mkdir(parents=True, exist_ok=True)
            unzip(es_zip(self.s, self.say), base)
        conf, data, logs = base / "config", base / "data", base / "logs"
        if not conf.exists():
            shutil.copytree(home / "config", conf)
        # Security off on loopback for the local stack; docker-compose runs with it on.
        (conf / "elasticsearch.yml").write_text("xpack.security.enabled: false\n")
        for path in (data, logs, base / "tmp"):
            path.mkdir(exist_ok=True)
        user = None
        if os.geteuid() == 0:
            user = ensure_service_user()
            for path in [base, *base.rglob("*")]:
                os.chown(path, user.pw_uid, user.pw_gid, follow_symlinks=False)
        env = {
            **os.environ,
            "ES_JAVA_HOME": java_home(),
            "ES_JAVA_OPTS": f"-Xms{self.s.es_heap} -Xmx{self.s.es_heap}",
            "ES_PATH_CONF": str(conf),
            "ES_TMPDIR": str(base / "tmp"),
        }
        env.pop("JAVA_TOOL_OPTIONS", None)
        stdout = logs / "stdout.log"
        settings = {
            "discovery.type": "single-node",
            "network.host": "127.0.0.1",
            "http.port": self.s.es_port,
            "transport.port": self.s.es_transport_port,
            "path.data": data,
            "path.logs": logs,
            "cluster.name": "newsflow-local",
            "cluster.routing.allocation.disk.threshold_enabled": "false",
        }
        args = [str(home / "bin" / "elasticsearch"), "-p", str(base / "es.pid")]
        for key, value in settings.items():
            args += ["-E", f"{key}={value}"]
        with stdout.open("ab") as out:
            proc = subprocess.Popen(
                args,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                start_new_session=True,
                cwd=base,
                user=user.pw_uid if user else None,
                group=user.pw_gid if user else None,
                extra_groups=[] if user else None,
            )
        self._record("elasticsearch", proc.pid, self.s.es_version, self.s.es_port, stdout)
        self.say(f"elasticsearch: started pid {proc.pid} in {base}, waiting for http://127.0.0.1:{self.s.es_port}")
        self._wait_healthy("elasticsearch", proc.pid)


KAFKA_LOG4J = """\
status = warn
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = ${sys:kafka.logs.dir}/server.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
logger.kafka.name = kafka
logger.kafka.level = INFO
logger.apache.name = org.apache.kafka
logger.apache.level = INFO
"""


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"(no log at {path})"


def private_settings(directory: Path, **overrides) -> Settings:
    """Settings for a private stack in `directory` on free loopback ports (tests and benchmarks: runs never collide)."""
    kafka, controller, es, transport = free_ports(4)
    return Settings(
        **{
            "stack_dir": directory,
            "kafka_port": kafka,
            "kafka_controller_port": controller,
            "es_port": es,
            "es_transport_port": transport,
            "bootstrap_servers": f"127.0.0.1:{kafka}",
            "es_url": f"http://127.0.0.1:{es}",
            "dedup_snapshot_dir": directory / "dedup-snapshots",  # throwaway topics leave nothing in the user's cache
            **overrides,
        }
    )
