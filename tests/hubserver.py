"""A small, self-contained Hugging Face Hub-protocol server for tests.

The real clients (``huggingface_hub`` 2.x over httpx2, ``datasets`` 5.x) talk to it when run with
``HF_ENDPOINT=<server.url>`` and ``HF_HUB_DISABLE_XET=1`` set before they are imported (see ``env()``).
Both libraries read ``HF_ENDPOINT`` at import time, so client code belongs in a subprocess.

Repos are keyed ``"org/name"`` (namespaced ids only). ``{t}`` below is ``models`` or ``datasets``.

Implemented:
  GET    /api/whoami-v2
  POST   /api/repos/create            409 + ``{"error", "url"}`` when the repo exists (``exist_ok`` relies on it)
  PUT    /api/{t}/{repo}/settings     ``private`` / ``visibility`` only
  POST   /api/validate-yaml           README front matter must be a YAML mapping; dataset ``configs`` checked
  GET    /api/{t}/{repo}[/revision/{rev}]     repo info: sha, siblings, private, cardData, lastModified, ...
  POST   /api/{t}/{repo}/preupload/{rev}      "lfs" for ``lfs_extensions`` or > 10 MB, else "regular"
  POST   /api/{t}/{repo}/commit/{branch}      NDJSON header / file / lfsFile / deletedFile / deletedFolder
  GET    /api/{t}/{repo}/tree/{rev}[/{path}]  ``recursive``, ``expand``, cursor pagination (``Link`` header)
  POST   /api/{t}/{repo}/paths-info/{rev}     form-encoded or JSON ``paths`` / ``expand``
  GET    /api/{t}/{repo}/refs  and  /api/{t}/{repo}/commits/{rev} (newest first)
  POST   /api/{t}/{repo}/tag/{rev}   (body ``{"tag"}``)   DELETE /api/{t}/{repo}/tag/{tag}
  POST   /api/{t}/{repo}/branch/{branch}      body ``{"startingPoint"}`` (default: main); 409 if it exists
  POST   /[datasets/]{repo}.git/info/lfs/objects/batch   LFS batch API, "basic" transfer, upload only
  PUT    /lfs-upload/{ticket}         object upload; no auth, like the pre-signed S3 URL the Hub hands out
  POST   /lfs-verify                  verify action
  GET|HEAD /[datasets/]{repo}/resolve/{rev}/{path}   ETag, X-Repo-Commit, X-Linked-Etag/-Size, Range (206/416)

Not implemented: pull requests (``create_pr``, ``refs/pr/N``), xet (xet token routes answer 501, and no
response carries xet headers, so a client never switches to xet by itself), multipart LFS, LFS downloads
through the batch API, gated repos, spaces, the dataset viewer (``datasets-server.*``; ``datasets`` tolerates
its absence), super-squash, discussions. Repo metadata (refs, commits) lives in memory; blobs live on disk
under ``root`` (``objects/<git sha1>`` for regular files, ``lfs/<sha256>`` for LFS objects).

Counters (``server.counters``), each counts requests received, including injected failures:
``preupload``, ``lfs_batch``, ``lfs_upload`` (object PUTs), ``commit``, ``resolve`` (GET and HEAD); plus
``regular_file_bytes`` (decoded bytes of regular files in commits) and ``lfs_bytes`` (bytes stored by PUTs).

Client retry behaviour (huggingface_hub 2.4), which decides what ``fail_next`` does:
  * preupload, LFS batch, LFS PUT and verify go through ``http_backoff``: on 408/429/500/502/503/504 the
    request is retried up to 5 times (6 tries), sleeping 1, 2, 4, 8, 8 s (or ``Retry-After`` + 1 s).
  * the commit POST is sent once (``create_commit`` does not retry), whatever the status.
  * a download HEAD is sent once; on a 5xx with nothing cached it is re-run with the same backoff.
  * 4xx are never retried.
"""

from __future__ import annotations

import base64
import collections
import datetime
import hashlib
import json
import os
import re
import secrets
import threading
import traceback
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

import yaml

LFS_SIZE_THRESHOLD = 10 * 1024 * 1024  # the Hub's preupload sends anything above 10 MB to LFS
FAULT_KINDS = ("preupload", "lfs_batch", "lfs_upload", "commit", "resolve")
# Same front-matter regex as huggingface_hub.repocard.REGEX_YAML_BLOCK.
YAML_BLOCK = re.compile(r"^(\s*---(?:\r\n|\r|\n))([\S\s]*?)((?:\r\n|\r|\n)---[ \t]*(\r\n|\n|$))")
USER = "test-user"
WHOAMI = {"type": "user", "name": USER, "fullname": "Test User", "orgs": [], "auth": {"type": "access_token"}}


