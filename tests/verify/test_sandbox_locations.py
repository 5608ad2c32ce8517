"""The sandbox works wherever the checkout lives, including under /tmp (where CI may clone it)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import curation

SCRIPT = """
from curation.verify.pool import GradingPool
answer = {"kind": "code", "function_name": "f", "arguments": [{"name": "x", "type": "float"}],
          "reference": "def f(x):\\n    return 2.0 * x\\n", "test_cases": [{"inputs": {"x": 1.5}}]}
with GradingPool(workers=1, timeout=5.0) as pool:
    print(pool.submit(answer, "```python\\ndef f(x):\\n    return x + x\\n```").result()["status"])
    print(pool.submit(answer, "```python\\ndef f(x):\\n    open('/tmp/x', 'w')\\n    return x + x\\n```").result()["status"])
"""


def test_checkout_under_tmp_still_grades_and_still_forbids_writes():
    with tempfile.TemporaryDirectory(dir="/tmp") as checkout:
        shutil.copytree(Path(curation.__file__).parent, Path(checkout) / "curation")
        run = subprocess.run(
            [sys.executable, "-c", SCRIPT], cwd=checkout, capture_output=True, text=True, timeout=300,
            env={"PYTHONPATH": checkout, "PATH": "/usr/bin:/bin"},
        )  # fmt: skip
        assert run.stdout.split() == ["correct", "error"], run.stderr[-2000:]
