"""Symbolic answers: our verifier vs math_verify on the same labelled pairs, side by side in one run.

    .venv/bin/python benchmarks/verify_symbolic_bench.py [--repeat 10] [--workers 2]

The pairs are the symbolic cases of tests/corpus/physics_answers.yaml (LaTeX and sympy-syntax answers to QFT
problems, equivalent rewrites and near-misses), repeated ``--repeat`` times as an RL run grades each problem
many times. Both graders parse each reference once and reuse it. math_verify runs in ``--workers`` processes
(the same cores our pool uses), and also in one process for reference. Prints checks/s, agreement with the
labels, and the ratio.
"""

from __future__ import annotations

import argparse
import multiprocessing
import time
from pathlib import Path

import yaml

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "corpus" / "physics_answers.yaml"


def symbolic_cases() -> list[dict]:
    """Corpus cases with a symbolic answer labelled correct or incorrect."""
    cases = yaml.safe_load(CORPUS.read_text(encoding="utf-8"))
    return [
        c
        for c in cases
        if c["answer"].get("kind") == "symbolic" and c["expected"] in ("correct", "incorrect")
    ]


def gold_latex(answer: dict) -> str:
    """The reference as LaTeX, the form math_verify reads best."""
    import sympy

    from curation.verify.parse import NameResolver, parse_math, symbol_for

    declared = {name: symbol_for(name, domain) for name, domain in answer.get("symbols", {}).items()}
    return "$" + sympy.latex(parse_math(answer["expr"], NameResolver(declared=declared, strict=True))) + "$"


_GOLD_CACHE: dict[str, object] = {}


def math_verify_check(pair: tuple[str, str]) -> bool:
    from math_verify import parse, verify

    gold_text, response = pair
    gold = _GOLD_CACHE.get(gold_text)
    if gold is None:
        gold = _GOLD_CACHE[gold_text] = parse(gold_text)
    return bool(verify(gold, parse(response)))


def run_math_verify(pairs: list[tuple[str, str]], workers: int) -> tuple[list[bool], float]:
    start = time.perf_counter()
    if workers == 1:
        verdicts = [math_verify_check(p) for p in pairs]
    else:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            verdicts = pool.map(math_verify_check, pairs, chunksize=16)
    return verdicts, time.perf_counter() - start


def run_ours(cases: list[dict], repeat: int, workers: int) -> tuple[list[bool], float]:
    from curation.verify.pool import GradingPool

    tasks = [(c["answer"], c["response"]) for c in cases] * repeat
    with GradingPool(workers=workers, timeout=10.0) as pool:
        # Warm-up: start the workers before timing, as a long RL run would have them.
        list(pool.map(tasks[: 2 * workers]))
        start = time.perf_counter()
        verdicts = [r["status"] == "correct" for r in pool.map(tasks)]
        elapsed = time.perf_counter() - start
    return verdicts, elapsed


def agreement(verdicts: list[bool], labels: list[bool]) -> tuple[int, int]:
    wrong = sum(v != label for v, label in zip(verdicts, labels, strict=True))
    return len(labels) - wrong, len(labels)


def run(repeat: int = 10, workers: int = 2) -> dict:
    """Grade the labelled symbolic pairs with our pool and with math_verify; print and return rates."""
    cases = symbolic_cases()
    labels = [c["expected"] == "correct" for c in cases] * repeat
    n = len(labels)
    print(f"{len(cases)} labelled symbolic pairs x {repeat} = {n} checks, {workers} workers")

    ours, ours_s = run_ours(cases, repeat, workers)
    mv_pairs = [(gold_latex(c["answer"]), c["response"]) for c in cases] * repeat
    mv, mv_s = run_math_verify(mv_pairs, workers)
    mv_one, mv_one_s = run_math_verify(mv_pairs[: len(cases)], 1)

    ours_ok, _ = agreement(ours, labels)
    mv_ok, _ = agreement(mv, labels)
    rows = [
        ("verifiable-qft pool", n, ours_s, ours_ok),
        (f"math_verify ({workers} processes)", n, mv_s, mv_ok),
        ("math_verify (1 process)", len(cases), mv_one_s, agreement(mv_one, labels[: len(cases)])[0]),
    ]
    print(f"{'grader':<30} {'checks':>7} {'seconds':>8} {'checks/s':>9} {'agree w/ labels':>16}")
    for name, count, seconds, ok in rows:
        print(f"{name:<30} {count:>7} {seconds:>8.2f} {count / seconds:>9.0f} {ok:>8}/{count:<7}")
    ratio = (n / ours_s) / (n / mv_s)
    print(f"ratio ours / math_verify ({workers} processes): {ratio:.1f}x")
    disagreements = sorted(
        {c["id"] for c, v, label in zip(cases * repeat, ours, labels, strict=True) if v != label}
    )
    print(f"our disagreements with the labels: {disagreements or 'none'}")
    return {
        "ours_checks_per_s": n / ours_s,
        "math_verify_checks_per_s": n / mv_s,
        "ratio": ratio,
        "disagreements": len(disagreements),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    run(args.repeat, args.workers)


if __name__ == "__main__":
    main()
