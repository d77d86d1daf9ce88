"""What the local services need on disk: the Kafka classpath and the Elasticsearch distribution from Maven
Central (cached, so a second `stack up` needs no network), Java 17, the Kafka configuration, and the system
user Elasticsearch runs as when we are root."""

from __future__ import annotations

import os
import pwd
import shutil
import stat
import subprocess
import uuid
import zipfile
from collections.abc import Callable
from pathlib import Path

from pipeline.config import Settings

POM = Path(__file__).resolve().parent / "pom.xml"  # package data: `newsflow stack up` works from a wheel
ES_GROUP = "org.elasticsearch.distribution.integ-test-zip"
SERVICE_USER = "newsflow"  # Elasticsearch refuses to run as root; as root we run it as this user.


class StackError(RuntimeError):
    """The local stack cannot start or stop; the message says why and what to do."""


def kafka_classpath(settings: Settings, say: Callable[[str], None]) -> str:
    """The broker's classpath, resolved by Maven into the cache once."""
    cache = settings.cache_dir.resolve()
    out = cache / f"kafka-{settings.kafka_version}.classpath"
    if out.exists() and all(Path(j).exists() for j in out.read_text().strip().split(os.pathsep)):
        return out.read_text().strip()
    say(f"kafka: resolving org.apache.kafka:kafka_2.13:{settings.kafka_version} with Maven (once)")
    cache.mkdir(parents=True, exist_ok=True)
    partial = out.with_suffix(f".{os.getpid()}.tmp")
    run(
        [
            "mvn",
            "-q",
            "-B",
            "-f",
            str(POM),
            f"-Dkafka.version={settings.kafka_version}",
            f"-Dmaven.repo.local={cache / 'm2'}",
            "dependency:build-classpath",
            f"-Dmdep.outputFile={partial}",
        ],
        "resolving Kafka with Maven",
    )
    os.replace(partial, out)  # atomic: a concurrent `stack up` never reads half a classpath
    return out.read_text().strip()


def es_zip(settings: Settings, say: Callable[[str], None]) -> Path:
    """The distribution zip, fetched by Maven into the cache once."""
    cache = settings.cache_dir.resolve()
    v = settings.es_version
    path = cache / "m2" / ES_GROUP.replace(".", "/") / "elasticsearch" / v / f"elasticsearch-{v}.zip"
    if not path.exists():
        say(f"elasticsearch: fetching {ES_GROUP}:elasticsearch:{v}:zip with Maven (once)")
        run(
            [
                "mvn",
                "-q",
                "-B",
                f"-Dmaven.repo.local={cache / 'm2'}",
                "dependency:get",
                f"-Dartifact={ES_GROUP}:elasticsearch:{v}:zip",
                "-Dtransitive=false",
            ],
            "fetching Elasticsearch",
        )
    return path


def kafka_properties(s: Settings, data: Path) -> str:
    """One combined broker/controller in KRaft mode on loopback."""
    return f"""\
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:{s.kafka_controller_port}
listeners=PLAINTEXT://127.0.0.1:{s.kafka_port},CONTROLLER://127.0.0.1:{s.kafka_controller_port}
advertised.listeners=PLAINTEXT://127.0.0.1:{s.kafka_port}
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs={data}
num.partitions={s.partitions}
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
message.max.bytes={s.max_message_bytes + 64 * 1024}
replica.fetch.max.bytes={s.max_message_bytes + 64 * 1024}
auto.create.topics.enable=false
"""


def kafka_cluster_id() -> str:
    """A KRaft cluster id: 16 random bytes, URL-safe base64 without padding, not starting with `-`."""
    import base64

    while True:  # `-t -abc…` reads as an option to kafka-storage; Kafka's own Uuid.randomUuid() redraws too
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


def java() -> str:
    java = shutil.which("java")
    if not java:
        raise StackError("java not found on PATH: the stack needs Java 17 (apt-get install openjdk-17-jre-headless)")
    return java


def java_home() -> str:
    home = os.environ.get("JAVA_HOME")
    if home and Path(home, "bin", "java").exists():
        return home
    return str(Path(os.path.realpath(java())).parent.parent)


def run(cmd: list[str], what: str) -> None:
    result = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip().splitlines()[-30:]
        raise StackError(f"{what} failed (exit {result.returncode}): {' '.join(cmd[:4])} …\n" + "\n".join(output))


def unzip(archive: Path, target: Path) -> None:
    """Extract keeping the executable bits (zipfile alone drops them)."""
    with zipfile.ZipFile(archive) as zf:
        for member in zf.infolist():
            path = Path(zf.extract(member, target))
            mode = member.external_attr >> 16
            if mode and not member.is_dir():
                path.chmod(stat.S_IMODE(mode))


def ensure_service_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(SERVICE_USER)
    except KeyError:
        run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SERVICE_USER],
            f"creating the service user {SERVICE_USER!r} (Elasticsearch does not run as root)",
        )
        return pwd.getpwnam(SERVICE_USER)


def world_traversable(path: Path) -> bool:
    """True when another user can reach `path` (every existing ancestor has o+x)."""
    for p in [path, *path.parents]:
        if p.exists() and not (p.stat().st_mode & stat.S_IXOTH):
            return False
    return True
