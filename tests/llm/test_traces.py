"""`vqft traces` against the scripted server: grading and keeping, truncation, pass rates, near-duplicates, the
token budget, several endpoints with one failing, kill -9 and resume, and the release's traces config."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from curation.records.io import read_jsonl, write_jsonl
from curation.records.trace import Trace
from generation.llm import LLMClient, LLMConfig
from generation.traces import TracesConfig, run_traces
from tests.llm import scripted_models as models
from tests.llm.test_stages import _problems
from tests.openai_server import ScriptedOpenAIServer, error, reply

ROOT = Path(__file__).resolve().parents[2]
WRONG = "def energy(p, m):\n    return p + m\n"


def _answer(code: str, thought: str = "E^2 = p^2 + m^2") -> str:
    return f"<think>{thought}</think>\n```python\n{code}```"


def _config(server, tmp_path, **overrides) -> TracesConfig:
    llm = LLMConfig(model="teacher", base_url=server.url + "/v1", cache=tmp_path / "cache.sqlite",
                    backoff_base=0.01, backoff_max=0.02, max_retries=1, timeout=5.0)  # fmt: skip
    options = dict(llm=llm, output=tmp_path / "traces", samples=4, dedup_threshold=None)
    return TracesConfig(**{**options, **overrides})


def _run(problems: Path, config: TracesConfig, clients=None):
    return asyncio.run(run_traces(problems, config, clients))


def test_correct_samples_are_kept_and_the_rest_dropped_with_reasons(server, tmp_path):
    problems = _problems(tmp_path, 1)
    thoughts = ["a b c d e f", "g h i j k l", "m n o p q r", "s t u v w x"]
    server.set_default(reply([_answer(models.GOOD_CODE, thoughts[0]), _answer(WRONG), _answer(models.GOOD_CODE, thoughts[2]),
                              "no code at all"]))  # fmt: skip
    run = _run(problems, _config(server, tmp_path))
    assert dict(run.counts) == {"kept": 2, "dropped": 2}
    traces = list(read_jsonl(tmp_path / "traces" / "traces.jsonl", Trace))
    assert [t.verification.status for t in traces] == ["correct", "correct"]
    assert [m.role for m in traces[0].messages] == ["system", "user", "assistant"]
    assert traces[0].messages[-1].content.startswith("<think>\na b c d e f\n</think>\n\n```python")
    assert traces[0].num_tokens > 0 and traces[0].tokenizer == "pretokens:gpt2"
    rates = [json.loads(line) for line in (tmp_path / "traces" / "pass_rates.jsonl").read_text().splitlines()]
    assert (rates[0]["samples"], rates[0]["correct"], rates[0]["pass_rate"]) == (4, 2, 0.5)
    rejected = [
        json.loads(line)["reason"]
        for line in (tmp_path / "traces" / "rejected.jsonl").read_text().splitlines()
    ]
    assert rejected == ["not correct (incorrect)", "not correct (no_answer)"]


def test_a_truncated_trace_is_never_kept_as_correct(server, tmp_path):
    problems = _problems(tmp_path, 1)
    server.set_default(reply(_answer(models.GOOD_CODE), finish_reason="length"))
    run = _run(problems, _config(server, tmp_path, samples=2))
    assert dict(run.counts) == {"dropped": 2}
    summary = json.loads((tmp_path / "traces" / "summary.json").read_text())
    assert summary["dropped_by_reason"] == {"truncated": 2}


def test_near_identical_traces_of_a_problem_are_dropped(server, tmp_path):
    problems = _problems(tmp_path, 1)
    server.set_default(reply(_answer(models.GOOD_CODE)))
    run = _run(problems, _config(server, tmp_path, dedup_threshold=0.9))
    assert dict(run.counts) == {"kept": 1, "dropped": 3}
    assert run.reasons == {"near-duplicate of a kept trace of the same problem": 3}


def test_the_token_budget_stops_the_run(server, tmp_path):
    problems = _problems(tmp_path, 3)
    server.set_default(lambda body: reply([_answer(models.GOOD_CODE, f"thought {i} " * 5) for i in range(2)]))
    config = _config(server, tmp_path, samples=2, target_tokens=10, llm=LLMConfig(
        model="teacher", base_url=server.url + "/v1", cache=tmp_path / "c.sqlite", max_concurrency=1))  # fmt: skip
    run = _run(problems, config)
    summary = json.loads((tmp_path / "traces" / "summary.json").read_text())
    assert summary["budget_reached"] and summary["kept"] == 1
    assert run.budget_reached
    assert len(server.chat_requests) == 1


def test_a_server_that_ignores_n_still_gives_k_samples(server, tmp_path):
    from tests.openai_server import ignore_n

    problems = _problems(tmp_path, 1)
    server.set_default(ignore_n(_answer(models.GOOD_CODE)))
    run = _run(problems, _config(server, tmp_path, samples=3, keep="all"))
    assert dict(run.counts) == {"kept": 3}


def test_two_endpoints_with_one_failing_finish_every_problem(tmp_path):
    with ScriptedOpenAIServer() as bad, ScriptedOpenAIServer() as good:
        bad.set_default(error(500, "down"))
        good.set_default(reply(_answer(models.GOOD_CODE)))
        problems = _problems(tmp_path, 3)
        config = _config(good, tmp_path, samples=1)
        clients = [LLMClient(LLMConfig(**{**config.llm.__dict__, "base_url": s.url + "/v1", "cache": None}))
                   for s in (bad, good)]  # fmt: skip
        run = _run(problems, config, clients)
        assert dict(run.counts) == {"kept": 3}
        assert len(good.chat_requests) == 3
        # each problem that went to the failing server first cost 2 attempts there, then moved to the good one
        assert len(bad.chat_requests) % 2 == 0 and len(bad.chat_requests) <= 6


def test_every_endpoint_failing_records_the_problem_as_failed_and_the_next_run_retries(server, tmp_path):
    problems = _problems(tmp_path, 1)
    server.set_default(error(503, "overloaded"))
    config = _config(server, tmp_path, samples=1)
    assert dict(_run(problems, config).counts) == {"failed": 1}
    server.set_default(reply(_answer(models.GOOD_CODE)))
    assert dict(_run(problems, config).counts) == {"kept": 1}


def test_killed_mid_run_the_rerun_has_every_sample_exactly_once(server, tmp_path):
    problems = _problems(tmp_path, 12)
    server.set_default(lambda body: reply([_answer(models.GOOD_CODE, f"t{i} " * 3) for i in range(2)]))
    server.delay = 0.3
    command = [sys.executable, "-m", "release.cli", "traces", str(problems), "-o", str(tmp_path / "out"),
               "--model", "teacher", "--base-url", server.url + "/v1", "--samples", "2", "--max-concurrency", "2",
               "--cache", str(tmp_path / "c.sqlite"), "--keep", "all"]  # fmt: skip
    log = tmp_path / "out" / "samples.log"
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (not log.exists() or len(log.read_text().splitlines()) < 6):
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert 6 <= len(log.read_text().splitlines()) < 24
    server.delay = 0.0
    again = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    keys = [json.loads(line)["key"] for line in log.read_text().splitlines()]
    assert len(keys) == len(set(keys)) == 24
    assert len(list(read_jsonl(tmp_path / "out" / "traces.jsonl", Trace))) == 24


def test_kept_traces_become_a_release_config_that_loads(server, tmp_path):
    from datasets import load_dataset

    from release.build import build_release
    from release.spec import load_spec
    from tests.release.specs import write_spec

    problems = _problems(tmp_path, 4)
    server.set_default(lambda body: reply([_answer(models.GOOD_CODE, f"idea {i} " * 4) for i in range(2)]))
    _run(problems, _config(server, tmp_path, samples=2))
    spec_dir = tmp_path / "spec"
    spec_dir.mkdir()
    write_jsonl(
        spec_dir / "problems.jsonl",
        read_jsonl(problems, __import__("curation.records.problem", fromlist=["Problem"]).Problem),
    )
    (spec_dir / "traces.jsonl").write_bytes((tmp_path / "traces" / "traces.jsonl").read_bytes())
    spec = write_spec(spec_dir, split="  by: source_kind\n  mapping: {synthetic-llm: train}",
                      extra_configs="  traces:\n    type: traces\n    source: {path: traces.jsonl}\n")  # fmt: skip
    text = spec.read_text().replace(
        "cas: {families: [two_body_decay, colour_factor, mass_dimension, dirac_trace], n: 40, seed: 0}",
        "path: problems.jsonl",
    )
    spec.write_text(text)
    build_release(load_spec(spec), tmp_path / "release")
    traces = load_dataset(str(tmp_path / "release"), "traces", split="train")
    assert traces.num_rows == 8
    assert traces[0]["messages"][-1]["role"] == "assistant"


def _traces_release(server, tmp_path) -> Path:
    """Problems and a `vqft traces` run over them, built into a release with a traces config."""
    from curation.records.problem import Problem
    from release.build import build_release
    from release.spec import load_spec
    from tests.release.specs import write_spec

    problems = _problems(tmp_path, 4)
    server.set_default(
        lambda body: reply(
            [_answer(models.GOOD_CODE, f"idea {i} " * 4) if i else _answer(WRONG) for i in range(3)]
        )
    )
    _run(problems, _config(server, tmp_path, samples=3, output=tmp_path / "spec" / "run"))
    write_jsonl(tmp_path / "spec" / "problems.jsonl", read_jsonl(problems, Problem))
    spec = write_spec(
        tmp_path / "spec",
        split="  by: source_kind\n  mapping: {synthetic-llm: train}",
        extra_configs="  traces:\n    type: traces\n    source: {traces: run}\n",
    )
    cas = "cas: {families: [two_body_decay, colour_factor, mass_dimension, dirac_trace], n: 40, seed: 0}"
    spec.write_text(spec.read_text().replace(cas, "path: problems.jsonl"))
    build_release(load_spec(spec), tmp_path / "release")
    return tmp_path / "release"


def test_a_traces_release_reports_the_teacher_pass_rates_and_tokens_per_topic(server, tmp_path):
    from release.validate import validate_release

    release = _traces_release(server, tmp_path)
    manifest = json.loads((release / "manifest.json").read_text())
    run = manifest["configs"]["traces"]["curation"]["run"]
    assert run["model"] == "teacher" and run["dropped_by_reason"] == {"not correct": 4}
    assert run["pass_rates"]["histogram"]["(0.6, 0.8]"] == 4  # 2 of 3 samples correct for each problem
    counts = manifest["configs"]["traces"]["splits"]["train"]["counts"]
    assert (
        counts["topic"] == {"t": 8} and sum(counts["tokens by topic"].values()) == counts["num_tokens_total"]
    )
    card = (release / "README.md").read_text()
    assert "sampled 12 traces from `teacher`" in card and "(0.6, 0.8]: 4" in card
    assert validate_release(release, load=False).ok


def test_the_traces_config_trains_with_trl_sft_trainer_as_is(server, tmp_path):
    pytest.importorskip("trl")
    from datasets import load_dataset
    from trl import SFTConfig, SFTTrainer

    from tests.llm.tiny_model import build_tiny_qwen2

    release = _traces_release(server, tmp_path)
    model = build_tiny_qwen2(tmp_path / "tiny", steps=5)
    dataset = load_dataset(str(release), "traces", split="train")
    args = SFTConfig(output_dir=str(tmp_path / "sft"), max_steps=2, per_device_train_batch_size=2, use_cpu=True,
                     bf16=False, max_length=256, report_to=[], logging_steps=1, save_strategy="no")  # fmt: skip
    trainer = SFTTrainer(model=str(model), train_dataset=dataset, args=args)
    result = trainer.train()
    assert result.global_step == 2 and result.training_loss > 0


def test_a_release_spec_can_sample_its_traces_as_a_build_stage(server, tmp_path):
    from curation.records.problem import Problem
    from release.build import build_release
    from release.spec import load_spec
    from tests.release.specs import write_spec

    problems = _problems(tmp_path, 3)
    server.set_default(lambda body: reply([_answer(models.GOOD_CODE, f"step {i} " * 4) for i in range(2)]))
    (tmp_path / "spec").mkdir()
    write_jsonl(tmp_path / "spec" / "problems.jsonl", read_jsonl(problems, Problem))
    sample = (f"{{llm: {{model: teacher, base_url: '{server.url}/v1', cache: {tmp_path / 'c.sqlite'}}}, "
              "samples: 2, dedup_threshold: null}")  # fmt: skip
    spec = write_spec(
        tmp_path / "spec",
        split="  by: source_kind\n  mapping: {synthetic-llm: train}",
        extra_configs=f"  traces:\n    type: traces\n    source: {{traces: run, sample: {sample}}}\n",
    )
    cas = "cas: {families: [two_body_decay, colour_factor, mass_dimension, dirac_trace], n: 40, seed: 0}"
    spec.write_text(spec.read_text().replace(cas, "path: problems.jsonl"))
    manifest = build_release(load_spec(spec), tmp_path / "release").manifest
    assert manifest["configs"]["traces"]["splits"]["train"]["rows"] == 6
    assert manifest["configs"]["traces"]["curation"]["run"]["model"] == "teacher"
    requests = len(server.chat_requests)
    build_release(load_spec(spec), tmp_path / "release")
    assert len(server.chat_requests) == requests  # the run's log: nothing is sampled twice


def test_rate_limits_malformed_bodies_and_hangs_are_retried_and_every_sample_lands(server, tmp_path):
    from tests.openai_server import hang, malformed_json

    problems = _problems(tmp_path, 1)
    server.script(error(429, "slow down", retry_after=0), malformed_json(), hang(3))
    server.set_default(reply([_answer(models.GOOD_CODE, f"path {i} " * 4) for i in range(2)]))
    llm = LLMConfig(model="teacher", base_url=server.url + "/v1", cache=tmp_path / "c.sqlite", timeout=1.0,
                    max_retries=4, backoff_base=0.01, backoff_max=0.02)  # fmt: skip
    run = _run(problems, _config(server, tmp_path, samples=2, llm=llm))
    assert dict(run.counts) == {"kept": 2}
    assert len(server.chat_requests) == 4  # 429, malformed, hang (timed out), then the answer


def test_a_bad_problems_file_exits_2_naming_file_line_and_field(tmp_path, capsys):
    from release.cli import main

    (tmp_path / "problems.jsonl").write_text('{"statement": "x"}\n')
    code = main(["traces", str(tmp_path / "problems.jsonl"), "-o", str(tmp_path / "out"), "--model", "m",
                 "--base-url", "http://127.0.0.1:9/v1", "--cache", "off"])  # fmt: skip
    assert code == 2
    assert "problems.jsonl, line 1, field answer: is required" in capsys.readouterr().err
