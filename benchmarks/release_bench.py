"""Release build benchmark: ``build_release`` on a traces config vs writing the same rows with bare pyarrow.

    .venv/bin/python benchmarks/release_bench.py                  # 2M and 20M tokens (default)
    .venv/bin/python benchmarks/release_bench.py --sizes 200M     # the documented big run (~1.5 GB of input)

Input (not timed, written once per size into ``--workdir``, streamed: no more than one trace in memory): a few
hundred seeded synthetic problems (``source.kind: synthetic-llm``, symbolic answers) and teacher traces of
2k-8k GPT-2 pre-tokens each, LaTeX-heavy QFT reasoning drawn from a vocabulary of words, macros and numbered
inline/display formulas (so zstd sees text that compresses like prose, not one repeated string), as chat
``messages`` (user statement, assistant ``<think>...</think>`` + ``\\boxed{...}``) with ``reasoning``,
``final``, and ``num_tokens`` counted by ``curation.records.tokens.PretokenCounter`` on the message contents
(the text the build recounts on) with ``tokenizer: pretokens:gpt2``, the spec's tokenizer, so the build keeps
``num_tokens`` (token counting off).

Each measurement runs in a fresh subprocess; peak RSS is that process's ``ru_maxrss`` at its end. Ours and the
baseline run ``--repeat`` times, interleaved; the table shows median wall and CPU seconds and the highest RSS.
The CPU seconds (``time.process_time``, all threads) are the figure to trust when the load average printed
with each size shows other work sharing the machine.

- ours: ``build_release(load_spec(spec), out)`` for a spec with a ``problems`` config (problems.jsonl) and a
  ``traces`` config (traces.jsonl), ``split: {by: source_kind, mapping: {synthetic-llm: train}}``,
  ``shards: {max_bytes: 500MB}``: validation into Trace records, row conversion, shard cutting, fsync +
  sha256 of every part, progress log, manifest (which reads the counted columns back) and the card (matplotlib
  plots). The time after the last traces shard (manifest + card) is reported separately as "finalize".
- baseline: bare pyarrow, what writing the same rows costs with nothing else: ``json.loads`` of each line, the
  row dict built directly from the JSON (the same TRACE_FEATURES columns and values, no validation, no
  record objects), ``pa.Table.from_pylist`` every 1,000 rows (ours' row group size) into one
  ``pq.ParquetWriter`` with ours' settings (zstd, page index). Building the row from ``Trace.from_dict`` +
  ``trace_to_row`` would charge our record layer to the baseline, hiding the overhead the issue asks about;
  using ours' writer settings keeps the Parquet encoding work identical, so the ratio is our build's overhead.
- token counting, reported separately: tokens/s of ``PretokenCounter().count`` and of
  ``RustTokenizerCounter.count`` (a byte-level BPE trained offline with ``tokenizers`` on other synthetic
  traces, asked for 32k tokens, ~8k learned as the synthetic vocabulary is small; a model tokenizer from the
  Hub is the same kind of object) on batches of 256 message texts of at most 20M tokens,
  and two builds that recount every trace: the traces relabelled with another tokenizer (pretokens:gpt2
  recounts), and the spec naming the BPE file (``file:``, Rust batch encoding recounts).

Targets (issue): ours' peak RSS < 1 GB and within 20% between 2M and 20M tokens; ours' throughput >= 0.5x the
bare pyarrow write with token counting off. ``--row-group-bytes 16MiB`` shows ours with smaller row groups
(peak RSS is about the import footprint plus ~3x one row group's text).

The documented 200M run (``--sizes 200M``; the project's 2-core VM shared with other jobs, load average ~2.5,
2026-11-26): 38,988 traces, 200.0M tokens, 1,439 MB of JSONL (154 s to prepare, not timed) into 3 shards,
418 MB of Parquet. Ours 21.5 s (median of 14.2, 21.5, 25.7 s; 9.3M tokens/s, 67 MB/s of input), bare pyarrow
17.5 s (11.8, 17.5, 24.8 s): 0.81x end to end, 0.86x for the traces config alone (finalize 1.1 s); peak RSS
375 MiB (bare pyarrow 347 MiB; with ``row_group_bytes: 16MiB`` 280 MiB). Recounting every trace: 120.5 s with
pretokens:gpt2 (1.7M tokens/s), 285 s with the BPE (0.7M tokens/s, peak RSS 478 MiB).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PROBLEMS = 300
MIN_TOKENS, MAX_TOKENS = 2000, 8000
TOKEN_BATCH = 256
ROW_GROUP_ROWS = 1000
MODEL = "synthetic-teacher-v1"
RECOUNT_TOKENIZER = "unknown:teacher-tokenizer"
BPE_VOCAB = 32000
COUNT_TOKENS = 20 * 10**6  # the token-counting measurement uses at most this many tokens of a size's traces

# ---------------------------------------------------------------------------------------------------------
# Synthetic input
# ---------------------------------------------------------------------------------------------------------

WORDS = (
    "the a an of in for with and at to from by on is are we this that it which so then thus hence since "
    "where when now first next finally note recall consider compute evaluate derive obtain find write use "
    "expand integrate substitute simplify check gives becomes reads equals vanishes contributes cancels "
    "amplitude propagator vertex loop tree scalar fermion photon electron muon quark gluon gauge boson "
    "coupling renormalization counterterm cross section decay width mass momentum energy spin helicity "
    "polarization lagrangian field operator vacuum expectation value trace spinor Dirac matrix identity "
    "Feynman parameter Wick rotation dimensional regularization divergence pole finite part on-shell "
    "off-shell Mandelstam variable center-of-mass frame phase space integral factor symmetry sum average "
    "initial final state leading order one-loop two-body three-body Ward identity Lorentz invariant "
    "Yukawa QED QCD electroweak Higgs colour charge conservation unitarity optical theorem partial wave "
    "beta function anomalous dimension running scale massless limit high-energy threshold numerator "
    "denominator term terms coefficient sign overall careful wait actually let me double-check again good "
    "so the result is consistent with dimensional analysis units natural"
).split()

# fmt: off
MACROS = (
    r"\gamma^\mu", r"\gamma_\mu", r"\gamma^5", r"\not{p}", r"\not{k}", r"\bar{u}(p')", r"u(p)", r"v(k)",
    r"\bar{\psi}", r"\psi", r"\partial_\mu", r"\partial^\mu", r"A_\mu", r"F_{\mu\nu}", r"F^{\mu\nu}",
    r"g_{\mu\nu}", r"\eta^{\mu\nu}", r"\epsilon^{\mu\nu\rho\sigma}", r"\delta^{ab}", r"T^a", r"f^{abc}",
    r"\alpha_s", r"\alpha", r"e^2", r"g^2", r"\lambda", r"m_e", r"m_\mu", r"m_t", r"M_W", r"M_Z", r"\Gamma",
    r"s", r"t", r"u", r"p_1", r"p_2", r"k_1", r"k_2", r"q^2", r"\mu^2", r"\Lambda", r"\epsilon", r"d",
    r"\mathrm{Tr}", r"\sum_{\text{spins}}", r"\int \frac{d^4 k}{(2\pi)^4}", r"\int_0^1 dx", r"\log",
    r"\sqrt{s}", r"\cos\theta", r"\sin^2\theta_W", r"N_c", r"C_F", r"C_A", r"T_F", r"\pi", r"i",
)
# fmt: on
OPS = (" + ", " - ", " ", r" \cdot ", r" \times ", " = ", r" \approx ")


def _number(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.4:
        return str(rng.randint(2, 64))
    if roll < 0.7:
        return f"{rng.uniform(0.01, 999):.{rng.randint(1, 4)}f}"
    if roll < 0.85:
        return rf"\frac{{{rng.randint(1, 16)}}}{{{rng.randint(2, 128)}}}"
    return f"{rng.uniform(1, 9.99):.2f}\\times 10^{{{rng.randint(-12, 12)}}}"


def _formula(rng: random.Random, terms: int) -> str:
    parts = []
    for _ in range(terms):
        roll = rng.random()
        if roll < 0.55:
            piece = rng.choice(MACROS)
        elif roll < 0.75:
            piece = _number(rng)
        elif roll < 0.9:
            piece = rf"\frac{{{rng.choice(MACROS)}}}{{{rng.choice(MACROS)}^{rng.randint(2, 4)}}}"
        else:
            piece = rf"\left({rng.choice(MACROS)}{rng.choice(OPS)}{rng.choice(MACROS)}\right)"
        parts.append(piece)
        parts.append(rng.choice(OPS))
    return "".join(parts[:-1])


def _sentence(rng: random.Random) -> str:
    words = rng.choices(WORDS, k=rng.randint(6, 22))
    words[0] = words[0].capitalize()
    for _ in range(rng.randint(0, 3)):
        words.insert(rng.randrange(1, len(words) + 1), f"${_formula(rng, rng.randint(1, 4))}$")
    return " ".join(words) + rng.choice((".", ".", ".", ",", ":", "?"))


def _paragraph(rng: random.Random) -> str:
    if rng.random() < 0.3:
        label = rng.randint(1, 99)
        body = _formula(rng, rng.randint(4, 12))
        return f"\\begin{{equation}}\n{body}\n\\label{{eq:{label}}}\n\\end{{equation}}"
    return " ".join(_sentence(rng) for _ in range(rng.randint(2, 6)))


def _text(rng: random.Random, approx_tokens: int) -> str:
    """About ``approx_tokens`` pre-tokens of reasoning (roughly 3.3 characters each for this mix)."""
    chars = int(approx_tokens * 3.3)
    paragraphs: list[str] = []
    size = 0
    while size < chars:
        paragraph = _paragraph(rng)
        paragraphs.append(paragraph)
        size += len(paragraph) + 2
    return "\n\n".join(paragraphs)


def make_problems(seed: int = 0) -> list:
    """``PROBLEMS`` seeded synthetic problems with simple symbolic answers."""
    from curation.records.answer import SymbolicAnswer
    from curation.records.problem import Problem, Source

    rng = random.Random(f"problems:{seed}")
    topics = ("qed/scattering", "qed/decays", "qcd/colour", "electroweak/widths", "loops/renormalization")
    levels = ("undergraduate", "graduate", "research")
    symbols = ("e", "g", "m", "M", "s", "lam")
    problems = []
    for i in range(PROBLEMS):
        a, b = rng.sample(symbols, 2)
        n = rng.randint(2, 64)
        expr = rng.choice(
            (f"{a}**2/({n}*pi*{b})", f"{a}**4*{b}/({n}*pi**2)", f"sqrt({a}**2 + {n}*{b}**2)", f"{a}*{b}/{n}")
        )
        statement = f"Problem {i}. " + " ".join(_sentence(rng) for _ in range(rng.randint(3, 8)))
        problems.append(
            Problem.create(
                statement,
                SymbolicAnswer(expr=expr, symbols={a: "positive", b: "positive"}),
                Source("synthetic-llm", {"model": MODEL, "prompt_sha256": f"{rng.getrandbits(128):032x}"}),
                topic=rng.choice(topics),
                level=rng.choice(levels),
                task_type="derivation",
                answer_text=f"${expr}$",
                solution=_paragraph(rng),
            )
        )
    return problems


def make_traces(problems: list, total_tokens: int, seed: int = 0) -> Iterator:
    """Traces for ``problems`` until ``total_tokens`` pre-tokens are reached, one at a time."""
    from curation.records.result import Result
    from curation.records.tokens import PretokenCounter
    from curation.records.trace import ChatMessage, Trace
    from release.tables import messages_text

    counter = PretokenCounter()
    rng = random.Random(f"traces:{seed}")
    done = 0
    index = 0
    while done < total_tokens:
        problem = problems[index % len(problems)]
        index += 1
        reasoning = _text(rng, rng.randint(MIN_TOKENS, MAX_TOKENS))
        final = f"Collecting the terms, the result is\n\n$$\\boxed{{{problem.answer_text.strip('$')}}}$$"
        messages = (
            ChatMessage("user", problem.statement),
            ChatMessage("assistant", f"<think>{reasoning}</think>\n\n{final}"),
        )
        num_tokens = counter.count([messages_text([m.to_dict() for m in messages])])[0]
        done += num_tokens
        status = "correct" if rng.random() < 0.8 else "incorrect"
        yield Trace(
            problem_id=problem.id,
            messages=messages,
            reasoning=reasoning,
            final=final,
            model=MODEL,
            sampling={"temperature": 0.6, "top_p": 0.95, "max_tokens": 16384, "seed": index},
            verification=Result(problem.id, status, {"verifier": "symbolic/1", "points": 5}),
            num_tokens=num_tokens,
            tokenizer="pretokens:gpt2",
            finish_reason="stop",
        )


SPEC = """\
name: release-bench
version: 0.0.1
repo_id: bench-org/release-bench
license: apache-2.0
pretty_name: Release benchmark
description: Synthetic traces for the release build benchmark.
tokenizer: {tokenizer}
configs:
  problems:
    type: problems
    description: Synthetic problems.
    source: {{path: problems.jsonl}}
  traces:
    type: traces
    description: Synthetic teacher traces.
    source: {{path: {traces}}}
