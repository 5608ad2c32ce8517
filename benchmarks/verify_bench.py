"""The verifier's two throughput figures in one run, each side by side with its baseline (issue 2).

    .venv/bin/python benchmarks/verify_bench.py

- code answers: our warm sandboxed pool vs one Python process per check (the paper's grader), same 1,000
  attempts; target >= 10x the baseline and >= 500 checks/s;
- symbolic answers: our pool vs math_verify on the labelled corpus pairs; target >= 10x math_verify and
  >= 300 checks/s, with agreement with the labels for both.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import verify_code_bench  # noqa: E402
import verify_symbolic_bench  # noqa: E402


def main() -> None:
    print("== code answers ==")
    code = verify_code_bench.run(attempts_count=1000, workers=2)
    print("\n== symbolic answers ==")
    symbolic = verify_symbolic_bench.run(repeat=10, workers=2)
    print("\n== summary (targets in brackets) ==")
    print(
        f"code:     {code['ours_checks_per_s']:.0f} checks/s [>= 500], "
        f"{code['ratio']:.1f}x the process-per-check baseline [>= 10x]"
    )
    print(
        f"symbolic: {symbolic['ours_checks_per_s']:.0f} checks/s [>= 300], "
        f"{symbolic['ratio']:.1f}x math_verify [>= 10x], {symbolic['disagreements']} disagreements with the labels"
    )


if __name__ == "__main__":
    main()
