"""`newsflow run` on every core: each stage worker in its own OS process, several for the expensive stages.

The parent forks one process per worker (`--workers enrich=2` or NEWSFLOW_RUN_WORKERS), before it opens any
connection, so every registered stage (extensions too) exists in the children. Each child is the same
`StageWorker` that `newsflow worker` runs: a member of its stage's consumer group, so N enrich processes share
the partitions of their input topic. The parent only
- gathers the children's progress (for the bars) and final counters (for the table), through a queue;
- decides when the chain is drained, from Kafka: every group's committed offsets equal the end offsets
  (`kafka_io.DrainProbe`), which no single child can know about the others;
- stops them all — on drain, on SIGINT/SIGTERM, at the timeout, or when one exits with an error — with SIGTERM,
  as an operator stops `newsflow worker`: each child finishes its batch, commits, leaves its group and reports.
  (No shared multiprocessing.Event: setting one blocks for ever when a child waiting on it has died.)
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import queue
import random
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field

import structlog

from pipeline import kafka_io, metrics
from pipeline.config import Settings
from pipeline.contracts import Contracts
from pipeline.errors import FatalError, TransientError
from pipeline.registry import StageConfigError, build_stage, freeze_loaded, spec
from pipeline.retry import Backoff, wait_unless
from pipeline.runner import StageWorker, StopRequested, install_signal_handlers

log = structlog.get_logger("newsflow.supervisor")

EXIT_FATAL = 3  # a child that gave up (held too long, breaker open): the same code as `newsflow worker`
EXIT_CONFIG = 2
DRAIN_CHECK_S = 0.5  # how often the parent asks Kafka whether the chain is drained
STOP_GRACE_S = 60.0
_STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}  # a child still running this long after the stop event is terminated


class WorkersSpecError(ValueError):
    """`--workers` / NEWSFLOW_RUN_WORKERS names an unknown stage or a count that is not a positive number."""


def parse_workers(spec: str, stages: Iterable[str], partitions: int) -> dict[str, int]:
    """Worker processes per stage from `enrich=2,translate=2` (`auto`: one per core, at most one per partition);
    stages not named run one process."""
    known = list(stages)
    plan = dict.fromkeys(known, 1)
    for item in (part.strip() for part in spec.split(",")):
        if not item:
            continue
        name, sep, count = item.partition("=")
        name, count = name.strip(), count.strip().lower()
        if not sep or name not in plan:
            raise WorkersSpecError(f"workers {item!r}: expected <stage>=<count> with a stage among {', '.join(known)}")
        if count == "auto":
            plan[name] = max(1, min(os.cpu_count() or 1, partitions))
        elif count.isdigit() and int(count) >= 1:
            plan[name] = int(count)
        else:
            raise WorkersSpecError(f"workers {item!r}: the count must be a whole number ≥ 1 or 'auto'")
        if plan[name] > partitions:
            log.warning(
                "more workers than partitions: the extra ones stay idle",
                stage=name,
                workers=plan[name],
                partitions=partitions,
            )
    return plan


@dataclass
class StageTotals:
    """One stage's counters summed over its processes."""

    processes: int = 0
    consumed: int = 0
    produced: int = 0
    dlq: int = 0
    retries: int = 0
    held_s: float = 0.0

    def add(self, counters: dict) -> None:
        self.consumed += counters["consumed"]
        self.produced += counters["produced"]
        self.dlq += counters["dlq"]
        self.retries += counters["retries"]
        self.held_s = max(self.held_s, counters["held_s"])


@dataclass
class Outcome:
    """How a multi-process run ended."""

    drained: bool = False  # False: stopped at the timeout (or by a failure)
    stopped_by_signal: bool = False
    totals: dict[str, StageTotals] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)  # "<stage>#<n>: <message>" of children that failed
    fatal: bool = False  # a child gave up with the fatal exit code


