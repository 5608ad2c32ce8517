"""A warm pool of sandboxed grading workers: thread-safe ``submit`` / streaming ``map``.

>>> with GradingPool(workers=2, timeout=5) as pool:
...     pool.submit(answer, response).result()
{'status': 'correct', 'details': {...}}

One dispatcher thread per worker takes up to ``batch_size`` queued tasks, sends them as one message, and reads the
results as they come. Code answers skip the worker: the dispatcher runs them in sandboxed children of a fork server
of its own (the same sandbox a worker's fork server gives; see :mod:`curation.verify.sandbox`) and compares the
outputs itself, which saves a process hop and its CPU per check. The hostile code only ever runs in the children;
what comes back to this process is at most ``CALLER_RESULT_LIMIT`` (1 MiB) of JSON, and a check that sends more is
graded in a worker instead (16 MiB there, under the worker's memory cap). Requests to a fork server or a worker are
written with a deadline, so a stopped process never blocks a dispatcher. Other kinds are parsed in the worker,
which caps memory and time. A watchdog guards each task: a worker that gives no answer within ``2 * timeout + margin``
(reference run plus model run, plus slack) is killed and restarted, the task it was on becomes ``timeout`` and the
rest of its batch goes back to the front of the queue. A worker that dies is restarted and its unanswered tasks are
resubmitted once; a task that was already resubmitted once becomes ``error``. Workers start lazily (on first use,
all at once, in parallel) with a clean environment (no tokens or keys), and die with this process.
"""

from __future__ import annotations

import atexit
import itertools
import os
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, wait
from dataclasses import dataclass
from typing import Any

from curation.verify import sandbox

DEFAULT_BATCH_SIZE = 16
WATCHDOG_MARGIN_S = 10.0
WORKER_START_TIMEOUT_S = 180.0
MAX_START_FAILURES = 3
MAX_TIMEOUT_S = 86400.0  # a day: anything longer is a unit mistake (and overflows poll's milliseconds)
# Result frames a code check may send back when the dispatcher decodes them in this (the caller's) process; a
# check whose reference or answer sends more is graded in a worker instead (16 MiB there, under its memory cap).
CALLER_RESULT_LIMIT = 1 << 20


@dataclass
class _Item:
    answer: dict
    response: str
    timeout: float
    future: Future
    resubmitted: bool = False
    started: bool = False
    in_worker: bool = False  # a code answer whose results are too large to decode in the dispatcher


class _TaskQueue:
    """FIFO of pending items with put-back-at-front, for dispatchers that take several at once."""

    def __init__(self) -> None:
        self._items: deque[_Item] = deque()
        self._cond = threading.Condition()
        self.closed = False

    def put(self, item: _Item) -> None:
        with self._cond:
            if self.closed:
                raise RuntimeError("the grading pool is closed")
            self._items.append(item)
            self._cond.notify()

    def put_front(self, items: list[_Item]) -> None:
        with self._cond:
            self._items.extendleft(reversed(items))
            self._cond.notify_all()

    def take(self, max_items: int) -> list[_Item]:
        """Up to ``max_items``, blocking for the first; [] once closed and empty."""
        with self._cond:
            while not self._items and not self.closed:
                self._cond.wait()
            out = []
            while self._items and len(out) < max_items:
                out.append(self._items.popleft())
            return out

    def close(self) -> list[_Item]:
        with self._cond:
            self.closed = True
            self._cond.notify_all()
            return list(self._items)

    def drain(self) -> list[_Item]:
        with self._cond:
            items = list(self._items)
            self._items.clear()
            return items


def _result(status: str, reason: str) -> dict[str, Any]:
    return {"status": status, "details": {"reason": reason}}


def _check_timeout(timeout: float) -> None:
    if not 0 < timeout < MAX_TIMEOUT_S:
        raise ValueError(f"timeout must be positive seconds below {MAX_TIMEOUT_S:g}, got {timeout}")


def _is_code(answer: Any) -> bool:
    return isinstance(answer, dict) and answer.get("kind") == "code"


