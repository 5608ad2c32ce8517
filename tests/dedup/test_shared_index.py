"""The Redis-backed shared LSH index, against a real redis-server (started here, or the one .ci/run starts and
names in VQFT_REDIS_URL)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid

import pytest

from curation.dedup import deduplicate
from curation.dedup.shared_index import SharedIndexError, redis_config
from release.cli import main

pytest.importorskip("redis")

BASE = (
    "compute the one loop beta function coefficient of an su n yang mills theory coupled to nf dirac fermions in "
    "the fundamental representation and give the answer in terms of n and nf using dimensional regularization"
)


@pytest.fixture(scope="module")
def redis_url():
    if os.environ.get("VQFT_REDIS_URL"):
        yield os.environ["VQFT_REDIS_URL"]
        return
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (.ci/run installs it from Debian's packages)")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    import redis

    client = redis.Redis(port=port)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.exceptions.ConnectionError:
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    process.terminate()
    process.wait(timeout=10)


def _records(prefix: str, texts: list[str]) -> list[dict]:
    return [{"id": f"{prefix}-{i}", "statement": text} for i, text in enumerate(texts)]


def test_two_workers_sharing_an_index_remove_each_others_duplicates(redis_url):
    name = f"test-{uuid.uuid4().hex}"
    first = deduplicate(_records("a", [BASE, "an unrelated text about partial wave unitarity bounds " * 3]),
                        threshold=0.8, lsh_storage=redis_url, lsh_basename=name)  # fmt: skip
    assert len(first.kept) == 2
    second = deduplicate(_records("b", [BASE + " please", "something new about the casimir effect " * 3]),
                         threshold=0.8, lsh_storage=redis_url, lsh_basename=name)  # fmt: skip
    assert [r["id"] for r in second.kept] == ["b-1"]
    removal = second.removed[0]
    assert (removal.duplicate_of, removal.reason) == ("a-0", "near-shared")
    assert removal.similarity >= 0.8
    assert second.report["counts"]["removed_near_shared"] == 1


def test_rerunning_a_batch_against_the_index_it_filled_changes_nothing(redis_url):
    name = f"test-{uuid.uuid4().hex}"
    records = _records("a", [BASE, BASE + " again", "an unrelated text about the casimir effect " * 3])
    once = deduplicate(records, threshold=0.8, lsh_storage=redis_url, lsh_basename=name)
    twice = deduplicate(records, threshold=0.8, lsh_storage=redis_url, lsh_basename=name)
    assert [r["id"] for r in once.kept] == [r["id"] for r in twice.kept] == ["a-0", "a-2"]


def test_within_a_batch_the_shared_index_finds_what_the_local_one_does(redis_url):
    texts = [BASE, BASE + " now", BASE.replace("fundamental", "adjoint"), "a text on anomalies " * 6]
    local = deduplicate(_records("x", texts), threshold=0.8)
    shared = deduplicate(
        _records("x", texts), threshold=0.8, lsh_storage=redis_url, lsh_basename=uuid.uuid4().hex
    )
    assert [r["id"] for r in shared.kept] == [r["id"] for r in local.kept]


def test_a_bad_storage_url_is_a_clear_error():
    with pytest.raises(SharedIndexError, match="write redis://HOST:PORT/DB"):
        redis_config("http://127.0.0.1:6379")


def test_the_cli_uses_the_shared_index(redis_url, tmp_path, capsys):
    from curation.records.io import write_jsonl
    from generation.cas import generate

    problems = list(generate(["two_body_decay"], n=20, seed=0))
    write_jsonl(tmp_path / "first.jsonl", problems[:10])
    write_jsonl(tmp_path / "second.jsonl", problems[10:])
    name = uuid.uuid4().hex
    for part in ("first", "second"):
        code = main(["dedup", str(tmp_path / f"{part}.jsonl"), "-o", str(tmp_path / f"{part}.kept.jsonl"),
                     "--lsh-storage", redis_url, "--lsh-name", name])  # fmt: skip
        assert code == 0
    out = capsys.readouterr().out
    # templated problems of one family: the second worker's batch is near the first worker's kept problems
    shared = int(out.rsplit("removed_near_shared", 1)[1].split()[0])
    assert shared > 0