split:
  by: source_kind
  mapping: {{synthetic-llm: train}}
shards:
  max_bytes: 500MB
{row_groups}"""


def prepare(folder: Path, tokens: int) -> dict[str, Any]:
    """problems.jsonl and traces.jsonl in ``folder`` (reused when already there)."""
    from curation.records.io import write_jsonl

    folder.mkdir(parents=True, exist_ok=True)
    info_path = folder / "input.json"
    if info_path.exists():
        return {**json.loads(info_path.read_text()), "reused": True}
    problems = make_problems()
    write_jsonl(folder / "problems.jsonl", problems)
    rows = total = 0

    def counted() -> Iterator:
        nonlocal rows, total
        for trace in make_traces(problems, tokens):
            rows += 1
            total += trace.num_tokens
            yield trace

    write_jsonl(folder / "traces.jsonl", counted())
    info = {"rows": rows, "tokens": total, "input_bytes": (folder / "traces.jsonl").stat().st_size}
    info_path.write_text(json.dumps(info))
    return info


def prepare_relabelled(folder: Path) -> None:
    """traces_relabelled.jsonl: the traces labelled with another tokenizer (pretokens:gpt2 recounts them)."""
    relabelled = folder / "traces_relabelled.jsonl"
    if relabelled.exists():
        return
    old, new = b'"tokenizer": "pretokens:gpt2"', f'"tokenizer": "{RECOUNT_TOKENIZER}"'.encode()
    tmp = relabelled.with_suffix(".tmp")
    with open(folder / "traces.jsonl", "rb") as src, open(tmp, "wb") as dst:
        for line in src:
            assert old in line
            dst.write(line.replace(old, new))
    os.replace(tmp, relabelled)


def write_specs(folder: Path, bpe: Path | None, row_group_bytes: str | None) -> None:
    """spec.yaml (token counting off), spec_recount.yaml (relabelled traces: pretokens:gpt2 recounts) and,
    with a BPE, spec_bpe.yaml (the spec names the BPE file: the Rust tokenizer recounts)."""
    row_groups = f"  row_group_bytes: {row_group_bytes}\n" if row_group_bytes else ""
    specs = {"spec.yaml": ("pretokens:gpt2", "traces.jsonl")}
    if (folder / "traces_relabelled.jsonl").exists():
        specs["spec_recount.yaml"] = ("pretokens:gpt2", "traces_relabelled.jsonl")
    if bpe is not None:
        specs["spec_bpe.yaml"] = (f"file:{bpe}", "traces.jsonl")
    for name, (tokenizer, traces) in specs.items():
        (folder / name).write_text(SPEC.format(tokenizer=tokenizer, traces=traces, row_groups=row_groups))


def train_bpe(out: Path, tokens: int = 5 * 10**6) -> tuple[Path, int]:
    """A byte-level BPE (up to ``BPE_VOCAB`` tokens) trained on fresh synthetic traces (another seed than the
    measured ones); returns its path and vocabulary size. The synthetic text has a small vocabulary, so the
    merges run out before ``BPE_VOCAB``: most words end up one token each."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    from release.tables import messages_text

    if not out.exists():
        texts = (messages_text(t.chat()) for t in make_traces(make_problems(seed=1), tokens, seed=1))
        tokenizer = Tokenizer(models.BPE())
        tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tokenizer.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(
            vocab_size=BPE_VOCAB, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False
        )
        tokenizer.train_from_iterator(texts, trainer=trainer)
        tokenizer.save(str(out))
    return out, Tokenizer.from_file(str(out)).get_vocab_size()


