"""`vqft traces` end to end (request -> verify -> log -> outputs) vs the plain sequence of the same steps.

    .venv/bin/python benchmarks/traces_bench.py [--problems 500] [--samples 4] [--concurrency 64]
    .venv/bin/python benchmarks/traces_bench.py --memory 2000,8000     # peak RSS at two sizes (flat memory)

A local OpenAI-compatible server (tests/openai_server.py, its own process) answers instantly with realistic
traces: 2-8k pre-tokens of LaTeX-heavy reasoning in ``<think>`` and a boxed final answer, correct for 3 samples
in 4. The problems are CAS problems with symbolic answers. The baseline is what a script would do by hand: for
each sample, one ``openai`` request, ``curation.verify.verify``, and one appended JSONL line. Ours is
``generation.traces.run_traces`` (K samples per request, grading on the warm pool, near-duplicate check, the
resume log, the output files). Both start from empty caches.

Targets (issue 8): >= 10x the plain sequence and >= 100 traces/s on 2 cores; memory flat as traces grow. The
script prints the extrapolated wall time and disk size for 200M kept tokens.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WORDS = (
    r"the amplitude \mathcal{M} vertex propagator \frac{i}{p^2-m^2} spinor \bar{u}(p') \gamma^\mu u(p) trace "
    r"Tr[\gamma^\mu \gamma^\nu] = 4 g^{\mu\nu} Mandelstam s t u sum over spins average factor \frac{1}{4} "
    r"phase space d\Omega loop integral \int \frac{d^dk}{(2\pi)^d} Feynman parameter x \in [0,1] divergence "
    r"\frac{1}{\epsilon} counterterm \delta_Z coupling e^2 = 4\pi\alpha so we get then check the limit m \to 0 "
    r"consistent with gauge invariance Ward identity q_\mu \mathcal{M}^\mu = 0 hence"
).split()

SERVER = r"""
import json, random, sys, time
sys.path.insert(0, {root!r})
from tests.openai_server import ScriptedOpenAIServer, reply
answers = json.load(open({answers!r}))
words = {words!r}
# A pool of pre-made thoughts keeps the server cheap (it shares the 2 cores with the toolkit under test).
pool_rng = random.Random(0)
thoughts = [" ".join(pool_rng.choice(words) for _ in range(pool_rng.randint(1500, 6000))) for _ in range(256)]
def respond(body):
    user = body["messages"][-1]["content"]
    answer = next(a for s, a in answers if s in user)
    n = body.get("n", 1)
    seed = hash(user) & 0xFFFF
    contents = []
    for i in range(n):
        rng = random.Random(seed * 31 + i + body.get("seed", 0) * 7)
        thought = rng.choice(thoughts) + " " + str(rng.random())
        final = answer if i % 4 != 3 else "0"
        contents.append(f"<think>{{thought}}</think>\nSo the result is $\\boxed{{{{{{final}}}}}}$.")
    return reply(contents)
server = ScriptedOpenAIServer().start()
server.set_default(respond)
print(server.url, flush=True)
time.sleep(36000)
"""

TARGET_SPEEDUP = 10.0
TARGET_RATE = 100.0


def _prepare(folder: Path, count: int) -> tuple[Path, Path]:
    from curation.records.io import write_jsonl
    from generation.cas import generate

    families = "all"  # 4,264 distinct problems; answers of every kind of CAS family
    problems = list(generate(families, n=count, seed=1))
    path = folder / "problems.jsonl"
    write_jsonl(path, problems)
    answers = folder / "answers.json"
    answers.write_text(
        json.dumps([[p.statement, p.answer_text.strip("$").split("=", 1)[-1].strip()] for p in problems])
    )
    return path, answers


def _start_server(answers: Path) -> tuple[subprocess.Popen, str]:
    code = SERVER.format(root=str(ROOT), answers=str(answers), words=WORDS)
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    return process, process.stdout.readline().strip()


def baseline(url: str, problems_path: Path, samples: int, limit: int, out: Path) -> tuple[int, float]:
    """(samples done, seconds) for the plain sequence over the first ``limit`` problems."""
    import openai

    from curation.records.io import read_jsonl
    from curation.records.problem import Problem
    from curation.verify import verify
    from generation.traces import trace_messages

    client = openai.OpenAI(base_url=url + "/v1", api_key="x", max_retries=0)
    done = 0
    start, cpu = time.perf_counter(), time.process_time()
    with open(out, "a", encoding="utf-8") as log:
        for number, problem in enumerate(read_jsonl(problems_path, Problem)):
            if number >= limit:
                break
            messages = trace_messages(problem, None)
            for index in range(samples):
                response = client.chat.completions.create(model="teacher", messages=messages, seed=index)
                text = response.choices[0].message.content
                result = verify(problem, text)
                log.write(
                    json.dumps({"problem_id": problem.id, "text": text, "status": result.status}) + "\n"
                )
                done += 1
    seconds = time.perf_counter() - start
    print(f"plain sequence: this process's CPU {(time.process_time() - cpu) / max(done, 1) * 1e3:.2f} ms/sample "
          "(grading runs in the pool's workers)")  # fmt: skip
    return done, seconds


def train_tokenizer(folder: Path) -> str:
    """A byte-level BPE tokenizer file trained on the trace vocabulary (a stand-in for the student's tokenizer,
    which a real run names with hf:...; nothing can be downloaded here)."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE(unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    rng = random.Random(0)
    corpus = [" ".join(rng.choice(WORDS) for _ in range(200)) for _ in range(500)]
    tokenizer.train_from_iterator(corpus, trainers.BpeTrainer(vocab_size=4000, special_tokens=["[UNK]"]))
    path = folder / "tokenizer.json"
    tokenizer.save(str(path))
    return f"file:{path}"


