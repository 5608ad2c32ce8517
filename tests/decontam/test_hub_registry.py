"""A registry entry with `hub:` loads the benchmark through `datasets` from a Hub: here the local Hub-protocol
server (tests/hubserver.py), with the real clients in a subprocess (they read HF_ENDPOINT at import)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from curation.records.io import write_jsonl
from generation.cas import generate
from tests.hubserver import HubServer

ROOT = Path(__file__).resolve().parents[2]


def test_vqft_decontam_loads_a_hub_benchmark_and_drops_the_overlapping_problems(tmp_path):
    problems = list(generate(["two_body_decay", "colour_factor"], n=20, seed=0))
    write_jsonl(tmp_path / "train.jsonl", problems)
    folder = tmp_path / "bench"
    (folder / "data").mkdir(parents=True)
    benchmark = [problems[0].statement, "An unrelated question about the Casimir energy between two plates."]
    pq.write_table(
        pa.table({"problem": benchmark, "problem_id": ["b0", "b1"]}),
        folder / "data" / "train-00000-of-00001.parquet",
    )
    (tmp_path / "registry.yaml").write_text(
        "benchmarks:\n  - name: hubbench\n    hub: {id: bench-org/qft-bench, split: train, columns: [problem]}\n"
        "    id_column: problem_id\n"
    )
    server = HubServer(tmp_path / "hub").start()
    try:
        env = {**os.environ, **server.env(), "HF_HOME": str(tmp_path / "hf_home")}
        upload = ("from huggingface_hub import HfApi\napi = HfApi()\n"
                  "api.create_repo('bench-org/qft-bench', repo_type='dataset', exist_ok=True)\n"
                  f"api.upload_folder(folder_path={str(folder)!r}, repo_id='bench-org/qft-bench', repo_type='dataset')\n")  # fmt: skip
        subprocess.run([sys.executable, "-c", upload], env=env, check=True, capture_output=True, timeout=120)
        out = subprocess.run(
            [sys.executable, "-m", "release.cli", "decontam", str(tmp_path / "train.jsonl"), "--against",
             str(tmp_path / "registry.yaml"), "-o", str(tmp_path / "clean.jsonl"), "--removed", str(tmp_path / "removed.jsonl")],
            env=env, cwd=ROOT, capture_output=True, text=True, timeout=240,
        )  # fmt: skip
    finally:
        server.stop()
    assert out.returncode == 0, out.stderr
    removed = [json.loads(line) for line in (tmp_path / "removed.jsonl").read_text().splitlines()]
    assert problems[0].id in {r["id"] for r in removed}
    assert all(flag["benchmark"] == "hubbench" for r in removed for flag in r["flags"])
    # every two_body_decay problem shares the benchmark problem's template (number-masked match); no colour factor does
    families = {p.id: p.source.provenance["family"] for p in problems}
    assert {families[r["id"]] for r in removed} == {"two_body_decay"}