class _WorkerSlot:
    """One worker process and the dispatcher thread that feeds it."""

    def __init__(self, pool: GradingPool, slot: int, cpu: int | None = None):
        self.pool = pool
        self.slot = slot
        self.cpu = cpu
        self.proc: subprocess.Popen | None = None
        self.reader: sandbox.FrameReader | None = None
        self.protections: dict[str, Any] = {}
        self.ready = threading.Event()
        self.start_error: str | None = None
        self.restarts = 0
        # Runs this slot's code answers (see the module docstring), with results capped for decoding here.
        self.sandbox = sandbox.ServerPair(result_limit=CALLER_RESULT_LIMIT)
        self.thread = threading.Thread(target=self._loop, name=f"grading-dispatcher-{slot}", daemon=True)

    # The worker is spawned from this (long-lived) dispatcher thread: the worker's parent-death signal fires
    # when the thread that forked it exits, so it must not be a caller's short-lived thread.
    def _spawn(self) -> None:
        self._kill()
        proc = subprocess.Popen(
            [sys.executable, "-m", "curation.verify.worker", "--parent-pid", str(os.getpid())],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=sandbox.clean_environment(),
            cwd="/",
            start_new_session=True,
        )
        reader = sandbox.FrameReader(proc.stdout.fileno())
        try:
            hello = reader.read(time.monotonic() + WORKER_START_TIMEOUT_S)
        except (TimeoutError, EOFError, ValueError, OSError):
            hello = None
        if not isinstance(hello, dict) or "hello" not in hello:
            proc.kill()
            proc.wait()
            raise RuntimeError("grading worker did not start (see its stderr)")
        # Batches are written with a deadline (see _run_in_worker).
        os.set_blocking(proc.stdin.fileno(), False)
        self.proc, self.reader = proc, reader
        self.protections = hello["hello"].get("protections", {})

    def _kill(self) -> None:
        proc, self.proc, self.reader = self.proc, None, None
        if proc is None:
            return
        sandbox.kill_and_reap(proc)

    def _ensure_worker(self) -> bool:
        if self.proc is not None and self.proc.poll() is None:
            return True
        for attempt in range(MAX_START_FAILURES):
            try:
                self._spawn()
                self.start_error = None
                return True
            except (RuntimeError, OSError) as exc:
                self.start_error = str(exc)
                time.sleep(0.5 * (attempt + 1))
        return False

    def _loop(self) -> None:
        try:
            if self.cpu is not None:
                # Before anything is spawned: the worker, the fork servers and every child they fork inherit
                # this thread's CPU, so a check's whole pipeline (this thread, server, child) stays on one core.
                try:
                    os.sched_setaffinity(0, {self.cpu})
                except OSError:
                    pass  # the CPU was taken away from this process since the pool was made: run unpinned
            try:
                self.sandbox.launch()  # starts while the worker imports its graders; forked from this thread
            except Exception:
                pass  # a server that cannot start is retried, and reported, by the first check that needs it
            self._ensure_worker()
            try:
                self.sandbox.start()  # ready before `start()` returns, so the first code checks do not wait
            except Exception:
                pass
            self.ready.set()
            while True:
                batch = self.pool._queue.take(self.pool.batch_size)
                if not batch:
                    break
                live = []
                for item in batch:
                    if item.started or item.future.set_running_or_notify_cancel():
                        item.started = True
                        live.append(item)
                if live:
                    try:
                        self._run_batch(live)
                    except Exception as exc:  # a bug here must cost these tasks, not every later one
                        for item in live:
                            self._finish(
                                item, _result("error", f"grading pool error: {type(exc).__name__}: {exc}")
                            )
        finally:
            self.ready.set()
            self._shutdown_worker()
            self.sandbox.close()

    def _shutdown_worker(self) -> None:
        proc = self.proc
        if proc is None:
            return
        try:
            proc.stdin.close()
            proc.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            pass
        self._kill()

    def _run_batch(self, batch: list[_Item]) -> None:
        here: list[_Item] = []
        there: list[_Item] = []
        for item in batch:
            runs_here = _is_code(item.answer) and not self.pool.code_in_worker and not item.in_worker
            (here if runs_here else there).append(item)
        if there:
            self._run_in_worker(there, then=here)
        else:
            self._grade_here(here)

    def _grade_here(self, items: list[_Item]) -> None:
        """Grade code answers in this thread, their code in children of this slot's fork servers; a check whose
        results are too large to decode here goes to the worker."""
        from curation.verify.code import ResultOverServerLimit
        from curation.verify.grade import grade_task_safely

        too_large = []
        for item in items:
            try:
                result = grade_task_safely(item.answer, item.response, item.timeout, server=self.sandbox)
            except ResultOverServerLimit:
                item.in_worker = True
                too_large.append(item)
                continue
            self._finish(item, result)
        if too_large:
            self.pool._queue.put_front(too_large)  # the next batch takes them to a worker

    def _run_in_worker(self, batch: list[_Item], then: list[_Item]) -> None:
        """Send ``batch`` to the worker, grade ``then`` here meanwhile, and collect the worker's results."""
        if not self._ensure_worker():
            self._grade_here(then)
            for item in batch:
                self._finish(item, _result("error", f"grading worker failed to start: {self.start_error}"))
            return
        assert self.proc is not None and self.reader is not None
        pending: dict[int, _Item] = {}
        message = []
        for item in batch:
            task_id = next(self.pool._ids)
            pending[task_id] = item
            message.append(
                {"id": task_id, "answer": item.answer, "response": item.response, "timeout": item.timeout}
            )
        # A hung worker must not block this thread on a full pipe either: the watchdog's deadline covers the write.
        deadline = time.monotonic() + 2 * max(item.timeout for item in batch) + self.pool.watchdog_margin
        try:
            sandbox.write_frame(self.proc.stdin.fileno(), message, deadline)
        except TimeoutError:
            self._kill()
            self.restarts += 1
            self._crashed(list(pending.values()))
            self._grade_here(then)
            return
        except OSError:
            self._crashed(list(pending.values()))
            self._grade_here(then)
            return
        del message
        self._grade_here(then)
        progress = time.monotonic()
        while pending:
            head = next(iter(pending.values()))
            deadline = progress + 2 * head.timeout + self.pool.watchdog_margin
            try:
                frame = self.reader.read(deadline)
            except TimeoutError:
                self._kill()
                self.restarts += 1
                first_id = next(iter(pending))
                self._finish(
                    pending.pop(first_id),
                    _result("timeout", "the grading worker gave no answer in time; it was restarted"),
                )
                self.pool._queue.put_front(list(pending.values()))
                return
            except (EOFError, ValueError, OSError):
                frame = None
            if frame is None:
                self._kill()
                self.restarts += 1
                self._crashed(list(pending.values()))
                return
            item = pending.pop(frame.get("id"), None) if isinstance(frame, dict) else None
            if item is not None:
                self._finish(
                    item, {"status": frame.get("status", "error"), "details": frame.get("details", {})}
                )
            progress = time.monotonic()

    def _crashed(self, items: list[_Item]) -> None:
        again = []
        for item in items:
            if item.resubmitted:
                self._finish(item, _result("error", "the grading worker crashed on this task twice"))
            else:
                item.resubmitted = True
                again.append(item)
        if again:
            self.pool._queue.put_front(again)

    @staticmethod
    def _finish(item: _Item, result: dict[str, Any]) -> None:
        if not item.future.done():
            item.future.set_result(result)


