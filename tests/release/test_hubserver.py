"""tests.hubserver.HubServer driven by the real huggingface_hub and datasets clients.

Client code runs in a subprocess: both libraries read HF_ENDPOINT at import time, and this process may
already have imported them. Each script ends with ``emit(obj)``, which prints one JSON result line.
"""

import hashlib
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.hubserver import HubServer, git_blob_sha1

REPO = "org/name"
TRAIN = "data/problems/train-00000-of-00001.parquet"
TEST = "data/problems/test-00000-of-00001.parquet"
README = """---
configs:
- config_name: problems
  data_files:
  - split: train
    path: data/problems/train-*.parquet
  - split: test
    path: data/problems/test-*.parquet
---
# Problems
"""
V1 = {
    "train": [{"id": "p1", "answer": "1/2"}, {"id": "p2", "answer": "3"}],
    "test": [{"id": "p3", "answer": "x"}],
}
V2 = {
    "train": [{"id": "p1", "answer": "1/4"}],
    "test": [{"id": "p4", "answer": "y"}, {"id": "p5", "answer": "z"}],
}

PRELUDE = """\
import json
def emit(obj):
    print("RESULT " + json.dumps(obj, default=str), flush=True)
def error(exc):
    response = getattr(exc, "response", None)
    return {"type": type(exc).__name__, "status": getattr(response, "status_code", None), "message": str(exc)}
"""


@pytest.fixture
def server(tmp_path):
    hub = HubServer(tmp_path / "hub").start()
    yield hub
    hub.stop()
    assert hub.errors == [], hub.errors[0]


