#!/usr/bin/env bash
# Installs what pip cannot: kcat (a real downstream Kafka client, for tests), docker-compose (validates
# docker-compose.yml without an engine), prometheus (the server and promtool: the metrics test scrapes a worker
# with a real Prometheus, and promtool checks and tests deploy/prometheus/alerts.yml), chromium with
# NEWSFLOW_WITH_BROWSER=1 (the Airflow UI test);
# checks Java 17 and Maven.
set -euo pipefail

need=()
command -v kcat >/dev/null 2>&1 || need+=(kcat)
command -v docker-compose >/dev/null 2>&1 || need+=(docker-compose)
{ command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1; } || need+=(prometheus)
if [ "${NEWSFLOW_WITH_BROWSER:-0}" = "1" ]; then
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
fi
if [ ${#need[@]} -gt 0 ]; then
  echo "installing Debian packages: ${need[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

command -v java >/dev/null 2>&1 || { echo "java not found: install Java 17 (apt-get install openjdk-17-jre-headless)" >&2; exit 1; }
command -v mvn >/dev/null 2>&1 || { echo "mvn not found: install Maven (apt-get install maven)" >&2; exit 1; }
java_major=$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1)
if [ -z "$java_major" ] || [ "$java_major" -lt 17 ]; then
  echo "Java 17 or newer is needed (found: ${java_major:-unknown})" >&2
  exit 1
fi