# ---------------------------------------------------------------------------------------------------------
# Measurements, each in a child process
# ---------------------------------------------------------------------------------------------------------


def _peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB


def child_ours(spec_path: str, out: str) -> dict[str, Any]:
    """``build_release`` of the spec; the config writer, manifest and card are wrapped (same calls, timed) to
    split the wall time into configs and finalize, and to read the peak RSS before finalize."""
    import cards.dataset_card as dataset_card
    import release.build as build
    from release.spec import load_spec

    times: dict[str, float] = {}
    rss: dict[str, int] = {}
    write_config, manifest, write_card = build._write_config, build._manifest, dataset_card.write_card

    def timed_write_config(config, *args, **kwargs):
        start, cpu = time.perf_counter(), time.process_time()
        try:
            return write_config(config, *args, **kwargs)
        finally:
            times[f"config:{config.name}"] = time.perf_counter() - start
            times[f"cpu:{config.name}"] = time.process_time() - cpu

    def timed_manifest(*args, **kwargs):
        rss["before_finalize"] = _peak_rss_bytes()
        start = time.perf_counter()
        try:
            return manifest(*args, **kwargs)
        finally:
            times["manifest"] = time.perf_counter() - start

    def timed_card(*args, **kwargs):
        start = time.perf_counter()
        try:
            return write_card(*args, **kwargs)
        finally:
            times["card"] = time.perf_counter() - start

    build._write_config, build._manifest, dataset_card.write_card = (
        timed_write_config,
        timed_manifest,
        timed_card,
    )
    spec = load_spec(spec_path)
    start, cpu = time.perf_counter(), time.process_time()
    result = build.build_release(spec, out)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    traces = result.manifest["configs"]["traces"]["splits"]["train"]
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "traces_seconds": times["config:traces"],
        "traces_cpu_seconds": times["cpu:traces"],
        "finalize_seconds": times["manifest"] + times["card"],
        "times": times,
        "rows": traces["rows"],
        "tokens": traces["tokens"]["total"],
        "output_bytes": traces["file_bytes"],
        "shards": len(traces["shards"]),
        "peak_rss": _peak_rss_bytes(),
        "peak_rss_writing": rss["before_finalize"],
    }