def run_processes(
    settings: Settings,
    plan: dict[str, int],
    stop: threading.Event,
    *,
    follow: bool = False,
    timeout_s: float | None = None,
    on_start: Callable[[], None] | None = None,
    on_progress: Callable[[str, int], None] | None = None,
) -> Outcome:
    """Run `plan` (stage -> processes) until drained (or, with `follow`, until stopped); see the module doc.

    `stop` is set by the caller's signal handlers; `on_start` runs after the children are forked (start a
    progress display there: its thread must not exist at fork time); `on_progress(stage, n)` per batch."""
    context = multiprocessing.get_context("fork")
    events = context.Queue()
    children: dict[tuple[str, int], multiprocessing.process.BaseProcess] = {}
    slots = [(name, ordinal) for name, count in plan.items() for ordinal in range(count)]  # metrics ports, in order
    shared = {name for name in plan if spec(name).preload is not None}
    # Children are born with SIGTERM/SIGINT blocked and unblock them once their own handlers are in place: a
    # stop that comes right after the fork is then delivered to the worker's handler, not to the parent's copy.
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
    try:
        # The stages with nothing to share start at once; meanwhile this process loads the read-only models the
        # others share copy-on-write (enrich's spaCy pipelines and tables), then forks those.
        for first in (True, False):
            if not first:
                for name in shared:
                    spec(name).preload(settings)  # type: ignore[misc]
                freeze_loaded()
            for slot, (name, ordinal) in enumerate(slots):
                if (name in shared) == first:
                    continue
                port = None if settings.metrics_port is None else settings.metrics_port and settings.metrics_port + slot
                child = context.Process(
                    target=_child,
                    args=(name, ordinal, settings, events, os.getpid(), port),
                    name=f"newsflow-{name}-{ordinal}",
                    daemon=False,
                )
                child.start()
                children[(name, ordinal)] = child
    except BaseException:  # a model that cannot be loaded: the workers already started must not run on alone
        for started in children.values():
            started.terminate()
            started.join()
        raise
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
    outcome = Outcome(totals={name: StageTotals(processes=count) for name, count in plan.items()})
    reported: set[tuple[str, int]] = set()
    if on_start:
        on_start()
    probe: kafka_io.DrainProbe | None = None
    deadline = time.monotonic() + timeout_s if timeout_s else None
    next_check = time.monotonic() + DRAIN_CHECK_S
    try:
        groups: dict[str, Iterable[str]] = {
            settings.group(name): [settings.topic(k) for k in spec(name).sources] for name in plan
        }
        while True:
            _collect(events, outcome, reported, on_progress, timeout_s=0.1)
            if stop.is_set():
                outcome.stopped_by_signal = True
                break
            ended = [key for key, child in children.items() if child.exitcode is not None]
            if ended:  # a worker gave up, crashed or was stopped on its own: the chain is incomplete, stop it
                _collect(events, outcome, reported, on_progress, timeout_s=1.0)
                for key in ended:
                    code = children[key].exitcode
                    if key not in reported:
                        outcome.failures.append(f"{key[0]}#{key[1]}: exited with code {code} without reporting")
                        outcome.fatal = outcome.fatal or code == EXIT_FATAL
                        reported.add(key)
                    elif code == 0:
                        outcome.failures.append(f"{key[0]}#{key[1]}: stopped on its own (signalled?)")
                break
            now = time.monotonic()
            if not follow and now >= next_check:
                if probe is None:
                    try:
                        probe = kafka_io.DrainProbe(settings, groups)
                    except kafka_io.UNREACHABLE:  # the broker is away: the workers wait for it, and so does this
                        probe = None
                if probe is not None and probe.settled():
                    outcome.drained = True
                    break
                next_check = time.monotonic() + DRAIN_CHECK_S
            if deadline and now > deadline:
                break
    finally:
        _stop(children, events, outcome, reported, on_progress)
        if probe is not None:
            probe.close()
    if outcome.stopped_by_signal and not outcome.failures:
        outcome.drained = True  # a clean stop by the operator, as with one process
    return outcome


def _stop(children, events, outcome: Outcome, reported: set, on_progress) -> None:
    """SIGTERM every child, wait for each to report and exit; kill the ones that outlive the grace period."""
    for child in children.values():
        if child.exitcode is None:
            child.terminate()  # SIGTERM: the worker finishes its batch, commits and closes
    deadline = time.monotonic() + STOP_GRACE_S
    while any(child.exitcode is None for child in children.values()) and time.monotonic() < deadline:
        _collect(events, outcome, reported, on_progress, timeout_s=0.2)
    for key, child in children.items():
        if child.exitcode is None:
            log.error("worker did not stop in time: killed", stage=key[0], process=key[1], pid=child.pid)
            child.kill()
        child.join()
    _collect(events, outcome, reported, on_progress, timeout_s=0.0)
    for key, child in children.items():
        if key not in reported and child.exitcode != 0:
            outcome.failures.append(f"{key[0]}#{key[1]}: exited with code {child.exitcode}")
            reported.add(key)


