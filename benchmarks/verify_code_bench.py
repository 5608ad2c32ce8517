"""Code-answer grading throughput: our warm sandboxed pool vs one Python process per check.

    .venv/bin/python benchmarks/verify_code_bench.py            # 1000 attempts, both graders
    .venv/bin/python benchmarks/verify_code_bench.py --attempts 3000 --baseline-limit 300

The attempts are answers to a few realistic physics functions (Kallen function, two-body decay momentum,
e+e- -> mu+mu- cross section with numpy, H -> f fbar width, a Breit-Wigner amplitude), a mix of correct,
incorrect and crashing code. The baseline is the paper's grader: write a script per attempt and run
``subprocess.run([sys.executable, script])``, then compare its printed outputs; it runs with the same
parallelism as the pool. Both graders must agree on every attempt they both graded.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

from curation.records.answer import answer_from_dict
from curation.verify.code import compare, from_wire, reference_outputs
from curation.verify.pool import GradingPool

KALLEN = {
    "kind": "code",
    "function_name": "kallen",
    "arguments": [
        {"name": "a", "type": "float"},
        {"name": "b", "type": "float"},
        {"name": "c", "type": "float"},
    ],
    "reference": "def kallen(a, b, c):\n    return a**2 + b**2 + c**2 - 2*a*b - 2*a*c - 2*b*c\n",
    "test_cases": [
        {"inputs": {"a": 100.0, "b": 1.0, "c": 4.0}},
        {"inputs": {"a": 91.19**2, "b": 0.1057**2, "c": 0.1057**2}},
        {"inputs": {"a": 3.0, "b": 1.0, "c": 1.0}},
    ],
}
KALLEN_ATTEMPTS = [
    ("correct", "def kallen(a, b, c):\n    return (a - b - c)**2 - 4*b*c\n"),
    ("correct", "def kallen(x, y, z):\n    return x*x + y*y + z*z - 2*(x*y + y*z + z*x)\n"),
    ("incorrect", "def kallen(a, b, c):\n    return (a - b - c)**2 - 2*b*c\n"),
    ("error", "def kallen(a, b, c):\n    return math.sqrt(a) - b - c\n"),
]

MOMENTUM = {
    "kind": "code",
    "function_name": "two_body_momentum",
    "arguments": [
        {"name": "M", "type": "float"},
        {"name": "m1", "type": "float"},
        {"name": "m2", "type": "float"},
    ],
    "reference": (
        "import math\n"
        "def two_body_momentum(M, m1, m2):\n"
        "    lam = (M**2 - (m1 + m2)**2) * (M**2 - (m1 - m2)**2)\n"
        "    return math.sqrt(lam) / (2 * M)\n"
    ),
    "test_cases": [
        {"inputs": {"M": 0.4937, "m1": 0.1396, "m2": 0.1350}},
        {"inputs": {"M": 91.1876, "m1": 0.000511, "m2": 0.000511}},
        {"inputs": {"M": 5.279, "m1": 3.097, "m2": 0.4937}},
    ],
}
MOMENTUM_ATTEMPTS = [
    (
        "correct",
        "import numpy as np\n"
        "def two_body_momentum(M, m1, m2):\n"
        "    s = M * M\n"
        "    lam = s*s + m1**4 + m2**4 - 2*s*m1**2 - 2*s*m2**2 - 2*m1**2*m2**2\n"
        "    return float(np.sqrt(lam) / (2 * M))\n",
    ),
    (
        "correct",
        "def two_body_momentum(M, m1, m2):\n    return ((M**2-(m1+m2)**2)*(M**2-(m1-m2)**2))**0.5/(2*M)\n",
    ),
    (
        "incorrect",
        "def two_body_momentum(M, m1, m2):\n    return ((M**2-(m1+m2)**2)*(M**2-(m1-m2)**2))**0.5/M\n",
    ),
]

CROSS_SECTION = {
    "kind": "code",
    "function_name": "sigma_mumu",
    "arguments": [{"name": "sqrt_s", "type": "array"}],
    "reference": (
        "import numpy as np\n"
        "ALPHA = 1 / 137.035999\n"
        "GEV2_TO_PB = 0.3893793721e9\n"
        "def sigma_mumu(sqrt_s):\n"
        "    s = np.asarray(sqrt_s, dtype=float) ** 2\n"
        "    return 4 * np.pi * ALPHA**2 / (3 * s) * GEV2_TO_PB\n"
    ),
    "test_cases": [
        {"inputs": {"sqrt_s": [10.0, 29.0, 58.0]}, "rtol": 1e-6},
        {"inputs": {"sqrt_s": [91.0, 200.0]}, "rtol": 1e-6},
    ],
}
CROSS_SECTION_ATTEMPTS = [
    (
        "correct",
        "import numpy as np\n"
        "def sigma_mumu(sqrt_s):\n"
        "    alpha = 1 / 137.035999\n"
        "    s = np.square(np.asarray(sqrt_s, dtype=float))\n"
        "    return 0.3893793721e9 * 4 * np.pi * alpha**2 / (3 * s)\n",
    ),
    (
        "correct",
        "import math\n"
        "def sigma_mumu(sqrt_s):\n"
        "    a = 1 / 137.035999\n"
        "    return [4 * math.pi * a * a / (3 * x * x) * 0.3893793721e9 for x in sqrt_s]\n",
    ),
    (
        "incorrect",
        "import numpy as np\n"
        "def sigma_mumu(sqrt_s):\n"
        "    return 86.8e3 / np.asarray(sqrt_s, dtype=float) ** 2\n",
    ),
    ("incorrect", "def sigma_mumu(sqrt_s):\n    return 0.0\n"),
]

WIDTH = {
    "kind": "code",
    "function_name": "higgs_width_ff",
    "arguments": [
        {"name": "m_h", "type": "float"},
        {"name": "m_f", "type": "float"},
        {"name": "n_c", "type": "int"},
    ],
    "reference": (
        "import math\n"
        "G_F = 1.1663788e-5\n"
        "def higgs_width_ff(m_h, m_f, n_c):\n"
        "    beta = math.sqrt(1 - 4 * m_f**2 / m_h**2)\n"
        "    return n_c * G_F * m_h * m_f**2 * beta**3 / (4 * math.sqrt(2) * math.pi)\n"
    ),
    "test_cases": [
        {"inputs": {"m_h": 125.1, "m_f": 4.18, "n_c": 3}},
        {"inputs": {"m_h": 125.1, "m_f": 1.777, "n_c": 1}},
        {"inputs": {"m_h": 125.1, "m_f": 0.1057, "n_c": 1}},
    ],
}
WIDTH_ATTEMPTS = [
    (
        "correct",
        "import numpy as np\n"
        "def higgs_width_ff(m_h, m_f, n_c):\n"
        "    gf = 1.1663788e-5\n"
        "    b2 = 1 - 4 * (m_f / m_h) ** 2\n"
        "    return n_c * gf * m_h * m_f**2 * b2**1.5 / (4 * np.sqrt(2) * np.pi)\n",
    ),
    (
        "incorrect",
        "import math\n"
        "def higgs_width_ff(m_h, m_f, n_c):\n"
        "    return n_c * 1.1663788e-5 * m_h * m_f**2 / (4 * math.sqrt(2) * math.pi)\n",
    ),
    (
        "incorrect",
        "import math\n"
        "def higgs_width_ff(m_h, m_f, n_c):\n"
        "    beta = math.sqrt(1 - 4 * m_f**2 / m_h**2)\n"
        "    return 1.1663788e-5 * m_h * m_f**2 * beta**3 / (4 * math.sqrt(2) * math.pi)\n",
    ),
]

BREIT_WIGNER = {
    "kind": "code",
    "function_name": "breit_wigner",
    "arguments": [
        {"name": "s", "type": "float"},
        {"name": "m", "type": "float"},
        {"name": "gamma", "type": "float"},
    ],
    "reference": "def breit_wigner(s, m, gamma):\n    return 1 / (s - m**2 + 1j * m * gamma)\n",
    "test_cases": [
        {"inputs": {"s": 8000.0, "m": 91.1876, "gamma": 2.4952}},
        {"inputs": {"s": 91.1876**2, "m": 91.1876, "gamma": 2.4952}},
    ],
}
BREIT_WIGNER_ATTEMPTS = [
    ("correct", "def breit_wigner(s, m, gamma):\n    return complex(1, 0) / complex(s - m*m, m*gamma)\n"),
    (
        "correct",
        "import numpy as np\ndef breit_wigner(s, m, gamma):\n    return np.complex128(1) / (s - m**2 + 1j*m*gamma)\n",
    ),
    ("incorrect", "def breit_wigner(s, m, gamma):\n    return 1 / (s - m**2 - 1j * m * gamma)\n"),
]

PROBLEMS = [
    (KALLEN, KALLEN_ATTEMPTS),
    (MOMENTUM, MOMENTUM_ATTEMPTS),
    (CROSS_SECTION, CROSS_SECTION_ATTEMPTS),
    (WIDTH, WIDTH_ATTEMPTS),
    (BREIT_WIGNER, BREIT_WIGNER_ATTEMPTS),
]


def make_attempts(count: int) -> list[tuple[int, str, str]]:
    """(problem index, expected status, response text), cycling through problems and their variants."""
    flat = [(p, status, source) for p, (_, attempts) in enumerate(PROBLEMS) for status, source in attempts]
    out = []
    for i in range(count):
        p, status, source = flat[i % len(flat)]
        # A comment makes every response text distinct, as sampled completions are.
        text = f"Let me write the function.\n\n```python\n# attempt {i}\n{source}```\n"
        out.append((p, status, text))
    return out


BASELINE_HARNESS = """
import json as _json
{source}

