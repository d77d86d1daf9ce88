"""docker-compose.yml: `docker-compose config` accepts it with .env.example, and it holds the stack we document."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from pipeline.config import Settings
from pipeline.registry import names

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
STAGES = names()  # the registry: a new stage needs its worker service in the compose file too
WORKERS = {f"worker-{s}" for s in STAGES}
IMAGES = {  # service -> image repository (the tag comes from .env)
    "kafka": "apache/kafka",
    "elasticsearch": "docker.elastic.co/elasticsearch/elasticsearch",
    "kibana-password": "docker.elastic.co/elasticsearch/elasticsearch",
    "kibana": "docker.elastic.co/kibana/kibana",
    "postgres": "postgres",
    "libretranslate": "libretranslate/libretranslate",
    "prometheus": "prom/prometheus",
    "setup": "newsflow",
    **{w: "newsflow" for w in WORKERS},
    **{
        a: "newsflow-airflow"
        for a in (
            "airflow-init",
            "airflow-apiserver",
            "airflow-scheduler",
            "airflow-dag-processor",
            "airflow-triggerer",
        )
    },
}
HEALTH_CHECKED = {
    "kafka",
    "elasticsearch",
    "kibana",
    "postgres",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "libretranslate",
    "prometheus",
}
ONE_SHOT = {"setup", "kibana-password", "airflow-init"}
# Settings the lead engineer adds with `newsflow kibana import`; everything else must be a Settings field today.
PENDING_SETTINGS = {"kibana_url", "kibana_username", "kibana_password", "kibana_api_key", "kibana_space"}


def compose_config(*args: str, env_file: Path = ENV_EXAMPLE) -> subprocess.CompletedProcess:
    """`docker-compose config` with every profile and nothing from this process's environment (only the env file counts)."""
    binary = shutil.which("docker-compose")
    if binary is None:
        pytest.fail(
            "docker-compose not found: install the Debian package `docker-compose` "
            "(`make test` installs it through scripts/system-deps.sh)"
        )
    return subprocess.run(
        [
            binary,
            "--profile",
            "libretranslate",
            "--env-file",
            str(env_file),
            "-f",
            str(COMPOSE_FILE),
            "--project-directory",
            str(ROOT),
            "config",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin:/usr/local/bin", "HOME": str(ROOT)},
    )


@pytest.fixture(scope="module")
def config() -> dict:
    """The resolved configuration, as docker-compose prints it."""
    result = compose_config()
    assert result.returncode == 0, f"docker-compose config refused the file:\n{result.stderr}"
    return yaml.safe_load(result.stdout)


def test_the_stack_has_the_documented_services(config: dict) -> None:
    assert set(config["services"]) == set(IMAGES)


def test_images(config: dict) -> None:
    services = config["services"]
    for name, repository in IMAGES.items():
        image = services[name]["image"]
        assert image.rsplit(":", 1)[0] == repository, f"{name}: {image}"
    assert services["kafka"]["image"].split(":")[1].startswith("4."), "Kafka 4.x (KRaft)"
    assert services["elasticsearch"]["image"].split(":")[1].startswith("8.")
    assert services["kibana"]["image"].split(":")[1] == services["elasticsearch"]["image"].split(":")[1]
    for name in ("setup", *WORKERS):
        build = services[name]["build"]
        assert (build["context"], build["target"]) == (str(ROOT), "app"), name
    assert services["airflow-scheduler"]["build"]["target"] == "airflow"


def test_health_checks_and_start_order(config: dict) -> None:
    services = config["services"]
    for name in HEALTH_CHECKED:
        test = services[name].get("healthcheck", {}).get("test")
        assert test and test[0] in ("CMD", "CMD-SHELL"), f"{name} has no health check"
    assert "curl" in " ".join(services["elasticsearch"]["healthcheck"]["test"])
    assert "kafka-broker-api-versions" in " ".join(services["kafka"]["healthcheck"]["test"])

    def condition(service: str, on: str) -> str | None:
        return services[service].get("depends_on", {}).get(on, {}).get("condition")

    for infra in ("kafka", "elasticsearch", "kibana"):
        assert condition("setup", infra) == "service_healthy"
    assert condition("kibana", "kibana-password") == "service_completed_successfully"
    assert condition("kibana-password", "elasticsearch") == "service_healthy"
    for worker in WORKERS:
        assert condition(worker, "setup") == "service_completed_successfully"
    for airflow in ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer"):
        assert condition(airflow, "postgres") == "service_healthy"
        assert condition(airflow, "airflow-init") == "service_completed_successfully"
    for name in ONE_SHOT:
        assert services[name].get("restart", "no") == "no", f"{name} is a one-shot service"


def test_workers_scale_and_run_their_stage(config: dict) -> None:
    services = config["services"]
    for stage in STAGES:
        worker = services[f"worker-{stage}"]
        assert worker["command"] == ["newsflow", "worker", stage]
        # `--scale` needs services without a fixed name or host port
        assert "container_name" not in worker and "ports" not in worker
        assert worker["environment"]["NEWSFLOW_BOOTSTRAP_SERVERS"] == "kafka:9092"
    assert services["setup"]["command"][-1] == "newsflow init && newsflow kibana import"


def test_security_is_on_with_the_password_from_the_env_file(config: dict) -> None:
    env_file = dict(
        line.split("=", 1) for line in ENV_EXAMPLE.read_text().splitlines() if line and not line.startswith("#")
    )
    password = env_file["ELASTIC_PASSWORD"]
    es = config["services"]["elasticsearch"]["environment"]
    assert es["xpack.security.enabled"] == "true"
    assert es["ELASTIC_PASSWORD"] == password
    for name in ("setup", "worker-index", "airflow-scheduler"):
        env = config["services"][name]["environment"]
        assert env["NEWSFLOW_ES_URL"] == "http://elasticsearch:9200"
        assert (env["NEWSFLOW_ES_USERNAME"], env["NEWSFLOW_ES_PASSWORD"]) == ("elastic", password)
    assert config["services"]["kibana"]["environment"]["ELASTICSEARCH_USERNAME"] == "kibana_system"


def test_newsflow_variables_are_settings(config: dict) -> None:
    known = set(Settings.model_fields) | PENDING_SETTINGS
    for name, service in config["services"].items():
        for variable in service.get("environment") or {}:
            if variable.startswith("NEWSFLOW_"):
                assert variable.removeprefix("NEWSFLOW_").lower() in known, f"{name}: unknown setting {variable}"


def test_airflow_mounts_the_dags(config: dict) -> None:
    def mounts(volumes: list) -> set[tuple[str, str]]:  # short syntax (compose 1.x) or long syntax (v2)
        return {(v["source"], v["target"]) if isinstance(v, dict) else tuple(v.split(":")[:2]) for v in volumes}

    for name in ("airflow-scheduler", "airflow-dag-processor", "airflow-apiserver"):
        assert (str(ROOT / "dags"), "/opt/airflow/dags") in mounts(config["services"][name]["volumes"]), name


def test_prometheus_scrapes_every_worker_on_its_metrics_port(config: dict) -> None:
    scrape = yaml.safe_load((ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text())
    (job,) = [j for j in scrape["scrape_configs"] if j["job_name"] == "newsflow-workers"]
    (discovery,) = job["dns_sd_configs"]
    assert set(discovery["names"]) == WORKERS, "every worker service (and only those) is scraped"
    services = config["services"]
    for worker in WORKERS:
        assert services[worker]["environment"]["NEWSFLOW_METRICS_PORT"] == str(discovery["port"]), worker
    assert "NEWSFLOW_METRICS_PORT" not in services["setup"]["environment"], "one-shot commands serve no metrics"
    prometheus = services["prometheus"]
    volumes = {v.split(":")[1]: v.split(":")[0] for v in prometheus["volumes"] if isinstance(v, str)} | {
        v["target"]: v["source"] for v in prometheus["volumes"] if isinstance(v, dict)
    }
    assert volumes["/etc/prometheus"] == str(ROOT / "deploy" / "prometheus")
    assert "--config.file=/etc/prometheus/prometheus.yml" in prometheus["command"]
    assert scrape["rule_files"] == ["alerts.yml"] and (ROOT / "deploy" / "prometheus" / "alerts.yml").is_file()
    assert prometheus["image"].split(":")[1].startswith("v2."), "the rules are tested with Debian's promtool 2.x"


def test_libretranslate_is_optional(config: dict) -> None:
    assert config["services"]["libretranslate"]["profiles"] == ["libretranslate"]
    for name, service in config["services"].items():
        assert "libretranslate" not in (service.get("depends_on") or {}), f"{name} must not need the optional profile"


def test_a_missing_secret_is_a_clear_error(tmp_path: Path) -> None:
    env_file = tmp_path / "incomplete.env"
    env_file.write_text(
        "".join(
            line + "\n" for line in ENV_EXAMPLE.read_text().splitlines() if not line.startswith("ELASTIC_PASSWORD=")
        )
    )
    result = compose_config("-q", env_file=env_file)
    assert result.returncode != 0
    assert "set ELASTIC_PASSWORD in .env" in result.stderr
