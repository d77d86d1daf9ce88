# syntax=docker/dockerfile:1
# The newsflow image. Two targets:
#   app     (default) the stage workers and the one-shot setup: `newsflow worker <stage>`, `newsflow init`, ...
#   airflow Airflow with newsflow installed, for the DAGs in dags/ (mounted by docker-compose.yml)
# The package carries its schemas and data (it installs as a wheel); it is installed editable here so
# the checkout's sources.yaml and kibana/saved_objects.ndjson stay the defaults (pipeline.config.PROJECT_ROOT).

ARG PYTHON_VERSION=3.11
ARG AIRFLOW_VERSION=3.3.2

FROM python:${PYTHON_VERSION}-slim-bookworm AS app
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
# Dependencies first, from a stub package: this layer is rebuilt only when the dependency pins change.
COPY pyproject.toml constraints.txt README.md ./
RUN mkdir pipeline && touch pipeline/__init__.py \
 && pip install -c constraints.txt -e '.[model]'
COPY pipeline ./pipeline
COPY schemas ./schemas
COPY kibana ./kibana
COPY seeds ./seeds
RUN useradd --system --uid 10001 --create-home --home-dir /home/newsflow newsflow
USER newsflow
ENV NEWSFLOW_CACHE_DIR=/home/newsflow/.cache/newsflow
CMD ["newsflow", "--help"]

FROM apache/airflow:${AIRFLOW_VERSION}-python${PYTHON_VERSION} AS airflow
ARG AIRFLOW_VERSION
USER root
RUN mkdir -p /opt/newsflow/pipeline && chown -R airflow:0 /opt/newsflow
USER airflow
WORKDIR /opt/newsflow
COPY --chown=airflow:0 pyproject.toml constraints.txt README.md ./
# Pinning apache-airflow to the image's own version keeps pip from moving Airflow while it installs newsflow.
RUN touch pipeline/__init__.py \
 && pip install --no-cache-dir -c constraints.txt -e '.[model]' "apache-airflow==${AIRFLOW_VERSION}"
COPY --chown=airflow:0 pipeline ./pipeline
COPY --chown=airflow:0 schemas ./schemas
COPY --chown=airflow:0 kibana ./kibana
COPY --chown=airflow:0 seeds ./seeds
COPY --chown=airflow:0 sources.yaml ./sources.yaml
WORKDIR /opt/airflow