def _collect(events, outcome: Outcome, reported: set, on_progress, timeout_s: float) -> None:
    """Take every event waiting in the queue (waiting up to `timeout_s` for the first)."""
    wait = timeout_s
    while True:
        try:
            event = events.get(timeout=wait) if wait > 0 else events.get_nowait()
        except queue.Empty:
            return
        wait = 0.0
        kind, name, ordinal, *rest = event
        if kind == "progress":
            if on_progress:
                on_progress(name, rest[0])
        elif kind == "done":
            counters, code, message = rest
            if counters is not None:
                outcome.totals[name].add(counters)
            if code != 0:
                outcome.failures.append(f"{name}#{ordinal}: {message}")
                outcome.fatal = outcome.fatal or code == EXIT_FATAL
            reported.add((name, ordinal))


def _die_with_parent(parent: int, stop: threading.Event) -> None:
    """Linux: the kernel sends this worker SIGTERM when the parent dies, so a killed `newsflow run` leaves no
    orphan consuming (elsewhere: best effort, nothing happens)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # it died before the request was in place
        stop.set()


def _start_worker(name: str, settings: Settings, stop: threading.Event) -> StageWorker | None:
    """The stage's worker; while Kafka cannot be reached (a broker restarting just as this process starts) it
    waits with backoff and tries again, and gives up like a held worker after NEWSFLOW_FATAL_AFTER_S. None when
    stopped meanwhile."""
    stage = build_stage(name, settings)  # once: the models
    freeze_loaded()
    backoff, rng, began = (
        Backoff(settings.retry_backoff_initial_s, settings.retry_backoff_max_s),
        random.Random(),
        time.monotonic(),
    )
    for attempt in itertools.count():
        try:
            return StageWorker(stage, settings, Contracts(), stop=stop)
        except (TransientError, *kafka_io.UNREACHABLE) as exc:
            waited = time.monotonic() - began
            if waited > settings.fatal_after_s:
                raise FatalError(f"stage {name}: Kafka unreachable for {waited:.0f} s at start: {exc}") from exc
            if attempt == 0:
                log.warning(
                    "Kafka unreachable as the worker starts, retrying with backoff", stage=name, error=str(exc)[:200]
                )
            if wait_unless(stop, backoff.delay(attempt, rng), back=kafka_io.bootstrap_addresses(settings)):
                return None
    return None


def _child(name: str, ordinal: int, settings: Settings, events, parent: int, metrics_port: int | None) -> None:
    """One worker process: the `newsflow worker` loop, reporting progress and its counters to the parent.
    Its Prometheus metrics are on `metrics_port` (NEWSFLOW_METRICS_PORT + its place in the plan; 0: any)."""
    stop = threading.Event()
    install_signal_handlers(stop)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
    _die_with_parent(parent, stop)
    structlog.contextvars.bind_contextvars(process=ordinal)
    worker = None
    code, message = 0, ""
    try:
        if metrics_port is not None:
            try:
                port = metrics.serve(settings, metrics_port)
            except OSError as exc:
                raise StageConfigError(f"NEWSFLOW_METRICS_PORT: port {metrics_port}: {exc}") from exc
            log.info("metrics served", stage=name, process=ordinal, port=port)
        began = time.monotonic()
        worker = _start_worker(name, settings, stop)
        if worker is None:  # stopped while Kafka was away
            raise StopRequested("stopped before the worker could reach Kafka")
        log.info("worker ready", stage=name, process=ordinal, seconds=round(time.monotonic() - began, 2))
        while not stop.is_set():
            n = worker.step()
            if n:
                events.put(("progress", name, ordinal, n))
    except StopRequested:
        pass
    except StageConfigError as exc:
        code, message = EXIT_CONFIG, str(exc)
    except FatalError as exc:
        code, message = EXIT_FATAL, str(exc)
    except Exception as exc:  # a bug: reported to the parent, which stops the others
        log.exception("worker crashed", stage=name)
        code, message = 1, f"{type(exc).__name__}: {exc}"
    finally:
        counters = None
        if worker is not None:
            try:
                worker.close()
            finally:
                counters = asdict(worker.counters)
        events.put(("done", name, ordinal, counters, code, message))
        events.close()
        events.join_thread()
    sys.exit(code)
