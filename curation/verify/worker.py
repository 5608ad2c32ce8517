"""A grading worker process: ``python -m curation.verify.worker``.

Protocol: length-prefixed JSON frames (4-byte big-endian length, then UTF-8 JSON). In on stdin: a task
``{"id": int, "answer": <AnswerSpec dict>, "response": str, "timeout": float}`` or a list of tasks (a batch, to cut
IPC overhead). Out on stdout: first ``{"hello": {"pid": ..., "protections": {...}}}`` once ready, then one
``{"id": ..., "status": ..., "details": {...}}`` per task, in order, flushed as each is done. EOF on stdin ends it.

Each task goes to :func:`curation.verify.grade.grade_task`. A ``code`` answer is run in sandboxed children of this
worker's fork server (see :mod:`curation.verify.sandbox`); other kinds are graded here, in the worker, under a
soft wall-clock limit (``setitimer`` raising in the main thread), which turns a runaway parse into ``timeout``.

The worker itself: leaves the network (a new, empty network namespace), drops every environment variable that is
not on the fixed safe list, caps its address space, never writes core files, and dies with its parent. It stays
root when started as root because its fork server must create unprivileged users for the children; the hostile
*code* only ever runs in those children. (Hostile *text* is parsed here by the text grader, so the text grader must
not evaluate it; if it ever needs to, run it in the sandbox instead.)
"""

from __future__ import annotations

import os
import resource
import signal
import sys
from typing import Any

from curation.verify import sandbox

WORKER_ADDRESS_SPACE = 4 << 30
WARM_IMPORTS = ("numpy", "scipy", "scipy.special", "sympy", "curation.verify.grade")


class _SoftTimeout(BaseException):
    """Raised in the main thread by SIGALRM; a BaseException so that ``except Exception`` cannot swallow it."""


def _on_alarm(signum: int, frame: Any) -> None:
    raise _SoftTimeout()


def _grade_one(task: Any) -> dict[str, Any]:
    """One task -> one result frame; never raises (except on the way out of the process)."""
    from curation.verify.grade import VERIFIER_VERSION, grade_task_safely

    task_id = task.get("id") if isinstance(task, dict) else None
    if not isinstance(task, dict) or not isinstance(task.get("response"), str):
        return {
            "id": task_id,
            "status": "error",
            "details": {"reason": "malformed task: needs answer and response"},
        }
    answer = task.get("answer")
    try:
        timeout = float(task.get("timeout", 10.0))
    except (TypeError, ValueError):
        timeout = 10.0
    code_kind = isinstance(answer, dict) and answer.get("kind") == "code"
    try:
        if code_kind:
            # The sandbox keeps its own wall clock; SIGALRM here would interrupt its child supervision.
            result = grade_task_safely(answer, task["response"], timeout)
        else:
            signal.setitimer(signal.ITIMER_REAL, max(timeout, 0.001))
            try:
                result = grade_task_safely(answer, task["response"], timeout)
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
    except _SoftTimeout:
        result = {"status": "timeout", "details": {"reason": f"grading took longer than {timeout:g} s",
                                                   "verifier_version": VERIFIER_VERSION}}  # fmt: skip
    return {"id": task_id, "status": result["status"], "details": result["details"]}


def _limit_self() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard == resource.RLIM_INFINITY or hard > WORKER_ADDRESS_SPACE:
        resource.setrlimit(resource.RLIMIT_AS, (WORKER_ADDRESS_SPACE, WORKER_ADDRESS_SPACE))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _scrub_environment() -> None:
    for name in list(os.environ):
        if name not in sandbox.SAFE_ENV and name not in sandbox.PASS_THROUGH_ENV and name != "PYTHONPATH":
            del os.environ[name]


def main(argv: list[str] | None = None) -> int:
    """Run the worker loop on stdin/stdout until EOF."""
    argv = sys.argv[1:] if argv is None else argv
    parent = int(argv[argv.index("--parent-pid") + 1]) if "--parent-pid" in argv else None
    if parent is not None:
        sandbox._set_parent_death_signal(parent)
    # Keep the protocol off fds 0/1: a stray print from a grader must not corrupt it.
    ipc_in, ipc_out = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(2, 1)
    os.close(devnull)
    _scrub_environment()
    _limit_self()
    networked_off, detail = sandbox.isolate_network()
    if not networked_off:
        sandbox._warn(f"worker protection missing: network namespace ({detail})")
    server = sandbox.default_server()
    server.launch()  # the fork server starts while this process imports the heavy modules
    for module in WARM_IMPORTS:
        try:
            __import__(module)
        except ImportError:
            pass
    try:
        __import__("curation.verify.text")
    except ImportError:
        pass
    signal.signal(signal.SIGALRM, _on_alarm)
    try:
        protections = dict(server.start())
    except RuntimeError as exc:
        protections = {"missing": {"sandbox": str(exc)}}
    protections["worker_network_namespace"] = networked_off
    sandbox.write_frame(ipc_out, {"hello": {"pid": os.getpid(), "protections": protections}})
    reader = sandbox.FrameReader(ipc_in)
    while True:
        try:
            message = reader.read()
        except (OSError, ValueError, EOFError):
            return 1
        if message is None:
            return 0
        tasks = message if isinstance(message, list) else [message]
        del message
        while tasks:
            result = _grade_one(tasks.pop(0))
            try:
                sandbox.write_frame(ipc_out, result)
            except OSError:
                return 1


if __name__ == "__main__":
    code = main()
    sandbox.shutdown()
    sys.exit(code)
