"""`vqft release push` end to end: the real huggingface_hub and datasets clients against the local Hub-protocol
server (tests/hubserver.py). Client code runs in subprocesses because both libraries read HF_ENDPOINT at import."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from release.build import build_release
from release.spec import load_spec
from tests.hubserver import HubServer
from tests.release.specs import write_spec

REPO = "test-org/qft-small"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def releases(tmp_path_factory) -> dict[str, Path]:
    """Two versions of the small release: 40 problems (v1) and 44 problems (v2)."""
    folder = tmp_path_factory.mktemp("push")
    v1 = folder / "v1"
    build_release(load_spec(write_spec(folder / "spec1")), v1)
    v2 = folder / "v2"
    spec2 = write_spec(folder / "spec2", n=44)
    spec2.write_text(spec2.read_text().replace("version: 0.0.1", "version: 0.0.2"))
    build_release(load_spec(spec2), v2)
    return {"v1": v1, "v2": v2}


@pytest.fixture
def hub(tmp_path):
    server = HubServer(tmp_path / "hub").start()
    yield server
    server.stop()
    assert not server.errors


def _run(hub: HubServer, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, **hub.env(), "HF_HOME": str(tmp_path / "hf_home")}
    return subprocess.run(
        [sys.executable, "-m", "release.cli", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )


def _load(
    hub: HubServer, tmp_path: Path, config: str, revision: str | None = None, streaming: bool = False
) -> dict:
    """Row counts per split of ``load_dataset(REPO, config)`` in a fresh process."""
    script = (
        "import json, datasets\n"
        f"d = datasets.load_dataset({REPO!r}, {config!r}, revision={revision!r}, streaming={streaming!r})\n"
        "print(json.dumps({s: sum(1 for _ in d[s]) for s in d}))\n"
    )
    env = {**os.environ, **hub.env(), "HF_HOME": str(tmp_path / "hf_home_load")}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=240)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_push_then_load_dataset_by_repo_id(releases, hub, tmp_path):
    out = _run(hub, tmp_path, "release", "push", str(releases["v1"]), "--repo", REPO, "--tag", "v0.0.1")
    assert out.returncode == 0, out.stderr
    assert f"{hub.url}/datasets/{REPO}" in out.stdout
    assert f"problems = load_dataset('{REPO}', 'problems', revision='v0.0.1')" in out.stdout
    assert _load(hub, tmp_path, "problems") == {"train": 30, "test": 10}
    assert _load(hub, tmp_path, "sft", streaming=True) == {"train": 30, "test": 10}
    assert sorted(hub.files(REPO)) == sorted(
        [".gitattributes", "README.md", "manifest.json"]
        + [p.relative_to(releases["v1"]).as_posix() for p in (releases["v1"] / "data").rglob("*.parquet")]
        + [f"images/{p.name}" for p in (releases["v1"] / "images").iterdir()]
    )


def test_the_token_never_appears_in_output_or_on_the_hub(releases, hub, tmp_path):
    out = _run(hub, tmp_path, "release", "push", str(releases["v1"]), "--repo", REPO)
    assert out.returncode == 0, out.stderr
    token = hub.env()["HF_TOKEN"]
    assert token not in out.stdout + out.stderr
    assert all(token.encode() not in content for content in hub.files(REPO).values())


def test_pushing_the_same_folder_twice_uploads_nothing_new(releases, hub, tmp_path):
    assert _run(hub, tmp_path, "release", "push", str(releases["v1"]), "--repo", REPO).returncode == 0
    before = dict(hub.counters)
    again = _run(hub, tmp_path, "release", "push", str(releases["v1"]), "--repo", REPO)
    assert again.returncode == 0, again.stderr
    assert "uploaded 0 file(s) in 0 commit(s)" in again.stdout
    assert hub.counters["commit"] == before["commit"]
    assert hub.counters["lfs_upload"] == before["lfs_upload"]


def test_a_second_version_replaces_main_and_the_first_loads_by_its_tag(releases, hub, tmp_path):
    assert (
        _run(
            hub, tmp_path, "release", "push", str(releases["v1"]), "--repo", REPO, "--tag", "v0.0.1"
        ).returncode
        == 0
    )
    out = _run(hub, tmp_path, "release", "push", str(releases["v2"]), "--repo", REPO, "--tag", "v0.0.2")
    assert out.returncode == 0, out.stderr
    assert set(hub.refs(REPO)["tags"]) == {"v0.0.1", "v0.0.2"}
    assert _load(hub, tmp_path, "problems", revision="v0.0.1") == {"train": 30, "test": 10}
    assert _load(hub, tmp_path, "problems") == {"train": 33, "test": 11}
    # main holds exactly v2's shards: v1's that v2 does not have were deleted in the card commit
    main = {p for p in hub.files(REPO) if p.startswith("data/")}
    assert main == {
        p.relative_to(releases["v2"]).as_posix() for p in (releases["v2"] / "data").rglob("*.parquet")
    }


def test_a_push_that_fails_midway_resumes_where_it_stopped(releases, hub, tmp_path):
    hub.fail_next("commit", count=1, status=500, after=1)
    failed = _run(hub, tmp_path, "release", "push", str(releases["v1"]), "--repo", REPO, "--batch-size", "3",
                  "--retries", "0")  # fmt: skip
    assert failed.returncode == 2
    assert "HTTP 500" in failed.stderr and "re-run the same command to resume" in failed.stderr
    first_batch = {p for p in hub.files(REPO) if p.startswith("data/")}
    assert len(first_batch) == 3
    uploads_before = hub.counters["lfs_upload"]
    resumed = _run(hub, tmp_path, "release", "push", str(releases["v1"]), "--repo", REPO, "--batch-size", "3")
    assert resumed.returncode == 0, resumed.stderr
    assert "3 already on the Hub" in resumed.stdout
    # 8 shards + 3 images are LFS; the 3 committed shards are not sent again
    assert hub.counters["lfs_upload"] - uploads_before <= 11 - 3
    assert _load(hub, tmp_path, "problems") == {"train": 30, "test": 10}


def test_a_transient_server_error_is_retried(releases, hub, tmp_path):
    hub.fail_next("commit", count=1, status=503)
    out = _run(hub, tmp_path, "release", "push", str(releases["v1"]), "--repo", REPO, "--retries", "2")
    assert out.returncode == 0, out.stderr
    assert "HTTP 503; retry 1/2" in out.stderr


def test_dry_run_lists_the_files_and_uploads_nothing(releases, hub, tmp_path):
    out = _run(hub, tmp_path, "release", "push", str(releases["v1"]), "--repo", REPO, "--dry-run")
    assert out.returncode == 0, out.stderr
    assert "would upload data/problems/train-00000-of-00003.parquet" in out.stdout
    assert "13 file(s) to upload, 0 already on the Hub" in out.stdout
    assert hub.counters["commit"] == 0


def test_a_wrong_token_is_a_clear_error(releases, hub, tmp_path):
    env_override = {**hub.env(), "HF_TOKEN": "hf_wrong"}
    env = {**os.environ, **env_override, "HF_HOME": str(tmp_path / "hf_home")}
    out = subprocess.run(
        [sys.executable, "-m", "release.cli", "release", "push", str(releases["v1"]), "--repo", REPO],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert out.returncode == 2
    assert "HTTP 401" in out.stderr and "set HF_TOKEN or run `hf auth login`" in out.stderr
    assert "hf_wrong" not in out.stderr + out.stdout


def test_pushing_to_a_branch_and_a_private_repo(releases, hub, tmp_path):
    out = _run(
        hub,
        tmp_path,
        "release",
        "push",
        str(releases["v1"]),
        "--repo",
        REPO,
        "--revision",
        "dev",
        "--private",
    )
    assert out.returncode == 0, out.stderr
    assert f"{hub.url}/datasets/{REPO}/tree/dev" in out.stdout
    assert "dev" in hub.refs(REPO)["branches"]
    assert _load(hub, tmp_path, "problems", revision="dev") == {"train": 30, "test": 10}


def test_the_pushed_card_passes_the_hubs_yaml_validation(releases, hub, tmp_path):
    script = (
        "from huggingface_hub import DatasetCard\n"
        f"DatasetCard(open({str(releases['v1'] / 'README.md')!r}).read()).validate(repo_type='dataset')\n"
        "print('valid')\n"
    )
    env = {**os.environ, **hub.env(), "HF_HOME": str(tmp_path / "hf_home")}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "valid", out.stderr
