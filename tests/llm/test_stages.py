"""The LLM stages against the scripted server: synthetic generation (plan, checks, repair, rejection, failures,
resume), adaptation of seeds, the quality check, the independent solver and the pipeline."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
import yaml

from curation.adapt import AdaptSettings, run_adapt
from curation.quality import QCPolicy, run_qc
from curation.records.io import read_jsonl, write_jsonl
from curation.records.problem import Problem
from generation.llm import LLMClient, LLMConfig
from generation.solve import SolveSettings, run_solve
from generation.synthetic import SyntheticConfig, plan_slots, run_synthetic
from generation.topics import load_taxonomy
from release.cli import main
from tests.llm import scripted_models as models
from tests.openai_server import error, json_reply


def _llm(server, tmp_path, **overrides) -> LLMConfig:
    options = dict(model="test-model", base_url=server.url + "/v1", cache=tmp_path / "cache.sqlite",
                   backoff_base=0.01, backoff_max=0.02, max_retries=1, timeout=5.0)  # fmt: skip
    return LLMConfig(**{**options, **overrides})


def _synthetic(server, tmp_path, n=4, **overrides) -> SyntheticConfig:
    options = dict(llm=_llm(server, tmp_path), output=tmp_path / "out" / "synthetic.jsonl", n=n,
                   levels={"graduate": 1.0}, categories=("qed-processes",), max_repairs=1)  # fmt: skip
    return SyntheticConfig(**{**options, **overrides})


def _generate(config: SyntheticConfig):
    async def run():
        async with LLMClient(config.llm) as client:
            return await run_synthetic(config, client)

    return asyncio.run(run())


def test_the_plan_keeps_its_prefix_when_n_grows(tmp_path):
    taxonomy = load_taxonomy("qft")
    config = SyntheticConfig(llm=LLMConfig(model="m"), output=tmp_path / "x.jsonl", n=10)
    bigger = SyntheticConfig(llm=LLMConfig(model="m"), output=tmp_path / "x.jsonl", n=30)
    assert plan_slots(bigger, taxonomy)[:10] == plan_slots(config, taxonomy)
    levels = [s.level for s in plan_slots(bigger, taxonomy)]
    assert (
        len(set(levels)) == 4
        and max(levels.count(lv) for lv in set(levels)) - min(levels.count(lv) for lv in set(levels)) <= 1
    )


def test_synthetic_problems_are_accepted_with_outputs_from_the_sandbox(server, tmp_path):
    server.set_default(models.good_generator)
    summary = _generate(_synthetic(server, tmp_path))
    assert summary.counts == {"accepted": 4}
    problems = list(read_jsonl(tmp_path / "out" / "synthetic.jsonl", Problem))
    assert len({p.id for p in problems}) == 4
    first = problems[0]
    assert first.source.kind == "synthetic-llm" and first.level == "graduate"
    assert (
        first.source.provenance["model"] == "test-model"
        and len(first.source.provenance["prompt_sha256"]) == 16
    )
    assert [case.output for case in first.answer.test_cases] == [2**0.5, 5.0, 4.25**0.5]


def test_earlier_problems_of_the_topic_are_in_the_prompt(server, tmp_path):
    server.set_default(models.good_generator)
    _generate(_synthetic(server, tmp_path, n=4, categories=("qed-processes",), levels={"graduate": 1.0}))
    by_topic: dict[str, list[str]] = {}
    for body in server.chat_requests:
        by_topic.setdefault(models.topic_of(body), []).append(body["messages"][1]["content"])
    prompts = next(p for p in by_topic.values() if len(p) >= 2)
    assert "Problems already written on this topic" not in prompts[0]
    assert "- relativistic energy of a free particle" in prompts[1]


def test_a_failing_reference_goes_back_to_the_model_with_the_reason(server, tmp_path):
    broken = models.code_problem("broken", reference="def energy(p, m):\n    return p / 0\n")
    server.script(json_reply(broken))
    server.set_default(models.good_generator)
    summary = _generate(_synthetic(server, tmp_path, n=1))
    assert summary.counts == {"accepted": 1}
    repair = server.chat_requests[1]["messages"][-1]["content"]
    assert repair.startswith(
        "The problem you wrote cannot be used yet: the answer spec is not usable: the reference raised"
    )
    assert "ZeroDivisionError" in repair


def test_a_problem_that_stays_broken_is_rejected_with_the_reason(server, tmp_path):
    constant = models.code_problem("constant", reference="def energy(p, m):\n    return 1.0\n")
    server.set_default(json_reply(constant))
    summary = _generate(_synthetic(server, tmp_path, n=1))
    assert summary.counts == {"rejected": 1}
    rejected = [
        json.loads(line) for line in (tmp_path / "out" / "synthetic.rejected.jsonl").read_text().splitlines()
    ]
    assert rejected[0]["reason"].startswith(
        "every test case expects the same output 1.0, so a constant function passes"
    )
    assert rejected[0]["attempts"] == 2
    assert (tmp_path / "out" / "synthetic.jsonl").read_text() == ""


def test_requests_that_keep_failing_are_recorded_and_retried_on_the_next_run(server, tmp_path):
    server.set_default(error(500, "overloaded"))
    config = _synthetic(server, tmp_path, n=2)
    assert _generate(config).counts == {"failed": 2}
    rejected = [
        json.loads(line) for line in (tmp_path / "out" / "synthetic.rejected.jsonl").read_text().splitlines()
    ]
    assert rejected[0]["error"]["kind"] == "http 500"
    server.set_default(models.good_generator)
    assert _generate(config).counts == {"accepted": 2}


def test_a_rerun_does_nothing_and_raising_n_adds_only_the_difference(server, tmp_path):
    server.set_default(models.good_generator)
    _generate(_synthetic(server, tmp_path, n=3))
    first = len(server.chat_requests)
    assert _generate(_synthetic(server, tmp_path, n=3)).counts == {"accepted": 3}
    assert len(server.chat_requests) == first
    assert _generate(_synthetic(server, tmp_path, n=5)).counts == {"accepted": 5}
    assert len(server.chat_requests) == first + 2


def _problems(tmp_path: Path, n: int = 3) -> Path:
    from curation.records.authored import problem_from_reply
    from curation.records.problem import Source

    problems = []
    for i in range(n):
        reply = models.code_problem(f"p{i}")
        outputs = [2**0.5, 5.0, 4.25**0.5]
        problems.append(problem_from_reply(reply, Source("synthetic-llm", {}), topic="t", level="graduate",
                                           task_type="direct-calculation", outputs=outputs))  # fmt: skip
    path = tmp_path / "problems.jsonl"
    write_jsonl(path, problems)
    return path


def test_qc_keeps_problems_above_threshold_and_sets_aside_the_rest_with_reasons(server, tmp_path):
    path = _problems(tmp_path, 2)
    low = {"problem_quality": 40}
    server.on(lambda b: models.is_judge(b) and "(p1)" in b["messages"][1]["content"], models.judge(low))
    server.set_default(models.judge({}))

    async def run():
        async with LLMClient(_llm(server, tmp_path)) as judge:
            return await run_qc(path, tmp_path / "kept.jsonl", [judge], QCPolicy(), concurrency=2)

    assert asyncio.run(run()) == {"kept": 1, "set_aside": 1}
    kept = list(read_jsonl(tmp_path / "kept.jsonl", Problem))
    assert kept[0].qc["test-model"]["problem_quality"] == {"score": 90, "reason": "problem_quality looks 90"}
    aside = json.loads((tmp_path / "kept.set_aside.jsonl").read_text())
    assert aside["reasons"] == ["problem_quality 40 < 70 (test-model: problem_quality looks 40)"]


def test_two_judges_are_combined_by_mean():
    policy = QCPolicy(combine="mean")
    qc = {
        "a": {"problem_quality": {"score": 60, "reason": "x"}},
        "b": {"problem_quality": {"score": 90, "reason": "y"}},
    }
    assert policy.decide(qc) == []
    assert QCPolicy(combine="min").decide(qc) == ["problem_quality 60 < 70 (a: x; b: y)"]


def _solve(server, tmp_path, settings: SolveSettings):
    path = _problems(tmp_path, 1)

    async def run():
        async with LLMClient(_llm(server, tmp_path)) as client:
            return await run_solve(path, tmp_path / "solved.jsonl", client, settings, concurrency=1)

    return asyncio.run(run())


def test_the_solver_stops_at_the_first_correct_attempt(server, tmp_path):
    wrong = models.solver("def energy(p, m):\n    return p + m\n")
    server.script(wrong(None))
    server.set_default(models.solver())
    assert _solve(server, tmp_path, SolveSettings(k=4)) == {"solved": 1}
    record = next(iter(read_jsonl(tmp_path / "solved.jsonl", Problem))).solver["test-model"]
    assert [a["status"] for a in record["attempts"]] == ["incorrect", "correct"]
    assert (record["correct"], record["first_correct"], record["pass_at_k"]) == (1, 1, True)


def test_a_truncated_attempt_is_never_correct_and_unsolved_problems_are_set_aside(server, tmp_path):
    server.set_default(models.solver(finish_reason="length"))
    assert _solve(server, tmp_path, SolveSettings(k=2)) == {"unsolved": 1}
    unsolved = json.loads((tmp_path / "solved.unsolved.jsonl").read_text())
    assert [a["status"] for a in unsolved["problem"]["solver"]["test-model"]["attempts"]] == [
        "truncated",
        "truncated",
    ]


def test_adapted_problems_carry_the_seed_and_its_provenance(server, tmp_path):
    folder = tmp_path / "seeds" / "peskin-notes" / "chapter3"
    folder.mkdir(parents=True)
    pairs = [
        {
            "problem": "Find the energy of a free particle of momentum p and mass m.",
            "solution": "E^2=p^2+m^2.",
        }
    ]
    (folder / "matched_pairs.yaml").write_text(yaml.safe_dump(pairs))
    server.set_default(models.good_generator)

    async def run():
        async with LLMClient(_llm(server, tmp_path)) as client:
            return await run_adapt(
                tmp_path / "seeds", tmp_path / "adapted.jsonl", client, AdaptSettings(), concurrency=1
            )

    assert asyncio.run(run()) == {"accepted": 1}
    problem = next(iter(read_jsonl(tmp_path / "adapted.jsonl", Problem)))
    provenance = problem.source.provenance
    assert problem.source.kind == "adapted" and provenance["licence"] == "unknown"
    assert provenance["seed"]["problem"] == pairs[0]["problem"]
    assert provenance["seed_source"]["file"] == "peskin-notes/chapter3/matched_pairs.yaml"
    assert "## Original problem\nFind the energy" in server.chat_requests[0]["messages"][1]["content"]


def test_the_pipeline_chains_generate_qc_and_solve(server, tmp_path, capsys):
    server.on(models.is_judge, models.judge({}))
    server.on(models.is_solver, models.solver())
    server.set_default(models.good_generator)
    config = {
        "output_dir": str(tmp_path / "run"),
        "llm": {"model": "test-model", "base_url": server.url + "/v1", "cache": str(tmp_path / "c.sqlite")},
        "generate": {"n": 3, "levels": {"graduate": 1.0}, "categories": ["qed-processes"]},
        "qc": {},
        "solve": {"k": 2},
    }
    path = tmp_path / "pipeline.yaml"
    path.write_text(yaml.safe_dump(config))
    assert main(["pipeline", str(path)]) == 0
    out = capsys.readouterr().out
    assert "generate  accepted 3" in out and "qc        kept 3" in out and "solve     solved 3" in out
    verified = list(read_jsonl(tmp_path / "run" / "verified.jsonl", Problem))
    assert len(verified) == 3 and all(p.qc and p.solver for p in verified)
    requests = len(server.chat_requests)
    assert main(["pipeline", str(path)]) == 0
    assert len(server.chat_requests) == requests


def test_synthetic_generation_killed_mid_run_resumes_with_every_problem_exactly_once(server, tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    server.set_default(models.good_generator)
    server.delay = 0.3
    config = {
        "llm": {"model": "test-model", "base_url": server.url + "/v1", "cache": str(tmp_path / "c.sqlite")},
        "output": str(tmp_path / "out" / "synthetic.jsonl"),
        "n": 16,
        "levels": {"graduate": 1.0},
        "categories": ["qed-processes"],
    }
    path = tmp_path / "synthetic.yaml"
    path.write_text(yaml.safe_dump(config))
    command = [sys.executable, "-m", "release.cli", "generate", "synthetic", "--config", str(path)]
    root = Path(__file__).resolve().parents[2]
    log = tmp_path / "out" / "synthetic.jsonl.log"
    process = subprocess.Popen(command, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (not log.exists() or len(log.read_text().splitlines()) < 4):
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    finished_before = len(log.read_text().splitlines())
    assert 4 <= finished_before < 16
    server.delay = 0.0
    again = subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    keys = [json.loads(line)["key"] for line in log.read_text().splitlines()]
    assert sorted(keys) == sorted(set(keys)) and len(keys) == 16
    problems = list(read_jsonl(tmp_path / "out" / "synthetic.jsonl", Problem))
    assert len(problems) == len({p.id for p in problems}) == 16


@pytest.mark.parametrize("name", ["synthetic-openai.yaml", "synthetic-vllm.yaml"])
def test_shipped_synthetic_configs_load(name):
    from generation.synthetic import load_synthetic_config

    config = load_synthetic_config(Path(__file__).resolve().parents[2] / "generation" / "configs" / name)
    assert config.llm.model and config.n >= 1


def test_a_config_that_is_not_a_mapping_names_its_file(tmp_path):
    from generation.synthetic import SyntheticConfigError, load_synthetic_config

    path = tmp_path / "cfg.yaml"
    path.write_text("- just\n- a list\n")
    with pytest.raises(SyntheticConfigError, match=f"{path}: the config must be a YAML mapping"):
        load_synthetic_config(path)


def test_a_command_whose_config_cannot_be_read_exits_2_naming_it(tmp_path, capsys):
    missing = tmp_path / "nowhere.yaml"
    assert main(["generate", "synthetic", "--config", str(missing), "-o", str(tmp_path / "out.jsonl")]) == 2
    assert f"{missing}: cannot read the config" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["pipeline-openai.yaml", "pipeline-vllm.yaml"])
def test_shipped_pipeline_configs_name_known_stages(name):
    from generation.pipeline import STAGES

    data = yaml.safe_load((Path(__file__).resolve().parents[2] / "generation" / "configs" / name).read_text())
    assert set(data) <= {"output_dir", "llm", *STAGES}