def _wire(x):
    if isinstance(x, complex):
        return {{"__complex__": [x.real, x.imag]}}
    if hasattr(x, "tolist"):
        return _wire(x.tolist())
    if isinstance(x, (list, tuple)):
        return [_wire(e) for e in x]
    return x

_out = []
for _args in {cases!r}:
    try:
        _out.append({{"value": _wire({function}(*_args))}})
    except Exception as _exc:
        _out.append({{"error": repr(_exc)}})
print(_json.dumps(_out))
"""


def baseline_check(problem: dict, expected: list, text: str, timeout: float) -> str:
    """The paper's way: one fresh interpreter per check, outputs parsed from stdout."""
    source = text.split("```python\n", 1)[1].rsplit("```", 1)[0]
    names = [a["name"] for a in problem["arguments"]]
    cases = [[c["inputs"][n] for n in names] for c in problem["test_cases"]]
    script = BASELINE_HARNESS.format(source=source, cases=cases, function=problem["function_name"])
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(script)
        path = f.name
    try:
        proc = subprocess.run([sys.executable, path], capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return "timeout"
    finally:
        os.unlink(path)
    if proc.returncode != 0:
        return "error"
    outputs = json.loads(proc.stdout)
    if any("error" in o for o in outputs):
        return "error"
    for case, want, got in zip(problem["test_cases"], expected, outputs, strict=True):
        rtol = case.get("rtol", 1e-6)
        if compare(from_wire(want), from_wire(got["value"]), rtol, case.get("atol", 0.0)) is not None:
            return "incorrect"
    return "correct"


def run(
    attempts_count: int = 1000,
    workers: int | None = None,
    timeout: float = 10.0,
    baseline_limit: int | None = None,
) -> dict:
    """Grade the same attempts with our pool and with the process-per-check baseline; print and return rates."""
    workers = workers or os.cpu_count() or 1
    attempts = make_attempts(attempts_count)
    print(
        f"{len(attempts)} attempts over {len(PROBLEMS)} problems, {workers} workers, cpu_count={os.cpu_count()}"
    )

    started = time.perf_counter()
    pool = GradingPool(workers=workers, timeout=timeout).start()
    pinned = ", ".join(f"slot {i} on CPU {cpu}" for i, cpu in enumerate(pool.cpus) if cpu is not None)
    print(
        f"pool start-up (not counted): {time.perf_counter() - started:.2f} s; {pinned or 'slots not pinned'}"
    )
    try:
        # Reference outputs are computed on first sight of each problem, as in real use: included in the timing.
        started = time.perf_counter()
        ours = [r["status"] for r in pool.map((PROBLEMS[p][0], text) for p, _, text in attempts)]
        ours_s = time.perf_counter() - started
    finally:
        pool.close()
    ours_rate = len(attempts) / ours_s
    print(f"ours:     {len(attempts)} checks in {ours_s:.2f} s = {ours_rate:.0f} checks/s")
    wrong = [
        (i, want, got)
        for i, ((_, want, _), got) in enumerate(zip(attempts, ours, strict=True))
        if want != got
    ]
    if wrong:
        raise SystemExit(
            f"our grader disagrees with the intended status on {len(wrong)} attempts: {wrong[:5]}"
        )

    expected = [reference_outputs(answer_from_dict(problem), timeout) for problem, _ in PROBLEMS]
    subset = attempts[:baseline_limit] if baseline_limit else attempts
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as executor:
        base = list(
            executor.map(lambda a: baseline_check(PROBLEMS[a[0]][0], expected[a[0]], a[2], timeout), subset)
        )
    base_s = time.perf_counter() - started
    base_rate = len(subset) / base_s
    print(f"baseline: {len(subset)} checks in {base_s:.2f} s = {base_rate:.1f} checks/s (process per check)")
    disagree = sum(b != o for b, o in zip(base, ours, strict=False))
    print(f"agreement with the baseline: {len(subset) - disagree}/{len(subset)}")
    print(f"speed-up: {ours_rate / base_rate:.1f}x")
    return {
        "ours_checks_per_s": ours_rate,
        "baseline_checks_per_s": base_rate,
        "ratio": ours_rate / base_rate,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--attempts", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--timeout", type=float, default=10.0)
    parser.add_argument(
        "--baseline-limit", type=int, default=None, help="grade only the first N attempts with the baseline"
    )
    args = parser.parse_args()
    run(args.attempts, args.workers, args.timeout, args.baseline_limit)


if __name__ == "__main__":
    main()