@pytest.fixture
def run(server, tmp_path):
    """``run(script)`` executes ``script`` in a fresh interpreter pointed at ``server``; returns its last emit."""
    env = {**os.environ, **server.env(), "HF_HOME": str(tmp_path / "hf_home")}

    def _run(script: str):
        code = PRELUDE + textwrap.dedent(script)
        proc = subprocess.run(
            [sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
        )
        assert proc.returncode == 0, proc.stderr[-4000:]
        results = [json.loads(line[7:]) for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
        assert results, proc.stdout[-2000:] + proc.stderr[-2000:]
        return results[-1]

    return _run


def write_folder(folder: Path, version: dict) -> Path:
    """A dataset folder as the release step lays it out: README with configs + one parquet per split."""
    (folder / "data" / "problems").mkdir(parents=True, exist_ok=True)
    (folder / "README.md").write_text(README)
    for split, rows in version.items():
        pq.write_table(pa.Table.from_pylist(rows), folder / f"data/problems/{split}-00000-of-00001.parquet")
    return folder


def publish(run, tmp_path: Path, version: dict, name: str, tag: str | None = None) -> str:
    """create_repo(exist_ok) + upload_folder (+ create_tag); returns the new commit id."""
    folder = write_folder(tmp_path / name, version)
    return run(f"""
        from huggingface_hub import HfApi
        api = HfApi()
        api.create_repo({REPO!r}, repo_type="dataset", exist_ok=True)
        info = api.upload_folder(folder_path={str(folder)!r}, repo_id={REPO!r}, repo_type="dataset")
        if {tag!r}:
            api.create_tag({REPO!r}, tag={tag!r}, repo_type="dataset")
        emit(info.oid)
    """)


def request_lines(server: HubServer) -> list[str]:
    return [entry.split("\n", 1)[0] for entry in server.log]


def test_upload_folder_then_load_dataset_returns_exact_rows(server, run, tmp_path):
    folder = write_folder(tmp_path / "v1", V1)
    created = run(f"""
        from huggingface_hub import HfApi
        api = HfApi()
        urls = [api.create_repo({REPO!r}, repo_type="dataset", exist_ok=True) for _ in range(2)]
        api.upload_folder(folder_path={str(folder)!r}, repo_id={REPO!r}, repo_type="dataset")
        emit([str(u) for u in urls])
    """)
    assert created == [f"{server.url}/datasets/{REPO}"] * 2
    files = server.files(REPO)
    assert sorted(files) == [".gitattributes", "README.md", TEST, TRAIN]
    assert files["README.md"] == README.encode() and files[TRAIN] == (folder / TRAIN).read_bytes()

    server.log.clear()
    loaded = run(f"""
        import datasets
        ds = datasets.load_dataset({REPO!r}, "problems")
        streamed = datasets.load_dataset({REPO!r}, "problems", streaming=True)
        emit({{"load": {{s: ds[s].to_list() for s in ds}}, "stream": {{s: list(streamed[s]) for s in streamed}}}})
    """)
    assert loaded == {"load": V1, "stream": V1}
    assert {line.split()[0] for line in request_lines(server)} == {"GET", "HEAD"}  # loading is read-only


def test_load_dataset_at_tag_returns_old_rows_and_main_the_new_ones(server, run, tmp_path):
    first = publish(run, tmp_path, V1, "v1", tag="v0.1")
    second = publish(run, tmp_path, V2, "v2")
    assert server.refs(REPO) == {"branches": {"main": second}, "tags": {"v0.1": first}}
    loaded = run(f"""
        import datasets
        old = datasets.load_dataset({REPO!r}, "problems", revision="v0.1")
        new = datasets.load_dataset({REPO!r}, "problems")
        emit({{"old": {{s: old[s].to_list() for s in old}}, "new": {{s: new[s].to_list() for s in new}}}})
    """)
    assert loaded == {"old": V1, "new": V2}


def test_parquet_goes_through_lfs_once_and_recommits_upload_nothing(server, run, tmp_path):
    first = publish(run, tmp_path, V1, "v1")
    assert server.counters["lfs_upload"] == 2  # one PUT per distinct parquet file; README is a regular file
    puts = [entry for entry in server.log if entry.startswith("PUT ")]
    assert len(puts) == 2 and not any("authorization" in entry.lower() for entry in puts)
    assert not any(server.token in line for line in request_lines(server))
    assert any(f"Bearer {server.token}" in entry for entry in server.log)  # the token travels in headers only

    again = publish(run, tmp_path, V1, "v1-again")  # same content: the batch API says "already stored"
    assert server.counters["lfs_upload"] == 2 and server.counters["lfs_batch"] == 2
    assert again == first  # huggingface_hub skips a commit whose files are all unchanged

    copied = run(f"""
        from huggingface_hub import HfApi
        api = HfApi()
        info = api.upload_file(path_or_fileobj={str(tmp_path / "v1" / TRAIN)!r},
                               path_in_repo="data/problems/validation-00000-of-00001.parquet",
                               repo_id={REPO!r}, repo_type="dataset")
        emit(info.oid)
    """)
    assert copied != first and server.counters["lfs_upload"] == 2  # new path, known object: no upload
    assert server.files(REPO)["data/problems/validation-00000-of-00001.parquet"] == server.files(REPO)[TRAIN]


COMMIT_TWO_LFS_FILES = f"""
    from huggingface_hub import CommitOperationAdd, HfApi
    api = HfApi()
    api.create_repo({REPO!r}, repo_type="dataset", exist_ok=True)
    ops = [CommitOperationAdd(path_in_repo=p, path_or_fileobj=p.encode() * 100) for p in ("a.bin", "b.bin")]
    try:
        emit({{"oid": api.create_commit({REPO!r}, ops, commit_message="two", repo_type="dataset").oid}})
    except Exception as exc:
        emit({{"error": error(exc), "cause": error(exc.__cause__) if exc.__cause__ else None}})
"""


def test_failed_lfs_upload_fails_the_commit_and_a_retry_uploads_only_what_is_missing(server, run):
    server.fail_next("lfs_upload", status=403)  # 4xx: huggingface_hub does not retry it
    failed = run(COMMIT_TWO_LFS_FILES)
    assert failed["error"]["type"] == "RuntimeError" and failed["cause"]["status"] == 403
    assert server.counters["lfs_upload"] == 2 and server.counters["commit"] == 0
    assert sorted(server.files(REPO)) == [".gitattributes"]

    retried = run(COMMIT_TWO_LFS_FILES)
    assert server.counters["lfs_upload"] == 3  # the object stored by the failed attempt is not re-sent
    assert server.files(REPO) == {
        ".gitattributes": server.files(REPO)[".gitattributes"],
        "a.bin": b"a.bin" * 100,
        "b.bin": b"b.bin" * 100,
    }
    assert server.refs(REPO)["branches"]["main"] == retried["oid"]


def test_a_transient_5xx_on_lfs_upload_is_retried_by_the_client(server, run):
    server.fail_next("lfs_upload", count=1, status=500)
    result = run(COMMIT_TWO_LFS_FILES)
    assert "oid" in result and server.counters["lfs_upload"] == 3  # 2 objects + 1 retried PUT


def test_persistent_5xx_on_lfs_upload_gives_up_after_six_attempts(server, run):
    server.fail_next("lfs_upload", count=12, status=503, retry_after=0)  # Retry-After: 0 -> 1 s between tries
    failed = run(COMMIT_TWO_LFS_FILES)
    assert failed["cause"]["status"] == 503
    assert server.counters["lfs_upload"] == 12  # both objects: 1 try + 5 retries each
    assert server.counters["commit"] == 0


def test_commit_5xx_is_not_retried_and_the_retry_reuses_uploaded_objects(server, run):
    server.fail_next("commit", status=500)
    failed = run(COMMIT_TWO_LFS_FILES)
    assert failed["error"]["status"] == 500 and server.counters["commit"] == 1
    run(COMMIT_TWO_LFS_FILES)
    assert server.counters["commit"] == 2 and server.counters["lfs_upload"] == 2
    assert sorted(server.files(REPO)) == [".gitattributes", "a.bin", "b.bin"]


def test_wrong_token_gets_401_and_commits_nothing(server, run, tmp_path):
    publish(run, tmp_path, V1, "v1")
    head = server.refs(REPO)["branches"]["main"]
    result = run(f"""
        from huggingface_hub import HfApi, CommitOperationAdd
        try:
            HfApi(token="hf_wrong").create_commit({REPO!r}, [CommitOperationAdd("x.txt", b"x")],
                                                  commit_message="x", repo_type="dataset")
        except Exception as exc:
            emit(error(exc))
    """)
    assert result["status"] == 401 and "Invalid credentials" in result["message"]
    assert server.refs(REPO)["branches"]["main"] == head


def test_private_repo_is_hidden_from_anonymous_reads(run):
    result = run(f"""
        from huggingface_hub import HfApi, hf_hub_download
        api = HfApi()
        api.create_repo({REPO!r}, repo_type="dataset", private=True)
        api.upload_file(path_or_fileobj=b"secret", path_in_repo="s.txt", repo_id={REPO!r}, repo_type="dataset")
        out = {{"authed": api.dataset_info({REPO!r}).private}}
        for name, call in [
            ("info", lambda: HfApi(token=False).dataset_info({REPO!r})),
            ("download", lambda: hf_hub_download({REPO!r}, "s.txt", repo_type="dataset", token=False)),
        ]:
            try:
                call()
            except Exception as exc:
                out[name] = error(exc)
        emit(out)
    """)
    assert result["authed"] is True
    for name in ("info", "download"):
        assert (result[name]["type"], result[name]["status"]) == ("RepositoryNotFoundError", 401)


def test_hf_hub_download_at_a_tag_and_at_a_commit_id(run, tmp_path):
    first = publish(run, tmp_path, V1, "v1", tag="v0.1")
    second = publish(run, tmp_path, V2, "v2")
    got = run(f"""
        import hashlib
        from huggingface_hub import hf_hub_download
        from huggingface_hub.errors import EntryNotFoundError
        out = {{}}
        for rev in ["v0.1", {first!r}, {second!r}, None]:
            path = hf_hub_download({REPO!r}, {TRAIN!r}, repo_type="dataset", revision=rev)
            out[str(rev)] = hashlib.sha256(open(path, "rb").read()).hexdigest()
        try:
            hf_hub_download({REPO!r}, "missing.txt", repo_type="dataset")
        except EntryNotFoundError as exc:
            out["missing"] = type(exc).__name__
        emit(out)
    """)
    old, new = (hashlib.sha256((tmp_path / v / TRAIN).read_bytes()).hexdigest() for v in ("v1", "v2"))
    assert got == {"v0.1": old, first: old, second: new, "None": new, "missing": "RemoteEntryNotFoundError"}


def test_tree_and_paths_info_report_lfs_sha256_for_parquet(server, run, tmp_path):
    publish(run, tmp_path, V1, "v1")
    server.tree_page_size = 2  # force the client through several pages
    got = run(f"""
        from huggingface_hub import HfApi, RepoFile
        api = HfApi()
        def describe(entry):
            if not isinstance(entry, RepoFile):
                return {{"dir": entry.path}}
            return {{"file": entry.path, "size": entry.size, "blob_id": entry.blob_id,
                     "sha256": entry.lfs.sha256 if entry.lfs else None}}
        tree = [describe(e) for e in api.list_repo_tree({REPO!r}, recursive=True, repo_type="dataset")]
        info = [describe(e) for e in api.get_paths_info({REPO!r}, [{TRAIN!r}, "README.md", "data", "nope"],
                                                         repo_type="dataset")]
        emit({{"tree": tree, "info": info}})
    """)
    data = {p: (tmp_path / "v1" / p).read_bytes() for p in (TRAIN, TEST)}

    def lfs(path):
        return {"file": path, "size": len(data[path]), "sha256": hashlib.sha256(data[path]).hexdigest()}

    tree = {e.get("file") or e["dir"]: e for e in got["tree"]}
    assert sorted(tree) == [".gitattributes", "README.md", "data", "data/problems", TEST, TRAIN]
    for path in (TRAIN, TEST):
        assert {k: tree[path][k] for k in ("file", "size", "sha256")} == lfs(path)
    assert tree["README.md"]["sha256"] is None and tree["README.md"]["blob_id"] == git_blob_sha1(
        README.encode()
    )
    info = {e.get("file") or e["dir"]: e for e in got["info"]}
    assert sorted(info) == ["README.md", "data", TRAIN]  # missing paths are left out
    assert info[TRAIN] == tree[TRAIN] and info["README.md"] == tree["README.md"]


VALIDATE = """
    from huggingface_hub import DatasetCard
    try:
        DatasetCard({content!r}).validate(repo_type="dataset")
        emit("ok")
    except ValueError as exc:
        emit("ValueError: " + str(exc))
"""


def test_dataset_card_validate_accepts_the_release_card(run):
    assert run(VALIDATE.format(content=README)) == "ok"


def test_dataset_card_validate_rejects_malformed_configs(run):
    bad = README.replace("- config_name: problems", "- name: problems")
    assert run(VALIDATE.format(content=bad)).startswith("ValueError: ")


def test_readme_whose_front_matter_is_not_a_mapping_is_rejected_before_upload(server, run):
    # DatasetCard() itself refuses such content, so the server check is reached through create_commit,
    # which posts the raw README to /api/validate-yaml before uploading anything.
    result = run(f"""
        from huggingface_hub import HfApi
        api = HfApi()
        api.create_repo({REPO!r}, repo_type="dataset")
        try:
            api.upload_file(path_or_fileobj=b"---\\n- a\\n- b\\n---\\n# x\\n", path_in_repo="README.md",
                            repo_id={REPO!r}, repo_type="dataset")
        except ValueError as exc:
            emit(str(exc))
    """)
    assert "Invalid metadata in README.md" in result and "mapping" in result
    assert server.counters["preupload"] == 0 and sorted(server.files(REPO)) == [".gitattributes"]
