"""The few calls of Airflow's REST API (v2) the tests make against the local Airflow."""

from __future__ import annotations

import time

from pipeline.localstack.airflow import AirflowLocalError, LocalAirflow


class AirflowClient:
    """The few calls of Airflow's REST API (v2) that operators and tests need; token from POST /auth/token."""

    def __init__(self, url: str, username: str, password: str, timeout_s: float = 30.0) -> None:
        import httpx

        self.url = url.rstrip("/")
        self.username, self.password = username, password
        self.http = httpx.Client(base_url=self.url, timeout=timeout_s)
        self._token: str | None = None

    @classmethod
    def for_local(cls, info: LocalAirflow) -> AirflowClient:
        """A client for what `up()` started."""
        return cls(info.url, info.username, info.password)

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self.http.close()

    def token(self) -> str:
        """A JWT for the API (cached; renewed on 401)."""
        if self._token is None:
            response = self.http.post("/auth/token", json={"username": self.username, "password": self.password})
            if response.status_code not in (200, 201):
                raise AirflowLocalError(
                    f"login as {self.username} refused: HTTP {response.status_code} {response.text[:200]}"
                )
            self._token = response.json()["access_token"]
        return self._token

    def _call(self, method: str, path: str, locked_for_s: float = 30.0, **kwargs) -> dict:
        """One API call; a renewed token after a 401. The local Airflow keeps its metadata in SQLite, where the
        scheduler's writes lock out the API's for up to SQLite's 5 s timeout when a fresh Airflow runs its first
        scheduled runs: Airflow answers 500 "Database error" and rolls the request back, so the call is made
        again until `locked_for_s` has passed (a metadata database that takes concurrent writers, PostgreSQL in
        a deployment, never answers so)."""
        deadline = time.monotonic() + locked_for_s
        renewed = False
        while True:
            response = self.http.request(method, path, headers={"Authorization": f"Bearer {self.token()}"}, **kwargs)
            if response.status_code == 401 and not renewed:
                self._token, renewed = None, True
                continue
            if response.status_code == 500 and "Database error" in response.text and time.monotonic() < deadline:
                time.sleep(1)  # the scheduler holds SQLite's write lock; its transaction ends within seconds
                continue
            if response.status_code >= 400:
                raise AirflowLocalError(f"{method} {path}: HTTP {response.status_code} {response.text[:500]}")
            return response.json() if response.content else {}

    def dags(self) -> dict[str, dict]:
        """Every DAG Airflow knows, by id."""
        return {d["dag_id"]: d for d in self._call("GET", "/api/v2/dags", params={"limit": 100})["dags"]}

    def import_errors(self) -> list[dict]:
        """DAG files that failed to import."""
        return self._call("GET", "/api/v2/importErrors")["import_errors"]

    def wait_for_dags(self, dag_ids, timeout_s: float = 90.0) -> dict[str, dict]:
        """Wait until the dag-processor has registered these DAGs; fails naming import errors."""
        deadline = time.monotonic() + timeout_s
        while True:
            known = self.dags()
            if set(dag_ids) <= set(known):
                return known
            if time.monotonic() > deadline:
                errors = self.import_errors()
                raise AirflowLocalError(
                    f"DAGs {sorted(set(dag_ids) - set(known))} not registered after "
                    f"{timeout_s:.0f}s; import errors: {errors}"
                )
            time.sleep(1)  # polling interval of a deadline wait

    def unpause(self, dag_id: str) -> None:
        """Unpause a DAG (a run of a paused DAG stays queued silently)."""
        self._call("PATCH", f"/api/v2/dags/{dag_id}", json={"is_paused": False})

    def trigger(self, dag_id: str, conf: dict | None = None) -> str:
        """Start a run now; returns its run id."""
        return self._call("POST", f"/api/v2/dags/{dag_id}/dagRuns", json={"logical_date": None, "conf": conf or {}})[
            "dag_run_id"
        ]

    def dag_run(self, dag_id: str, run_id: str) -> dict:
        """One run."""
        return self._call("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}")

    def task_instances(self, dag_id: str, run_id: str) -> list[dict]:
        """The task instances of a run (mapped ones one per map index)."""
        return self._call("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances", params={"limit": 1000})[
            "task_instances"
        ]

    def wait_for_run(self, dag_id: str, run_id: str, timeout_s: float = 180.0) -> str:
        """Wait until a run has finished; returns its state (`success` or `failed`)."""
        deadline = time.monotonic() + timeout_s
        while True:
            state = self.dag_run(dag_id, run_id)["state"]
            if state in ("success", "failed"):
                return state
            if time.monotonic() > deadline:
                tis = {
                    t["task_id"] + (f"[{t['map_index']}]" if t.get("map_index", -1) >= 0 else ""): t["state"]
                    for t in self.task_instances(dag_id, run_id)
                }
                raise AirflowLocalError(f"{dag_id} run {run_id} still {state} after {timeout_s:.0f}s; tasks: {tis}")
            time.sleep(1)  # polling interval of a deadline wait