def child_baseline(traces_path: str, out: str) -> dict[str, Any]:
    """The same rows (TRACE_FEATURES, values as ``trace_to_row`` gives them) straight from the JSON lines into
    one Parquet file with bare pyarrow; see the module docstring."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from curation.records.features import TRACE_FEATURES

    schema = TRACE_FEATURES.arrow_schema
    rows = tokens = 0
    start, cpu = time.perf_counter(), time.process_time()
    buffer: list[dict[str, Any]] = []
    with (
        open(traces_path, "rb") as lines,
        pq.ParquetWriter(out, schema, compression="zstd", write_page_index=True) as writer,
    ):
        for line in lines:
            d = json.loads(line)
            verification = d["verification"]
            sampling = d.get("sampling")
            extra = {k: v for k, v in d.items() if k not in TRACE_JSON_KEYS}
            buffer.append(
                {
                    "id": d.get("id"),
                    "problem_id": d["problem_id"],
                    "messages": d["messages"],
                    "reasoning": d.get("reasoning", ""),
                    "final": d.get("final", ""),
                    "model": d["model"],
                    "sampling_json": json.dumps(sampling, ensure_ascii=False) if sampling else None,
                    "verification": {
                        "problem_id": verification["problem_id"],
                        "status": verification["status"],
                        "details_json": json.dumps(verification["details"], ensure_ascii=False)
                        if verification.get("details")
                        else None,
                    },
                    "num_tokens": d["num_tokens"],
                    "tokenizer": d["tokenizer"],
                    "finish_reason": d.get("finish_reason"),
                    "extra_json": json.dumps(extra, ensure_ascii=False) if extra else None,
                }
            )
            rows += 1
            tokens += d["num_tokens"]
            if len(buffer) >= ROW_GROUP_ROWS:
                writer.write_table(pa.Table.from_pylist(buffer, schema=schema), row_group_size=len(buffer))
                buffer.clear()
        if buffer:
            writer.write_table(pa.Table.from_pylist(buffer, schema=schema), row_group_size=len(buffer))
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "rows": rows,
        "tokens": tokens,
        "output_bytes": Path(out).stat().st_size,
        "peak_rss": _peak_rss_bytes(),
    }


TRACE_JSON_KEYS = frozenset(
    ("id", "problem_id", "messages", "reasoning", "final", "model", "sampling", "verification", "num_tokens",
     "tokenizer", "finish_reason")
)  # fmt: skip


def child_count(traces_path: str, bpe: str, max_tokens: int) -> dict[str, Any]:
    """tokens/s of each counter on batches of TOKEN_BATCH message texts (the first ``max_tokens`` tokens)."""
    from curation.records.tokens import PretokenCounter, RustTokenizerCounter

    batches: list[list[str]] = [[]]
    total = 0
    with open(traces_path, "rb") as lines:
        for line in lines:
            d = json.loads(line)
            batches[-1].append("\n\n".join(m["content"] for m in d["messages"]))
            total += d["num_tokens"]
            if len(batches[-1]) == TOKEN_BATCH:
                batches.append([])
            if total >= max_tokens:
                break
    batches = [b for b in batches if b]
    counters: dict[str, Any] = {"pretokens:gpt2": PretokenCounter()}
    if bpe:
        from tokenizers import Tokenizer

        counters[f"file:{Path(bpe).name}"] = RustTokenizerCounter(f"file:{bpe}", Tokenizer.from_file(bpe))
    out = {}
    for name, counter in counters.items():
        counter.count(batches[0][:8])  # warm up (thread pool, regex cache)
        start, cpu = time.perf_counter(), time.process_time()
        counted = sum(sum(counter.count(batch)) for batch in batches)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        out[name] = {
            "texts": sum(map(len, batches)),
            "tokens": counted,
            "seconds": seconds,
            "cpu_seconds": cpu,
            "chars": sum(len(t) for b in batches for t in b),
        }
    return out


def run_child(*args: str) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter; its JSON result comes back on the last stdout line."""
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"child {args[0]} failed:\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run_fresh(out: Path, *args: str) -> dict[str, Any]:
    """``run_child(*args, out)`` with ``out`` (a build folder or a file) removed first."""
    if out.is_dir():
        shutil.rmtree(out)
    out.unlink(missing_ok=True)
    return run_child(*args, str(out))


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run of median wall time, with each timing replaced by its own median over the runs, the highest
    peak RSS of all, and every run's wall seconds in ``runs``."""
    ordered = sorted(runs, key=lambda r: r["seconds"])
    median = dict(ordered[len(ordered) // 2])
    for key in ("cpu_seconds", "traces_seconds", "traces_cpu_seconds"):
        if key in median:
            median[key] = statistics.median(r[key] for r in runs)
    for key in ("peak_rss", "peak_rss_writing"):
        if key in median:
            median[key] = max(r[key] for r in runs)
    median["runs"] = [r["seconds"] for r in runs]
    return median


# ---------------------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------------------

MB = 10**6
MIB = 2**20


def _size_label(tokens: int) -> str:
    for unit, scale in (("G", 10**9), ("M", 10**6), ("k", 10**3)):
        if tokens >= scale and tokens % scale == 0:
            return f"{tokens // scale}{unit}"
    return str(tokens)


def _line(name: str, r: dict[str, Any], input_bytes: int) -> str:
    s, cpu = r["seconds"], r["cpu_seconds"]
    return (
        f"{name:<30} {r['rows']:>6} {r['tokens']:>11} {s:>7.2f} {cpu:>6.2f} {r['rows'] / s:>8.0f} "
        f"{r['tokens'] / s / 1e6:>7.2f} {input_bytes / s / MB:>7.1f} {r['peak_rss'] / MIB:>7.0f} "
        f"{r['output_bytes'] / MB:>7.1f}"
    )


HEADER = (
    f"{'run':<30} {'rows':>6} {'tokens':>11} {'wall s':>7} {'cpu s':>6} {'rows/s':>8} {'Mtok/s':>7} "
    f"{'in MB/s':>7} {'RSS MiB':>7} {'out MB':>7}"
)


def _load() -> str:
    """The 1-minute load average (other processes on the 2 cores skew every timing)."""
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "?"


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--sizes", default="2M,20M", help="token targets, comma-separated (e.g. 2M,20M or 200M)"
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="where inputs and builds go; kept (default: a temporary folder)",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the temporary workdir (inputs are reused by a later --workdir run)",
    )
    parser.add_argument("--skip-tokenizers", action="store_true", help="no token-counting measurements")
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs of ours and of the baseline (median time)"
    )
    parser.add_argument(
        "--row-group-bytes",
        default=None,
        help="shards.row_group_bytes of the specs ours builds (e.g. 16MiB; default: ShardPolicy's); "
        "the baseline keeps 1,000-row groups",
    )
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        kind, *rest = args.child
        result = {"ours": child_ours, "baseline": child_baseline, "count": child_count}[kind](
            *[int(x) if x.isdigit() else x for x in rest]
        )
        print(json.dumps(result))
        return

    from release.spec import parse_count

    sizes = [parse_count(s) for s in args.sizes.split(",") if s.strip()]
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="release-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(workdir).free
    # ~7.2 bytes of JSONL per token, a relabelled copy for the recount runs, builds of ~0.3x the input each
    need = int(sum(sizes) * 7.5 * ((1 if args.skip_tokenizers else 2) + 0.6))
    print(f"workdir {workdir}: {free / 1e9:.1f} GB free, about {need / 1e9:.1f} GB needed")
    if free < need:
        sys.exit(
            f"not enough disk space in {workdir}: {free / 1e9:.1f} GB free, about {need / 1e9:.1f} GB needed"
        )
    python = sys.version.split()[0]
    print(f"python {python}, {os.cpu_count()} CPUs; ours and baseline: median of {args.repeat} runs")
    results: dict[int, dict[str, Any]] = {}
    try:
        bpe = None
        if not args.skip_tokenizers:
            start = time.perf_counter()
            bpe, vocab = train_bpe(workdir / "bpe.json")
            print(f"byte-level BPE trained on 5M synthetic tokens (another seed): vocabulary {vocab} "
                  f"({time.perf_counter() - start:.1f} s)")  # fmt: skip
        for tokens in sizes:
            label = _size_label(tokens)
            folder = workdir / label
            start = time.perf_counter()
            info = prepare(folder, tokens)
            if not args.skip_tokenizers:
                prepare_relabelled(folder)
            write_specs(folder, bpe, args.row_group_bytes)
            prepared = "reused" if info.get("reused") else f"prepared in {time.perf_counter() - start:.1f} s"
            print(
                f"\n== {label} tokens: {info['rows']} traces, {info['tokens']:,} tokens, "
                f"{info['input_bytes'] / MB:.1f} MB of JSONL ({prepared}); load average {_load()} =="
            )
            res: dict[str, Any] = {"info": info}
            ours, base = [], []
            for _ in range(args.repeat):  # interleaved, so a slow spell of the machine hits both
                ours.append(run_fresh(folder / "ours", "ours", str(folder / "spec.yaml")))
                base.append(run_fresh(folder / "baseline.parquet", "baseline", str(folder / "traces.jsonl")))
            res["ours"], res["baseline"] = median_run(ours), median_run(base)
            if not args.skip_tokenizers:
                for name, spec in (("recount", "spec_recount.yaml"), ("recount_bpe", "spec_bpe.yaml")):
                    res[name] = median_run([run_fresh(folder / name, "ours", str(folder / spec))])
                    shutil.rmtree(folder / name, ignore_errors=True)
                res["count"] = run_child(
                    "count", str(folder / "traces.jsonl"), str(bpe), str(min(tokens, COUNT_TOKENS))
                )
            results[tokens] = res
            report(label, res)
            print(
                f"load average after: {_load()} (this benchmark adds ~1; more: other work shared the 2 CPUs)"
            )
            (folder / "baseline.parquet").unlink(missing_ok=True)
            shutil.rmtree(folder / "ours", ignore_errors=True)
        summary(results)
    finally:
        if not args.keep and args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)