def git_blob_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def lfs_pointer(sha256: str, size: int) -> bytes:
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n".encode()


def now_iso(when: datetime.datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def truthy(value: str | None) -> bool:
    return (value or "").lower() in ("1", "true", "yes")


@dataclass(frozen=True)
class Blob:
    oid: str  # git blob sha1: of the content, or of the LFS pointer for LFS files (as on the Hub)
    size: int
    sha256: str | None = None  # set for LFS files

    @property
    def etag(self) -> str:
        return self.sha256 or self.oid


@dataclass
class Commit:
    id: str
    parent: str | None
    files: dict[str, Blob]
    title: str
    message: str
    date: datetime.datetime


@dataclass
class Repo:
    repo_type: str
    repo_id: str
    private: bool
    created_at: datetime.datetime
    branches: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    commits: dict[str, Commit] = field(default_factory=dict)

    def resolve(self, rev: str) -> Commit:
        """A revision is a branch, a tag or a full commit id, tried in that order."""
        commit_id = self.branches.get(rev) or self.tags.get(rev) or (rev if rev in self.commits else None)
        if commit_id is None:
            raise HubError(404, f"Invalid rev id: {rev}", code="RevisionNotFound")
        return self.commits[commit_id]


class HubError(Exception):
    """An HTTP error answered the way the Hub does: JSON ``{"error"}`` plus X-Error-Code/-Message headers."""

    def __init__(self, status: int, message: str, code: str | None = None, headers: dict | None = None):
        super().__init__(message)
        self.status, self.message, self.code, self.headers = status, message, code, headers or {}


@dataclass
class Request:
    method: str
    path: str  # raw (still percent-encoded) path: revisions and tree paths arrive quoted with safe=""
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes
    authed: bool  # a valid token was sent (an invalid one is rejected before routing)

    def arg(self, name: str) -> str | None:
        return self.query.get(name, [None])[0]

    def json(self):
        return json.loads(self.body or b"{}")


class Response:
    def __init__(self, status: int = 200, body: bytes | str | dict | list = b"", headers: dict | None = None):
        self.headers = {"Content-Type": "application/octet-stream", **(headers or {})}
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
            self.headers["Content-Type"] = "application/json; charset=utf-8"
        self.status, self.body = status, body.encode() if isinstance(body, str) else body


class HubServer:
    """``HubServer(tmp_path).start()``; point clients at it with ``env()``; ``stop()`` when done."""

    def __init__(
        self,
        root: Path,
        token: str = "hf_test_token",
        lfs_extensions=(".parquet", ".png", ".arrow", ".bin", ".safetensors"),
    ):
        self.root = Path(root)
        self.token = token
        self.lfs_extensions = tuple(lfs_extensions)
        self.tree_page_size = 1000  # lower it in a test to exercise the tree endpoint's pagination
        self.counters: collections.Counter = collections.Counter()
        self.log: list[str] = []  # "METHOD /path HTTP/1.1\nHeader: value\n..." per request
        self.errors: list[str] = []  # tracebacks of unexpected server-side exceptions (should stay empty)
        self.url = ""
        self._repos: dict[tuple[str, str], Repo] = {}
        self._faults: dict[str, list[tuple[int, int | None] | None]] = collections.defaultdict(list)
        self._tickets: dict[str, tuple[str, int]] = {}  # LFS upload ticket -> (sha256, size)
        self._lock = threading.RLock()
        self._seq = 0
        self._httpd: ThreadingHTTPServer | None = None
        (self.root / "objects").mkdir(parents=True, exist_ok=True)
        (self.root / "lfs").mkdir(parents=True, exist_ok=True)

    # ------------------------------------------------------------------ lifecycle and test helpers

    def start(self) -> HubServer:
        handler = type("Handler", (_Handler,), {"hub": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._httpd.block_on_close = False  # keep-alive connections must not hold up stop()
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        serve = self._httpd.serve_forever
        threading.Thread(target=serve, kwargs={"poll_interval": 0.05}, daemon=True).start()  # fast stop()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def env(self) -> dict[str, str]:
        no_proxy = ",".join(filter(None, [os.environ.get("NO_PROXY", ""), "127.0.0.1", "localhost"]))
        return {
            "HF_ENDPOINT": self.url,
            "HF_HUB_DISABLE_XET": "1",  # otherwise uploads and downloads go through the xet CAS protocol
            "HF_TOKEN": self.token,
            "HF_HUB_ETAG_TIMEOUT": "30",
            "HF_HUB_DOWNLOAD_TIMEOUT": "30",
            "HF_HUB_DISABLE_TELEMETRY": "1",
            "HF_HUB_DISABLE_PROGRESS_BARS": "1",
            "HF_HUB_OFFLINE": "0",
            "HF_DATASETS_OFFLINE": "0",
            "NO_PROXY": no_proxy,
            "no_proxy": no_proxy,
        }

    def fail_next(
        self, kind: str, count: int = 1, status: int = 500, retry_after: int | None = None, after: int = 0
    ) -> None:
        """The next ``count`` requests of ``kind`` are answered ``status`` (and not processed); with ``after``,
        only once that many more requests of ``kind`` went through (a failure midway through a push).

        ``retry_after`` adds a ``Retry-After`` header: huggingface_hub then sleeps that many seconds + 1
        between retries instead of its exponential 1, 2, 4, 8, 8 s.
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {FAULT_KINDS}")
        with self._lock:
            self._faults[kind].extend([None] * after + [(status, retry_after)] * count)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def files(self, repo_id: str, revision: str = "main", repo_type: str = "dataset") -> dict[str, bytes]:
        with self._lock:
            commit = self._repo(repo_type, repo_id).resolve(revision)
            return {path: self._read(blob) for path, blob in sorted(commit.files.items())}

    def refs(self, repo_id: str, repo_type: str = "dataset") -> dict:
        with self._lock:
            repo = self._repo(repo_type, repo_id)
            return {"branches": dict(repo.branches), "tags": dict(repo.tags)}

    # ------------------------------------------------------------------ storage

    def _repo(self, repo_type: str, repo_id: str) -> Repo:
        try:
            return self._repos[(repo_type, repo_id)]
        except KeyError:
            raise HubError(404, "Repository not found", code="RepoNotFound") from None

    def _readable_repo(self, req: Request, repo_type: str, repo_id: str) -> Repo:
        repo = self._repos.get((repo_type, repo_id))
        if repo is None or (repo.private and not req.authed):
            # The Hub does not reveal whether a repo exists: 401 when anonymous, 404 otherwise.
            raise HubError(401 if not req.authed else 404, "Repository not found", code="RepoNotFound")
        return repo

    def _writable_repo(self, req: Request, repo_type: str, repo_id: str) -> Repo:
        self._require_auth(req)
        return self._readable_repo(req, repo_type, repo_id)

    @staticmethod
    def _require_auth(req: Request) -> None:
        if not req.authed:
            raise HubError(401, "You must be authenticated to access this resource")

    def _read(self, blob: Blob) -> bytes:
        return (
            self.root / "lfs" / blob.sha256 if blob.sha256 else self.root / "objects" / blob.oid
        ).read_bytes()

    def _store_regular(self, data: bytes) -> Blob:
        blob = Blob(oid=git_blob_sha1(data), size=len(data))
        if not (path := self.root / "objects" / blob.oid).exists():  # content-addressed: written once
            path.write_bytes(data)
        return blob

    def _lfs_blob(self, sha256: str) -> Blob | None:
        path = self.root / "lfs" / sha256
        if not re.fullmatch(r"[0-9a-f]{64}", sha256) or not path.exists():
            return None
        size = path.stat().st_size
        return Blob(oid=git_blob_sha1(lfs_pointer(sha256, size)), size=size, sha256=sha256)

    def _new_commit(self, repo: Repo, parent: str | None, files: dict[str, Blob], title: str, message: str):
        self._seq += 1  # makes ids unique even for identical snapshots committed in the same instant
        date = datetime.datetime.now(datetime.UTC)
        listing = "".join(f"{p}\0{b.oid}\n" for p, b in sorted(files.items()))
        seed = f"{repo.repo_id}\n{parent}\n{listing}\n{title}\n{date.isoformat()}\n{self._seq}"
        commit = Commit(hashlib.sha1(seed.encode()).hexdigest(), parent, files, title, message, date)
        repo.commits[commit.id] = commit
        return commit

    def _take_fault(self, kind: str) -> Response | None:
        with self._lock:
            self.counters[kind] += 1
            if not self._faults.get(kind):
                return None
            fault = self._faults[kind].pop(0)
            if fault is None:
                return None
            status, retry_after = fault
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        return Response(status, {"error": f"hubserver: injected {kind} failure"}, headers)

    # ------------------------------------------------------------------ routing

    def handle(self, req: Request) -> Response:
        segs = req.path.strip("/").split("/")
        if segs[0] == "api":
            return self._route_api(req, segs[1:])
        if segs[0] == "lfs-upload" and len(segs) == 2 and req.method == "PUT":
            return self._lfs_put(req, segs[1])
        if segs[0] == "lfs-verify" and req.method == "POST":
            return self._lfs_verify(req)
        repo_type = "dataset" if segs[0] == "datasets" else "model"
        rest = segs[1:] if segs[0] in ("datasets", "models") else segs
        if len(rest) == 6 and rest[1].endswith(".git") and rest[2:] == ["info", "lfs", "objects", "batch"]:
            return self._lfs_batch(req, repo_type, f"{rest[0]}/{rest[1][: -len('.git')]}")
        if len(rest) >= 5 and rest[2] == "resolve" and req.method in ("GET", "HEAD"):
            rev, path = unquote(rest[3]), unquote("/".join(rest[4:]))
            return self._resolve(req, repo_type, f"{rest[0]}/{rest[1]}", rev, path)
        raise HubError(404, f"hubserver: no route for {req.method} {req.path}")

    def _route_api(self, req: Request, segs: list[str]) -> Response:
        m = req.method
        if segs == ["whoami-v2"] and m == "GET":
            self._require_auth(req)
            return Response(200, WHOAMI)
        if segs == ["repos", "create"] and m == "POST":
            return self._create_repo(req)
        if segs == ["validate-yaml"] and m == "POST":
            return self._validate_yaml(req)
        if len(segs) < 3 or segs[0] not in ("models", "datasets"):
            raise HubError(404, f"hubserver: no route for {m} {req.path}")
        repo_type, repo_id, rest = segs[0][:-1], f"{segs[1]}/{segs[2]}", segs[3:]
        action, arg = (rest[0], unquote("/".join(rest[1:]))) if rest else ("", "")
        routes = {
            ("GET", ""): self._repo_info,
            ("GET", "revision"): self._repo_info,
            ("PUT", "settings"): self._settings,
            ("POST", "preupload"): self._preupload,
            ("POST", "commit"): self._commit,
            ("GET", "tree"): self._tree,
            ("POST", "paths-info"): self._paths_info,
            ("GET", "refs"): self._refs,
            ("GET", "commits"): self._commits,
            ("POST", "tag"): self._create_tag,
            ("DELETE", "tag"): self._delete_tag,
            ("POST", "branch"): self._create_branch,
        }
        if action.startswith("xet-"):
            raise HubError(501, "hubserver: repos are not xet-enabled; run clients with HF_HUB_DISABLE_XET=1")
        handler = routes.get((m, action))
        if handler is None:
            raise HubError(404, f"hubserver: no route for {m} {req.path}")
        with self._lock:
            return handler(req, repo_type, repo_id, arg)

    # ------------------------------------------------------------------ repos

    def _create_repo(self, req: Request) -> Response:
        self._require_auth(req)
        body = req.json()
        repo_type = body.get("type") or "model"
        if repo_type not in ("model", "dataset"):
            raise HubError(400, f"hubserver: repo type {repo_type!r} is not supported")
        repo_id = f"{body.get('organization') or USER}/{body['name']}"
        prefix = "datasets/" if repo_type == "dataset" else ""
        url = f"{self.url}/{prefix}{repo_id}"
        with self._lock:
            if (repo_type, repo_id) in self._repos:
                return Response(409, {"error": f"You already created this {repo_type} repo", "url": url})
            private = body.get("visibility") == "private" or bool(body.get("private"))
            repo = Repo(repo_type, repo_id, private, datetime.datetime.now(datetime.UTC))
            # Like the Hub, a new repo starts with one commit holding a .gitattributes.
            attrs = "".join(f"*{ext} filter=lfs diff=lfs merge=lfs -text\n" for ext in self.lfs_extensions)
            files = {".gitattributes": self._store_regular(attrs.encode())}
            first = self._new_commit(repo, None, files, "initial commit", "")
            repo.branches["main"] = first.id
            self._repos[(repo_type, repo_id)] = repo
        return Response(200, {"url": url, "name": repo_id, "id": repo_id})

    def _settings(self, req: Request, repo_type: str, repo_id: str, _: str) -> Response:
        repo = self._writable_repo(req, repo_type, repo_id)
        body = req.json()
        if "visibility" in body:
            repo.private = body["visibility"] == "private"
        if "private" in body:
            repo.private = bool(body["private"])
        return Response(200, {})

    def _card_data(self, commit: Commit) -> dict | None:
        blob = commit.files.get("README.md")
        match = YAML_BLOCK.search(self._read(blob).decode("utf-8", "replace")) if blob else None
        try:
            data = yaml.safe_load(match.group(2)) if match else None
        except yaml.YAMLError:
            return None
        return data if isinstance(data, dict) else None

    def _repo_info(self, req: Request, repo_type: str, repo_id: str, rev: str) -> Response:
        repo = self._readable_repo(req, repo_type, repo_id)
        commit = repo.resolve(rev or "main")
        blobs = truthy(req.arg("blobs"))
        siblings = []
        for path, blob in sorted(commit.files.items()):
            sibling: dict = {"rfilename": path}
            if blobs:
                sibling.update(size=blob.size, blobId=blob.oid)
                if blob.sha256:
                    pointer_size = len(lfs_pointer(blob.sha256, blob.size))
                    sibling["lfs"] = {"size": blob.size, "sha256": blob.sha256, "pointerSize": pointer_size}
            siblings.append(sibling)
        info = {
            "_id": hashlib.sha1(repo_id.encode()).hexdigest()[:24],
            "id": repo_id,
            "author": repo_id.split("/")[0],
            "sha": commit.id,
            "createdAt": now_iso(repo.created_at),
            "lastModified": now_iso(commit.date),
            "private": repo.private,
            "gated": False,
            "disabled": False,
            "downloads": 0,
            "likes": 0,
            "tags": [],
            "siblings": siblings,
            "usedStorage": sum(b.size for b in commit.files.values()),
        }
        if repo_type == "model":
            info["modelId"] = repo_id
        card_data = self._card_data(commit)
        if card_data is not None:
            info["cardData"] = card_data
        return Response(200, info)

    # ------------------------------------------------------------------ upload: preupload, LFS, commit

    def _preupload(self, req: Request, repo_type: str, repo_id: str, rev: str) -> Response:
        if (fault := self._take_fault("preupload")) is not None:
            return fault
        repo = self._writable_repo(req, repo_type, repo_id)
        if req.arg("create_pr"):
            raise HubError(400, "hubserver: create_pr is not supported")
        files = repo.resolve(rev).files
        out = []
        for f in req.json()["files"]:
            lfs = f["path"].endswith(self.lfs_extensions) or f["size"] > LFS_SIZE_THRESHOLD
            entry = {"path": f["path"], "uploadMode": "lfs" if lfs else "regular", "shouldIgnore": False}
            if (existing := files.get(f["path"])) is not None:
                # The client compares this with its local oid (sha256 for LFS, git sha1 otherwise) to skip
                # unchanged files.
                entry["oid"] = existing.etag
            out.append(entry)
        return Response(200, {"files": out})

    def _lfs_batch(self, req: Request, repo_type: str, repo_id: str) -> Response:
        if (fault := self._take_fault("lfs_batch")) is not None:
            return fault
        body = req.json()
        with self._lock:
            self._writable_repo(req, repo_type, repo_id)
            if body.get("operation") != "upload":
                raise HubError(400, "hubserver: only the LFS 'upload' operation is supported")
            objects = []
            for obj in body["objects"]:
                oid, size = obj["oid"], obj["size"]
                if self._lfs_blob(oid) is not None:
                    # No "actions" = already stored: this is how clients know to skip the upload.
                    objects.append({"oid": oid, "size": size})
                    continue
                ticket = secrets.token_urlsafe(16)  # never the user's token: upload URLs carry no auth
                self._tickets[ticket] = (oid, size)
                upload = {"href": f"{self.url}/lfs-upload/{ticket}", "expires_in": 3600}
                verify = {"href": f"{self.url}/lfs-verify", "expires_in": 3600}
                objects.append({"oid": oid, "size": size, "actions": {"upload": upload, "verify": verify}})
        body = {"transfer": "basic", "objects": objects, "hash_algo": "sha256"}
        return Response(200, body, {"Content-Type": "application/vnd.git-lfs+json"})

    def _lfs_put(self, req: Request, ticket: str) -> Response:
        if (fault := self._take_fault("lfs_upload")) is not None:
            return fault
        with self._lock:
            expected = self._tickets.get(ticket)
        if expected is None:
            raise HubError(403, "hubserver: unknown or expired upload URL")
        oid, size = expected
        if len(req.body) != size or hashlib.sha256(req.body).hexdigest() != oid:
            raise HubError(400, f"hubserver: uploaded content does not match oid {oid} / size {size}")
        path = self.root / "lfs" / oid
        tmp = path.with_name(f"{oid}.{secrets.token_hex(4)}.tmp")
        tmp.write_bytes(req.body)
        tmp.replace(path)  # atomic: a concurrent reader never sees a partial object
        with self._lock:
            self._tickets.pop(ticket, None)
            self.counters["lfs_bytes"] += size
        return Response(200, b"")

    def _lfs_verify(self, req: Request) -> Response:
        self._require_auth(req)
        body = req.json()
        blob = self._lfs_blob(body.get("oid", ""))
        if blob is None or blob.size != body.get("size"):
            raise HubError(404, f"hubserver: LFS object {body.get('oid')} not found")
        return Response(200, {})

    def _commit(self, req: Request, repo_type: str, repo_id: str, branch: str) -> Response:
        if (fault := self._take_fault("commit")) is not None:
            return fault
        repo = self._writable_repo(req, repo_type, repo_id)
        if req.arg("create_pr"):
            raise HubError(400, "hubserver: create_pr is not supported")
        if branch not in repo.branches:
            raise HubError(404, f"Invalid rev id: {branch} (commits go to a branch)", code="RevisionNotFound")
        head = repo.commits[repo.branches[branch]]
        lines = [json.loads(line) for line in req.body.decode().splitlines() if line.strip()]
        if not lines or lines[0].get("key") != "header":
            raise HubError(400, "hubserver: the NDJSON payload must start with a header line")
        header = lines[0]["value"]
        if header.get("parentCommit") not in (None, head.id):
            raise HubError(412, "A commit has happened since. Please refresh and try again.")
        # The branch moves only once every operation has applied: a rejected commit changes nothing.
        files, regular_bytes = dict(head.files), 0
        for line in lines[1:]:
            key, value = line["key"], line["value"]
            path = value["path"]
            if key == "file":
                content = value["content"]
                data = base64.b64decode(content) if value.get("encoding") == "base64" else content.encode()
                files[path] = self._store_regular(data)
                regular_bytes += len(data)
            elif key == "lfsFile":
                blob = self._lfs_blob(value["oid"])
                if blob is None:
                    oid = value["oid"]
                    raise HubError(400, f"LFS pointer {path} points to an object never uploaded: {oid}")
                files[path] = blob
            elif key == "deletedFile":
                if files.pop(path, None) is None:
                    raise HubError(404, f"A file with this name doesn't exist: {path}", code="EntryNotFound")
            elif key == "deletedFolder":
                prefix = path.rstrip("/") + "/"
                doomed = [p for p in files if p.startswith(prefix)]
                if not doomed:
                    raise HubError(
                        404, f"A folder with this name doesn't exist: {path}", code="EntryNotFound"
                    )
                for p in doomed:
                    del files[p]
            else:
                raise HubError(400, f"hubserver: unsupported commit operation {key!r}")
        title, message = header.get("summary") or "", header.get("description") or ""
        commit = self._new_commit(repo, head.id, files, title, message)
        repo.branches[branch] = commit.id
        self.counters["regular_file_bytes"] += regular_bytes
        prefix = "datasets/" if repo_type == "dataset" else ""
        url = f"{self.url}/{prefix}{repo_id}/commit/{commit.id}"
        return Response(
            200, {"success": True, "commitOid": commit.id, "commitUrl": url, "pullRequestUrl": None}
        )

    # ------------------------------------------------------------------ refs and history

    def _refs(self, req: Request, repo_type: str, repo_id: str, _: str) -> Response:
        repo = self._readable_repo(req, repo_type, repo_id)

        def refs(names: dict[str, str], kind: str) -> list[dict]:
            items = sorted(names.items())
            return [{"name": n, "ref": f"refs/{kind}/{n}", "targetCommit": c} for n, c in items]

        out = {"branches": refs(repo.branches, "heads"), "tags": refs(repo.tags, "tags"), "converts": []}
        if req.arg("include_prs"):
            out["pullRequests"] = []
        return Response(200, out)

    def _commits(self, req: Request, repo_type: str, repo_id: str, rev: str) -> Response:
        repo = self._readable_repo(req, repo_type, repo_id)
        commit: Commit | None = repo.resolve(rev)
        out = []
        while commit is not None:
            info = {"id": commit.id, "title": commit.title, "message": commit.message}
            out.append({**info, "date": now_iso(commit.date), "authors": [{"user": USER}]})
            commit = repo.commits[commit.parent] if commit.parent else None
        return Response(200, out)

    def _create_tag(self, req: Request, repo_type: str, repo_id: str, rev: str) -> Response:
        repo = self._writable_repo(req, repo_type, repo_id)
        tag = req.json()["tag"]
        if tag in repo.tags:
            raise HubError(409, f"Tag {tag} already exists")
        repo.tags[tag] = repo.resolve(rev).id
        return Response(200, {})

    def _delete_tag(self, req: Request, repo_type: str, repo_id: str, tag: str) -> Response:
        repo = self._writable_repo(req, repo_type, repo_id)
        if repo.tags.pop(tag, None) is None:
            raise HubError(404, f"Invalid rev id: {tag}", code="RevisionNotFound")
        return Response(200, {})

    def _create_branch(self, req: Request, repo_type: str, repo_id: str, branch: str) -> Response:
        repo = self._writable_repo(req, repo_type, repo_id)
        if branch in repo.branches:
            raise HubError(409, f"Branch {branch} already exists")
        repo.branches[branch] = repo.resolve(req.json().get("startingPoint") or "main").id
        return Response(200, {})

    # ------------------------------------------------------------------ listing: tree and paths-info

    def _last_commit(self, repo: Repo, commit: Commit, path: str) -> dict:
        """Newest commit, walking back from ``commit``, that changed ``path`` (a file or a folder)."""

        def snapshot(c: Commit) -> dict[str, str]:
            return {p: b.oid for p, b in c.files.items() if p == path or p.startswith(path + "/")}

        current, state = commit, snapshot(commit)
        while current.parent is not None and snapshot(repo.commits[current.parent]) == state:
            current = repo.commits[current.parent]
        return {"id": current.id, "title": current.title, "date": now_iso(current.date)}

    def _entry(self, repo: Repo, commit: Commit, path: str, expand: bool) -> dict | None:
        """Tree entry of a file or folder at ``commit``, in the Hub's JSON shape; None if absent."""
        blob = commit.files.get(path)
        if blob is not None:
            entry: dict = {"type": "file", "oid": blob.oid, "size": blob.size, "path": path}
            if blob.sha256:
                pointer_size = len(lfs_pointer(blob.sha256, blob.size))
                entry["lfs"] = {"oid": blob.sha256, "size": blob.size, "pointerSize": pointer_size}
        else:
            below = sorted((p, b.oid) for p, b in commit.files.items() if p.startswith(path + "/"))
            if not below:
                return None
            tree_oid = hashlib.sha1("".join(f"{p}\0{oid}\n" for p, oid in below).encode()).hexdigest()
            entry = {"type": "directory", "oid": tree_oid, "size": 0, "path": path}
        if expand:
            entry["lastCommit"] = self._last_commit(repo, commit, path)
        return entry

    def _tree(self, req: Request, repo_type: str, repo_id: str, arg: str) -> Response:
        repo = self._readable_repo(req, repo_type, repo_id)
        raw_rev, _, raw_path = req.path.split("/tree/", 1)[1].partition("/")  # rev is one quoted segment
        commit, base = repo.resolve(unquote(raw_rev)), unquote(raw_path).strip("/")
        recursive, expand = truthy(req.arg("recursive")), truthy(req.arg("expand"))
        prefix = base + "/" if base else ""
        if base and (base in commit.files or self._entry(repo, commit, base, False) is None):
            raise HubError(404, f"hubserver: no folder {base} at {commit.id}", code="EntryNotFound")
        paths: set[str] = set()
        for p in commit.files:
            if not p.startswith(prefix):
                continue
            parts = p[len(prefix) :].split("/")
            depth = len(parts) if recursive else 1
            paths.update(prefix + "/".join(parts[: i + 1]) for i in range(min(depth, len(parts))))
        # Folders first, then files, each sorted by path (the Hub lists "tree first").
        ordered = sorted(paths, key=lambda p: (p in commit.files, p))
        start = int(req.arg("cursor") or 0)
        page = ordered[start : start + self.tree_page_size]
        headers = {}
        if start + self.tree_page_size < len(ordered):
            query = {k: v[0] for k, v in req.query.items() if k != "cursor"}
            query["cursor"] = str(start + self.tree_page_size)
            next_url = f"{self.url}{req.path}?{urlencode(query)}"
            headers["Link"] = f'<{next_url}>; rel="next"'
        return Response(200, [self._entry(repo, commit, p, expand) for p in page], headers)

    def _paths_info(self, req: Request, repo_type: str, repo_id: str, rev: str) -> Response:
        repo = self._readable_repo(req, repo_type, repo_id)
        commit = repo.resolve(rev)
        if req.headers.get("content-type", "").startswith("application/json"):
            body = req.json()
            paths, expand = body.get("paths", []), bool(body.get("expand"))
        else:
            form = parse_qs(req.body.decode(), keep_blank_values=True)
            paths, expand = form.get("paths", []), truthy(form.get("expand", [""])[0])
        entries = (self._entry(repo, commit, p.strip("/"), expand) for p in paths)
        return Response(200, [e for e in entries if e is not None])  # missing paths are left out

    # ------------------------------------------------------------------ downloads

    def _resolve(self, req: Request, repo_type: str, repo_id: str, rev: str, path: str) -> Response:
        if (fault := self._take_fault("resolve")) is not None:
            return fault
        with self._lock:
            repo = self._readable_repo(req, repo_type, repo_id)
            commit = repo.resolve(rev)
            blob = commit.files.get(path)
        headers = {"X-Repo-Commit": commit.id}
        if blob is None:
            # X-Repo-Commit on the 404 lets hf_hub_download cache the file's absence for that commit.
            raise HubError(404, "Entry not found", code="EntryNotFound", headers=headers)
        headers.update({"ETag": f'"{blob.etag}"', "Accept-Ranges": "bytes"})
        if blob.sha256:
            headers.update({"X-Linked-Etag": f'"{blob.sha256}"', "X-Linked-Size": str(blob.size)})
        data = self._read(blob)
        range_header = req.headers.get("range")
        if range_header:
            match = re.fullmatch(r"\s*bytes=(\d*)-(\d*)\s*", range_header)
            if not match or match.groups() == ("", ""):
                raise HubError(400, f"hubserver: unsupported Range {range_header!r}")
            first, last = match.groups()
            start = int(first) if first else max(0, len(data) - int(last))
            end = min(int(last), len(data) - 1) if first and last else len(data) - 1
            if start >= len(data) or start > end:
                raise HubError(
                    416, "Range Not Satisfiable", headers={"Content-Range": f"bytes */{len(data)}"}
                )
            headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
            return Response(206, data[start : end + 1], headers)
        return Response(200, data, headers)

    # ------------------------------------------------------------------ README metadata

    def _validate_yaml(self, req: Request) -> Response:
        body = req.json()
        errors, warnings = [], []
        match = YAML_BLOCK.search(body.get("content", ""))
        if match is None:
            warnings.append("empty or missing yaml metadata in repo card")
        else:
            try:
                data = yaml.safe_load(match.group(2))
            except yaml.YAMLError as exc:
                data, errors = None, [f"Invalid YAML in README.md front matter: {exc}"]
            if data is not None and not isinstance(data, dict):
                errors.append(f"README.md front matter must be a YAML mapping, got {type(data).__name__}")
            elif isinstance(data, dict) and body.get("repoType") == "dataset":
                errors.extend(_check_configs(data.get("configs")))
        if req.headers.get("accept") == "text/plain":  # DatasetCard.validate() asks for plain text
            return Response(400 if errors else 200, "\n".join(errors), {"Content-Type": "text/plain"})
        report = {"errors": [{"message": e} for e in errors], "warnings": [{"message": w} for w in warnings]}
        return Response(400 if errors else 200, report)


def _check_configs(configs) -> list[str]:
    """The subset of the Hub's dataset metadata validation that ``datasets`` relies on: ``configs``."""
    if configs is None:
        return []
    if not isinstance(configs, list):
        return ['"configs" must be a list']
    errors, names = [], []
    for i, config in enumerate(configs):
        if not isinstance(config, dict) or not isinstance(config.get("config_name"), str):
            errors.append(f'"configs[{i}]" must be a mapping with a string "config_name"')
            continue
        names.append(config["config_name"])
        data_files = config.get("data_files")
        items = data_files if isinstance(data_files, list) else [data_files]
        if not all(_is_data_files_item(item) for item in items):
            errors.append(f'"configs[{i}].data_files" entries must be paths or {{split, path}} mappings')
    if len(names) != len(set(names)):
        errors.append('"configs" has duplicate config_name values')
    return errors


def _is_data_files_item(item) -> bool:
    if item is None or isinstance(item, str):
        return True
    if not isinstance(item, dict) or not isinstance(item.get("split"), str):
        return False
    path = item.get("path")
    return isinstance(path, str) or (isinstance(path, list) and all(isinstance(p, str) for p in path))


class _Handler(BaseHTTPRequestHandler):
    hub: HubServer
    protocol_version = "HTTP/1.1"  # keep-alive, like the Hub; every response carries Content-Length
    timeout = 60  # idle keep-alive connections end eventually

    def log_message(self, format, *args):
        pass  # requests are recorded in hub.log instead of stderr

    def _read_body(self) -> bytes:
        # httpx sizes the LFS PUT (Content-Length); a body of unknown size would arrive chunked.
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while (size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)) > 0:
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline().strip():  # trailers
                pass
            return b"".join(chunks)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _dispatch(self) -> None:
        hub = self.hub
        with hub._lock:
            hub.log.append(f"{self.requestline}\n{self.headers}")
        body = self._read_body()
        split = urlsplit(self.path)
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            auth = headers.get("authorization")
            if auth is not None and auth != f"Bearer {hub.token}":
                # The Hub rejects a bad token even on public reads, with this exact message.
                raise HubError(401, "Invalid credentials in Authorization header")
            req = Request(self.command, split.path, parse_qs(split.query), headers, body, auth is not None)
            response = hub.handle(req)
        except HubError as err:
            ascii_message = err.message.encode("ascii", "backslashreplace").decode()
            error_headers = {"X-Error-Message": ascii_message, **err.headers}
            if err.code:
                error_headers["X-Error-Code"] = err.code
            response = Response(err.status, {"error": err.message}, error_headers)
        except Exception:
            with hub._lock:
                hub.errors.append(traceback.format_exc())
            response = Response(500, {"error": "hubserver: internal error (see HubServer.errors)"})
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = _dispatch