class GradingPool:
    """Warm sandboxed grading workers; ``submit`` is thread-safe, ``map`` streams in order with flat memory."""

    def __init__(
        self,
        workers: int | None = None,
        timeout: float = 10.0,
        batch_size: int = DEFAULT_BATCH_SIZE,
        max_in_flight: int | None = None,
        watchdog_margin: float = WATCHDOG_MARGIN_S,
        code_in_worker: bool = False,
        pin_cpus: bool | None = None,
    ):
        """``code_in_worker=True`` grades code answers in the workers like the other kinds (one more process
        hop per check, about a quarter slower, and the children's outputs are decoded outside this process);
        by default each dispatcher runs them through a fork server of its own.

        ``pin_cpus=True`` pins slot ``i`` (its dispatcher thread, worker, fork servers and their children) to
        the ``i``-th CPU this process may use (round robin): a check is a chain of processes that wait for one
        another, and on one core it is spared the migrations and cross-core wake-ups of the scheduler's
        placement (~10% more checks/s on the 2-core benchmark machine). The default (None) pins only when the
        pool has exactly one slot per CPU this process may use (as the default ``workers`` does on a machine
        without affinity limits); a pool with fewer or more slots than that runs unpinned, so that small pools
        in several processes do not all land on the first cores. Pinned slots cannot migrate: on a machine
        shared with other busy processes, pass ``pin_cpus=False``."""
        if workers is not None and workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        _check_timeout(timeout)
        self.workers = workers or os.cpu_count() or 1
        self.timeout = float(timeout)
        self.batch_size = max(1, batch_size)
        self.max_in_flight = max_in_flight or max(64, 4 * self.batch_size * self.workers)
        self.watchdog_margin = float(watchdog_margin)
        self.code_in_worker = code_in_worker
        usable = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
        if pin_cpus is None:
            pin_cpus = len(usable) == self.workers
        self.cpus: list[int | None] = (
            [usable[i % len(usable)] for i in range(self.workers)]
            if pin_cpus and usable
            else [None] * self.workers
        )
        self._queue = _TaskQueue()
        self._ids = itertools.count(1)
        self._slots: list[_WorkerSlot] = []
        self._lock = threading.Lock()
        self._closed = False
        self._pid = os.getpid()

    def _ensure_started(self) -> None:
        if os.getpid() != self._pid:
            # A forked copy has the dispatcher threads' state but not the threads: it would hang forever.
            raise RuntimeError("a GradingPool cannot be used in a forked child; create a new one there")
        if self._slots:
            return
        with self._lock:
            if self._closed:
                raise RuntimeError("the grading pool is closed")
            if not self._slots:
                slots = [_WorkerSlot(self, i, self.cpus[i]) for i in range(self.workers)]
                for slot in slots:
                    slot.thread.start()
                self._slots = slots

    def start(self) -> GradingPool:
        """Start every worker now (in parallel) and wait until they are ready; otherwise the first task does."""
        self._ensure_started()
        for slot in self._slots:
            slot.ready.wait()
        return self

    def protections(self) -> dict[str, Any]:
        """The sandbox protections a worker reported, with those of the fork server that runs code answers
        where that is the dispatcher's own (starts the workers if needed)."""
        self.start()
        for slot in self._slots:
            if slot.protections:
                report = dict(slot.protections)
                if not self.code_in_worker:
                    full, lean = slot.sandbox.full.protections, slot.sandbox.lean.protections
                    report.update(full)
                    layers = [k for k, v in full.items() if isinstance(v, bool)]
                    if any(lean.get(k) != full[k] for k in layers):  # a layer came up differently there
                        report["lean_server"] = dict(lean)
                return report
        return {}

    def worker_pids(self) -> list[int]:
        """Process ids of the running workers (for monitoring)."""
        return [slot.proc.pid for slot in self._slots if slot.proc is not None and slot.proc.poll() is None]

    def submit(self, answer: dict, response: str, timeout: float | None = None) -> Future:
        """Queue one grading; the future resolves to ``{"status": ..., "details": {...}}``."""
        if timeout is not None:
            _check_timeout(timeout)
        future: Future = Future()
        self._ensure_started()
        self._queue.put(_Item(answer, response, float(timeout or self.timeout), future))
        return future

    def map(self, tasks: Iterable[tuple[dict, str]], timeout: float | None = None) -> Iterator[dict]:
        """Grade ``(answer, response)`` pairs; results in input order, at most ``max_in_flight`` pending.

        Once ``max_in_flight`` are pending, results come in bursts of a quarter of that."""
        window: deque[Future] = deque()
        # Once the window is full, wait for a quarter of it at a time: one wake-up of this thread (and one turn
        # at the GIL) per quarter window rather than per task. (`wait`, not `result`: a cancelled future raises
        # where it stands in the order, after the results before it.)
        refill = max(1, self.max_in_flight // 4)
        for answer, response in tasks:
            window.append(self.submit(answer, response, timeout))
            if len(window) >= self.max_in_flight:
                wait([window[refill - 1]])
                for _ in range(refill):
                    yield window.popleft().result()
        while window:
            yield window.popleft().result()

    def close(self, cancel_pending: bool = False) -> None:
        """Stop the workers; queued tasks are graded first unless ``cancel_pending`` (then they are cancelled)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        if cancel_pending:
            for item in self._queue.drain():
                if not item.future.cancel() and not item.future.done():
                    item.future.set_result(_result("error", "the grading pool was closed"))
        self._queue.close()
        for slot in self._slots:
            slot.thread.join()

    def __enter__(self) -> GradingPool:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


_DEFAULT_POOL: GradingPool | None = None
_DEFAULT_LOCK = threading.Lock()
_ATEXIT_REGISTERED = False


def default_pool() -> GradingPool:
    """The process-wide shared pool (created on first use, closed at exit; a forked child gets its own)."""
    global _DEFAULT_POOL, _ATEXIT_REGISTERED
    with _DEFAULT_LOCK:
        if _DEFAULT_POOL is None or _DEFAULT_POOL._pid != os.getpid():
            _DEFAULT_POOL = GradingPool()
            if not _ATEXIT_REGISTERED:
                atexit.register(_close_default)
                _ATEXIT_REGISTERED = True
        return _DEFAULT_POOL


def _close_default() -> None:
    global _DEFAULT_POOL
    with _DEFAULT_LOCK:
        pool, _DEFAULT_POOL = _DEFAULT_POOL, None
    if pool is not None and pool._pid == os.getpid():
        pool.close(cancel_pending=True)