def report(label: str, res: dict[str, Any]) -> None:
    info, ours, base = res["info"], res["ours"], res["baseline"]
    assert ours["rows"] == base["rows"] == info["rows"], (ours["rows"], base["rows"], info["rows"])
    assert ours["tokens"] == base["tokens"] == info["tokens"]
    print(HEADER)
    print(_line("ours (build_release)", ours, info["input_bytes"]))
    stage = dict(ours, seconds=ours["traces_seconds"], cpu_seconds=ours["traces_cpu_seconds"])
    print(_line("  ours, traces config only", stage, info["input_bytes"]))
    print(_line("baseline (bare pyarrow)", base, info["input_bytes"]))
    for name, title in (
        ("recount", "ours, recounting (pretokens)"),
        ("recount_bpe", "ours, recounting (BPE)"),
    ):
        if name in res:
            print(_line(title, res[name], info["input_bytes"]))
    t = ours["times"]
    ours_runs, base_runs = (", ".join(f"{x:.2f}" for x in r["runs"]) for r in (ours, base))
    print(f"wall s of each run: ours {ours_runs}; baseline {base_runs}")
    print(
        f"ours: problems config {t['config:problems']:.2f} s, traces config {ours['traces_seconds']:.2f} s "
        f"(median), finalize {ours['finalize_seconds']:.2f} s (manifest {t['manifest']:.2f} s, card "
        f"{t['card']:.2f} s); {ours['shards']} shard(s); peak RSS before finalize "
        f"{ours['peak_rss_writing'] / MIB:.0f} MiB"
    )
    wall, cpu = base["seconds"] / ours["seconds"], base["cpu_seconds"] / ours["cpu_seconds"]
    stage_wall = base["seconds"] / ours["traces_seconds"]
    stage_cpu = base["cpu_seconds"] / ours["traces_cpu_seconds"]
    print(
        f"throughput ours/baseline (target >= 0.5): end to end {wall:.2f} (by CPU time {cpu:.2f}), "
        f"traces config only {stage_wall:.2f} (by CPU time {stage_cpu:.2f})"
    )
    if "count" in res:
        print("token counting (batches of 256 message texts):")
        for name, c in res["count"].items():
            print(
                f"  {name:<20} {c['texts']:>6} texts {c['tokens']:>11,} tokens {c['seconds']:>7.2f} s "
                f"(cpu {c['cpu_seconds']:.2f} s) "
                f"{c['tokens'] / c['seconds'] / 1e6:>6.2f} Mtok/s {c['chars'] / c['seconds'] / MB:>6.1f} MB/s"
            )


