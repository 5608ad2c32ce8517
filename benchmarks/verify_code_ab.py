"""Compare the code-check throughput of two checkouts, interleaved finely enough to cancel a VM's drift.

    .venv/bin/python benchmarks/verify_code_ab.py /path/to/old/checkout /path/to/new/checkout --rounds 20

A developer's tool for changes to the sandbox (not one of the issue's figures): this project's VM changes speed
by ±25% within minutes, so two benchmark runs minutes apart cannot tell a 10% change from noise. Here each
checkout gets one warm 2-slot ``GradingPool`` in its own process, and the two grade the same batch of
``verify_code_bench`` attempts in turn, alternating which goes first; the per-round ratio compares runs seconds
apart. Make the old checkout with ``git worktree add /tmp/old <commit>``.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys

_WORKER = """
import os, sys, time
root, count = sys.argv[1], int(sys.argv[2])
sys.path.insert(0, root)
sys.path.insert(0, os.path.join(root, "benchmarks"))
from verify_code_bench import PROBLEMS, make_attempts
from curation.verify.pool import GradingPool
attempts = make_attempts(count)
pool = GradingPool(workers=2, timeout=10).start()
list(pool.map((PROBLEMS[p][0], text) for p, _, text in make_attempts(100)))
print("ready", flush=True)
for _ in sys.stdin:
    started = time.perf_counter()
    statuses = [r["status"] for r in pool.map((PROBLEMS[p][0], text) for p, _, text in attempts)]
    elapsed = time.perf_counter() - started
    wrong = sum(got != want for got, (_, want, _) in zip(statuses, attempts))
    print(f"{len(attempts) / elapsed} {wrong}", flush=True)
pool.close()
"""


def compare(old: str, new: str, rounds: int = 20, batch: int = 340) -> dict[str, list[float]]:
    """Checks/s of each checkout per round; raises if either grades an attempt differently than intended."""
    roots = [old, new]
    procs = {
        root: subprocess.Popen(
            [sys.executable, "-c", _WORKER, root, str(batch)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd="/",
        )
        for root in roots
    }
    try:
        for root, proc in procs.items():
            if proc.stdout.readline().strip() != "ready":
                raise SystemExit(f"the pool of {root} did not start")
        rates: dict[str, list[float]] = {root: [] for root in roots}
        for i in range(rounds):
            for root in roots if i % 2 == 0 else roots[::-1]:
                procs[root].stdin.write("go\n")
                procs[root].stdin.flush()
                rate, wrong = procs[root].stdout.readline().split()
                if int(wrong):
                    raise SystemExit(f"{root} graded {wrong} attempts differently than intended")
                rates[root].append(float(rate))
        return rates
    finally:
        for proc in procs.values():
            proc.stdin.close()
            proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("old")
    parser.add_argument("new")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument(
        "--batch", type=int, default=340, help="attempts per batch (20 cycles of the 17 variants)"
    )
    args = parser.parse_args()
    rates = compare(args.old, args.new, args.rounds, args.batch)
    for label, root in (("old", args.old), ("new", args.new)):
        values = rates[root]
        print(
            f"{label} {root}: median {statistics.median(values):.0f} checks/s, range {min(values):.0f}-{max(values):.0f}"
        )
    ratios = [n / o for o, n in zip(rates[args.old], rates[args.new], strict=True)]
    print(
        f"new/old per round: median {statistics.median(ratios):.3f}, range {min(ratios):.3f}-{max(ratios):.3f}"
    )


if __name__ == "__main__":
    main()
