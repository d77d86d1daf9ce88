"""The local real stack for `newsflow stack`: Kafka, Elasticsearch and Airflow on loopback, without Docker.

Tooling for a laptop and for the tests; a stage worker never imports it.
"""