def ours_in_subprocess(
    url: str, problems_path: Path, samples: int, concurrency: int, out: Path, tokenizer: str
) -> dict:
    """Run run_traces in a fresh process; returns its wall time, counts and peak RSS."""
    code = f"""
import asyncio, json, resource, sys, time
sys.path.insert(0, {str(ROOT)!r})
from pathlib import Path
from generation.llm import LLMConfig
from generation.traces import TracesConfig, run_traces
config = TracesConfig(llm=LLMConfig(model="teacher", base_url={url + "/v1"!r}, cache=Path({str(out)!r}) / "cache.sqlite",
                                    max_concurrency={concurrency}),
                      output=Path({str(out)!r}), samples={samples}, keep="correct", tokenizer={tokenizer!r})
start, cpu = time.perf_counter(), time.process_time()
run = asyncio.run(run_traces(Path({str(problems_path)!r}), config))
elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
summary = json.loads((Path({str(out)!r}) / "summary.json").read_text())
print(json.dumps({{"seconds": elapsed, "cpu_seconds": cpu, "samples": summary["samples"], "kept": summary["kept"],
                  "kept_tokens": summary["kept_tokens"], "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=36000)
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-3000:])
    return json.loads(result.stdout.strip().splitlines()[-1])


def _disk(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and p.name != "cache.sqlite")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--problems", type=int, default=500)
    parser.add_argument("--samples", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--baseline-problems", type=int, default=40)
    parser.add_argument(
        "--tokenizer",
        default="rust",
        choices=("rust", "pretokens"),
        help="rust: a BPE tokenizer file (encode_batch in Rust); pretokens: pretokens:gpt2 in Python",
    )
    parser.add_argument(
        "--memory", default="", help="comma-separated problem counts for the RSS check, e.g. 2000,8000"
    )
    args = parser.parse_args()
    random.seed(0)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"tokenizer: {args.tokenizer}"
    )
    sizes = [int(x) for x in args.memory.split(",") if x] or [args.problems]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        problems_path, answers = _prepare(folder, max(sizes + [args.problems]))
        tokenizer = train_tokenizer(folder) if args.tokenizer == "rust" else "pretokens:gpt2"
        server, url = _start_server(answers)
        try:
            done, seconds = baseline(
                url, problems_path, args.samples, args.baseline_problems, folder / "plain.jsonl"
            )
            plain = done / seconds
            print(f"plain sequence: {done} samples in {seconds:.1f}s = {plain:.1f} samples/s")
            rows = []
            for size in sizes:
                subset = folder / f"problems-{size}.jsonl"
                with open(problems_path) as source, open(subset, "w") as target:
                    for number, line in enumerate(source):
                        if number >= size:
                            break
                        target.write(line)
                out = folder / f"ours-{size}"
                stats = ours_in_subprocess(url, subset, args.samples, args.concurrency, out, tokenizer)
                stats["disk"] = _disk(out)
                rows.append((size, stats))
                rate = stats["samples"] / stats["seconds"]
                print(f"ours, {size} problems: {stats['samples']} samples ({stats['kept']} kept, {stats['kept_tokens']:,} "
                      f"kept tokens) in {stats['seconds']:.1f}s = {rate:.1f} samples/s, {rate / plain:.1f}x plain; "
                      f"peak RSS {stats['rss_mb']:.0f} MB; {stats['disk'] / 1e6:.1f} MB on disk; this process's CPU "
                      f"{stats['cpu_seconds'] / stats['samples'] * 1e3:.2f} ms/sample (all threads)")  # fmt: skip
        finally:
            server.kill()
    size, stats = rows[-1]
    rate = stats["samples"] / stats["seconds"]
    tokens_per_second = stats["kept_tokens"] / stats["seconds"]
    hours = 200e6 / tokens_per_second / 3600
    disk = stats["disk"] / max(stats["kept_tokens"], 1) * 200e6
    print(
        f"200M kept tokens at this rate: {hours:.1f} h of toolkit time, {disk / 1e9:.1f} GB on disk "
        "(log + outputs; the teacher's generation time is extra)"
    )
    print(
        f"target >= {TARGET_SPEEDUP:.0f}x plain: {rate / plain:.1f}x {'PASS' if rate / plain >= TARGET_SPEEDUP else 'FAIL'}"
    )
    print(f"target >= {TARGET_RATE:.0f} traces/s: {rate:.1f} {'PASS' if rate >= TARGET_RATE else 'FAIL'}")
    if len(rows) > 1:
        first, last = rows[0][1]["rss_mb"], rows[-1][1]["rss_mb"]
        verdict = "PASS" if last <= first * 1.2 else "FAIL"
        print(
            f"memory: {first:.0f} MB at {rows[0][0]} problems, {last:.0f} MB at {rows[-1][0]} ({last / first:.2f}x) {verdict}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