def summary(results: dict[int, dict[str, Any]]) -> None:
    print("\n== targets ==")
    for tokens, res in results.items():
        ours, base = res["ours"], res["baseline"]
        label = _size_label(tokens)
        ratio, stage = base["seconds"] / ours["seconds"], base["seconds"] / ours["traces_seconds"]
        rss = ours["peak_rss"]
        print(f"{label}: peak RSS {rss / MIB:.0f} MiB < 1 GB: {verdict(rss < 10**9)}; "
              f"throughput >= 0.5x bare pyarrow: end to end {ratio:.2f}x {verdict(ratio >= 0.5)}, "
              f"traces config only {stage:.2f}x {verdict(stage >= 0.5)}")  # fmt: skip
    if len(results) >= 2:
        ordered = sorted(results)
        small, large = results[ordered[0]]["ours"], results[ordered[-1]]["ours"]
        growth = large["peak_rss"] / small["peak_rss"]
        print(
            f"peak RSS {_size_label(ordered[-1])}/{_size_label(ordered[0])}: {growth:.2f} (within 20%: "
            f"{verdict(0.8 <= growth <= 1.2)}); while writing: "
            f"{large['peak_rss_writing'] / small['peak_rss_writing']:.2f}"
        )
        # Throughput as a rate: the extra tokens over the extra seconds between the two sizes, which leaves out
        # what each side costs once per build (ours: the card's plots, ~0.65 s, most of a 2M-token build).
        base_small, base_large = results[ordered[0]]["baseline"], results[ordered[-1]]["baseline"]
        extra = ordered[-1] - ordered[0]
        ours_rate = extra / max(large["seconds"] - small["seconds"], 1e-9)
        base_rate = extra / max(base_large["seconds"] - base_small["seconds"], 1e-9)
        print(
            f"marginal throughput {_size_label(ordered[0])} -> {_size_label(ordered[-1])}: ours "
            f"{ours_rate / 1e6:.1f}M tokens/s, bare pyarrow {base_rate / 1e6:.1f}M tokens/s: "
            f"{ours_rate / base_rate:.2f}x {verdict(ours_rate / base_rate >= 0.5)}"
        )


if __name__ == "__main__":
    main()
