"""``push_release``: upload a release folder to the Hugging Face Hub, resumably, and tag it.

    push_release("build/demo", repo_id="my-org/qft-cas-demo", tag="v0.1.0")

The installed ``huggingface_hub`` has no resumable ``upload_large_folder``, so the push commits the shards in
batches (``batch_size`` files a commit): a failure costs at most one batch, and a re-run compares every local file
with what the Hub already has at the revision (SHA-256 for LFS/Xet files, the git blob id for the rest) and uploads
only what differs. The card (README.md) and manifest.json go last, in the commit that also deletes shards of an
earlier release that this one no longer has, so the card never describes data that is not there yet. Each commit
is retried with exponential backoff and jitter on 429/5xx, timeouts and dropped connections.

The token comes from ``HF_TOKEN`` or the saved Hub login (``hf auth login``); it is never logged or written.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from release.shards import file_sha256

RETRYABLE_STATUS = {408, 429, 500, 502, 503, 504}


class PushError(RuntimeError):
    """The push cannot go on; the message says why and what to do (it never holds the token)."""


@dataclass
class PushResult:
    repo_id: str
    revision: str
    tag: str | None
    url: str
    configs: list[str]
    to_upload: list[tuple[str, int]] = field(default_factory=list)
    uploaded: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    commits: int = 0


def git_blob_id(path: Path) -> str:
    """The id git (and the Hub) gives a regular file's content."""
    data = path.read_bytes()
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def release_files(folder: Path) -> list[Path]:
    """The files of a release that go to the Hub, shards first and the card last (``.build`` stays local)."""
    shards = sorted((folder / "data").rglob("*.parquet"))
    images = sorted((folder / "images").glob("*.png")) if (folder / "images").is_dir() else []
    return [*shards, *images, folder / "manifest.json", folder / "README.md"]


def _status(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None)
    return getattr(response, "status_code", None)


def _retryable(exc: BaseException) -> bool:
    status = _status(exc)
    if status is not None:
        return status in RETRYABLE_STATUS
    # No HTTP status: the connection dropped or timed out (httpx/requests errors, OSError).
    name = type(exc).__name__
    return isinstance(exc, OSError | TimeoutError) or any(
        word in name for word in ("Timeout", "Connect", "Protocol", "RemoteDisconnected", "ReadError")
    )


def with_retries(
    call: Callable[[], Any], what: str, attempts: int, wait: float, log: Callable[[str], None]
) -> Any:
    """``call()``, retried on transient failures with exponential backoff and jitter."""
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except Exception as exc:
            if attempt == attempts or not _retryable(exc):
                raise
            delay = wait * 2 ** (attempt - 1) * (1 + random.random() / 2)
            status = _status(exc)
            log(f"{what}: {'HTTP ' + str(status) if status else type(exc).__name__}; retry {attempt}/{attempts - 1} "
                f"in {delay:.1f}s")  # fmt: skip
            time.sleep(delay)
    raise AssertionError("unreachable")


def _remote_files(api, repo_id: str, revision: str) -> dict[str, Any]:
    """path -> RepoFile at ``revision``; empty when the repo or the revision does not exist yet."""
    from huggingface_hub.errors import RepositoryNotFoundError, RevisionNotFoundError

    try:
        entries = api.list_repo_tree(repo_id, repo_type="dataset", revision=revision, recursive=True)
        return {
            entry.path: entry for entry in entries if hasattr(entry, "size") and not hasattr(entry, "tree_id")
        }
    except (RepositoryNotFoundError, RevisionNotFoundError):
        return {}


def _unchanged(local: Path, remote: Any) -> bool:
    if remote is None or remote.size != local.stat().st_size:
        return False
    lfs = getattr(remote, "lfs", None)
    if lfs is not None:
        sha256 = lfs["sha256"] if isinstance(lfs, dict) else getattr(lfs, "sha256", None)
        return sha256 == file_sha256(local)
    return getattr(remote, "blob_id", None) == git_blob_id(local)


