"""Shared helpers for unit and integration tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"


def wait_for(predicate: Callable[[], object], timeout_s: float, what: str, interval_s: float = 0.2):
    """Poll `predicate` until it returns something truthy, or fail after the deadline saying what was awaited."""
    deadline = time.monotonic() + timeout_s
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval_s)  # polling interval of a condition wait, not a synchronisation sleep
    pytest.fail(f"timed out after {timeout_s}s waiting for {what} (last value: {last!r})")


@pytest.fixture(scope="session")
def seeds_dir() -> Path:
    """The project's five seed articles."""
    return SEEDS


@pytest.fixture(scope="session", autouse=True)
def _quiet_logs():
    """Workers log at WARNING in tests, in-process and in the subprocesses and CLI calls the tests make
    (per-batch info lines cost time and say nothing here)."""
    from pipeline import logs

    logs.configure("WARNING")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NEWSFLOW_LOG_LEVEL", "WARNING")
        yield


@pytest.fixture(scope="session", autouse=True)
def _translation_stays_local(tmp_path_factory):
    """No test reaches a real translation service: the provider is a LibreTranslate-speaking server on
    loopback (its "translation" is the text in upper case) and the cache a file of the session's own."""
    from tests.translate_server import LibreTranslateServer

    server = LibreTranslateServer().start()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NEWSFLOW_TRANSLATE_PROVIDER", "libre")
        mp.setenv("NEWSFLOW_TRANSLATE_BASE_URL", server.url)
        mp.setenv("NEWSFLOW_TRANSLATE_API_KEY", "local-test-key")
        mp.setenv("NEWSFLOW_TRANSLATE_CACHE_PATH", str(tmp_path_factory.mktemp("translate") / "cache.sqlite"))
        try:
            yield server
        finally:
            server.stop()
