"""How much of a code check is the sandbox itself: a real check against a check that runs nothing.

    .venv/bin/python benchmarks/sandbox_floor.py --checks 1000

A developer's tool (not one of the issue's figures). On one pinned core, each fork server (lean, numpy) runs
``--checks`` sequential requests of two kinds:

- ``no-op``: the entry ``operator:is_`` (fork, child lock-down, payload decode, exit, supervision, response), i.e.
  what every check pays before any model code runs;
- ``check``: a real code check (``verify_code_bench``'s first Kallen attempt: compile, run three test cases,
  send the results).

For each it prints wall time per request and the page faults of the server and of its children per request
(from ``/proc``): on a VM with shadow page tables, where a fault costs 3-4 us, faults and the fork's page-table
work are most of a check, so this says how far the per-check path is from its floor.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from verify_code_bench import PROBLEMS  # noqa: E402

from curation.records.answer import answer_from_dict  # noqa: E402
from curation.verify.attempt import ENTRY  # noqa: E402
from curation.verify.code import _payload  # noqa: E402
from curation.verify.sandbox import SandboxServer  # noqa: E402

NO_OP = "operator:is_"


def _server_pid(server: SandboxServer) -> int:
    """The process that forks: the spawned one, or its only child when it made a PID namespace."""
    pid = server._proc.pid
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            children = f.read().split()
    except OSError:
        children = []
    return int(children[0]) if children else pid


def _faults(pid: int) -> tuple[int, int]:
    """(minor faults of ``pid``, minor faults of its reaped children)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[7]), int(fields[8])


def measure(server: SandboxServer, entry: str, payload: dict, checks: int) -> dict[str, float]:
    for _ in range(50):  # warm: adaptive preloads, the server's own first-use allocations
        server.run(entry, payload, 10.0)
    pid = _server_pid(server)
    before = _faults(pid)
    started = time.perf_counter()
    for _ in range(checks):
        result = server.run(entry, payload, 10.0)
        if result.status != "ok":
            raise SystemExit(f"{entry} did not run cleanly: {result.status} {result.reason}")
    elapsed = time.perf_counter() - started
    after = _faults(pid)
    return {
        "ms": elapsed / checks * 1e3,
        "server_faults": (after[0] - before[0]) / checks,
        "child_faults": (after[1] - before[1]) / checks,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--checks", type=int, default=1000)
    args = parser.parse_args()
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # the server and its children inherit this core
    problem, attempts = PROBLEMS[0]
    payload = _payload(attempts[0][1], answer_from_dict(problem), list(range(len(problem["test_cases"]))))
    print(f"{args.checks} sequential requests each, one core")
    for lean in (True, False):
        server = SandboxServer(lean=lean)
        server.start()
        try:
            rows = {
                "no-op": measure(server, NO_OP, {}, args.checks),
                "check": measure(server, ENTRY, payload, args.checks),
            }
        finally:
            server.close()
        name = "lean " if lean else "numpy"
        for kind, row in rows.items():
            print(
                f"{name} {kind:5s}: {row['ms']:.2f} ms/request, "
                f"server {row['server_faults']:.0f} + child {row['child_faults']:.0f} faults/request"
            )
        share = rows["no-op"]["ms"] / rows["check"]["ms"]
        print(f"{name} the no-op is {share:.0%} of a check's time")


if __name__ == "__main__":
    main()