def push_release(
    folder: str | Path,
    repo_id: str | None = None,
    *,
    revision: str | None = None,
    tag: str | None = None,
    private: bool = False,
    dry_run: bool = False,
    batch_size: int = 8,
    token: str | None = None,
    attempts: int = 5,
    retry_wait: float = 1.0,
    log: Callable[[str], None] = lambda message: None,
) -> PushResult:
    """Upload a release folder (see the module docstring); returns what was uploaded, skipped and deleted."""
    from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi, constants
    from huggingface_hub.errors import HfHubHTTPError

    folder = Path(folder)
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PushError(f"{folder}: no readable manifest.json ({exc}); build the release first") from None
    repo_id = repo_id or manifest["repo_id"]
    branch = revision or "main"
    api = HfApi(token=token)
    url = f"{constants.ENDPOINT}/datasets/{repo_id}" + ("" if branch == "main" else f"/tree/{branch}")
    result = PushResult(repo_id=repo_id, revision=branch, tag=tag, url=url, configs=list(manifest["configs"]))

    def retried(call: Callable[[], Any], what: str) -> Any:
        return with_retries(call, what, attempts, retry_wait, log)

    try:
        if not dry_run:
            retried(
                lambda: api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True),
                "create repo",
            )
            if branch != "main":
                retried(lambda: api.create_branch(repo_id, branch=branch, repo_type="dataset", exist_ok=True),
                        "create branch")  # fmt: skip
        remote = _remote_files(api, repo_id, branch)
        local = release_files(folder)
        for path in local:
            if not path.is_file():
                raise PushError(f"{path}: missing from the release folder; rebuild it")
        pending = []
        for path in local:
            name = path.relative_to(folder).as_posix()
            if _unchanged(path, remote.get(name)):
                result.unchanged.append(name)
            else:
                pending.append((name, path))
        local_names = {path.relative_to(folder).as_posix() for path in local}
        stale = sorted(
            n for n in remote if (n.startswith("data/") or n.startswith("images/")) and n not in local_names
        )
        result.to_upload = [(name, path.stat().st_size) for name, path in pending]
        result.deleted = stale
        if dry_run:
            return result
        data = [(n, p) for n, p in pending if n.startswith("data/")]
        rest = [(n, p) for n, p in pending if not n.startswith("data/")]
        batches = [data[i : i + batch_size] for i in range(0, len(data), batch_size)]
        if rest or stale:
            batches.append(rest)
        for number, batch in enumerate(batches, 1):
            operations: list[Any] = [
                CommitOperationAdd(path_in_repo=n, path_or_fileobj=str(p)) for n, p in batch
            ]
            last = number == len(batches) and (rest or stale)
            if last:
                operations += [CommitOperationDelete(path_in_repo=n) for n in stale]
            message = (
                f"{manifest['name']} {manifest['version']}: card, manifest"
                + (f", remove {len(stale)} old file(s)" if stale else "")
                if last
                else f"{manifest['name']} {manifest['version']}: shards {batch[0][0]} .. {batch[-1][0]}"
            )
            retried(
                lambda operations=operations, message=message: api.create_commit(
                    repo_id,
                    operations=operations,
                    commit_message=message,
                    repo_type="dataset",
                    revision=branch,
                ),
                f"commit {number}/{len(batches)}",
            )
            result.uploaded.extend(n for n, _ in batch)
            result.commits += 1
            log(
                f"commit {number}/{len(batches)}: {len(batch)} file(s)"
                + (f", {len(stale)} deleted" if last and stale else "")
            )
        if tag:
            _tag(api, repo_id, branch, tag, retried)
    except HfHubHTTPError as exc:
        status = _status(exc)
        hint = {401: "the token is missing or invalid: set HF_TOKEN or run `hf auth login`",
                403: "the token cannot write to this repo (a read-only token, or not your organisation)"}.get(
            status or 0, "re-run the same command to resume: files already on the Hub are skipped")  # fmt: skip
        raise PushError(f"push to {repo_id} failed: HTTP {status}: {_first_line(exc)}; {hint}") from None
    return result


def _first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [""])[0][:200]


def _tag(api, repo_id: str, branch: str, tag: str, retried: Callable) -> None:
    """Tag the head of ``branch``; an existing tag is fine when it already points there, an error otherwise."""
    refs = retried(lambda: api.list_repo_refs(repo_id, repo_type="dataset"), "list refs")
    head = next((b.target_commit for b in refs.branches if b.name == branch), None)
    existing = next((t.target_commit for t in refs.tags if t.name == tag), None)
    if existing is not None:
        if existing != head:
            raise PushError(
                f"tag {tag} already exists on {repo_id} at another commit ({existing[:12]}); tag this release "
                "with a new version"
            )
        return
    retried(lambda: api.create_tag(repo_id, tag=tag, revision=branch, repo_type="dataset"), "create tag")
