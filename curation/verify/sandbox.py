"""Run untrusted Python in a fresh, locked-down child of a warm fork server: the client side.

:class:`SandboxServer` starts one fork server process (:mod:`curation.verify.forkserver`, which describes the
child's lock-down and the server's namespaces) and sends it requests: run ``"module:function"`` on a JSON payload
in a new child, with a wall-clock timeout and a memory cap. The server answers with the child's raw outcome (exit
status, CPU time, output tail, result frames, reported violations), which :func:`_decode_response` classifies here
into a :class:`SandboxResult` (``ok``, ``timeout``, ``forbidden``, ``crashed``, ...), so that the server itself never
parses or builds JSON. :class:`ServerPair` keeps a server with numpy preloaded and a lean one, and routes each
payload to the one it needs.

Public API: :func:`run`, :func:`protections`, :class:`SandboxServer`, :class:`ServerPair`, :class:`SandboxResult`,
and the frame helpers :func:`write_frame` / :class:`FrameReader` used by the worker and the pool.
"""

from __future__ import annotations

import _thread
import atexit
import json
import os
import re
import select
import signal
import struct
import sys
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from curation.verify.forkserver import (  # noqa: F401  (re-exported: the worker and the tests use them)
    _HEADER,
    _KILLED_FOR,
    _READY_FRAME,
    _REQ_PRELOAD,
    _REQ_RUN,
    _REQUEST,
    _RESPONSE,
    _TAG_END,
    _TAG_META,
    _TAG_RESULT,
    ADAPTIVE_PRELOADABLE,
    BASE_PRELOAD,
    DEFAULT_MEMORY_MB,
    FORBIDDEN_EXIT,
    NUMERIC_STACK,
    OUTPUT_LIMIT_BYTES,
    PASS_THROUGH_ENV,
    RESULT_LIMIT_BYTES,
    SAFE_ENV,
    _set_parent_death_signal,
    _warn,
    _write_all,
    isolate_network,
    project_root,
)

if TYPE_CHECKING:
    import subprocess

SERVER_MARGIN_S = 10.0
ADAPTIVE_PRELOAD_AFTER = 3


# ----------------------------------------------------------------------------------------------- framing helpers


def write_frame(fd: int, obj: Any, deadline: float | None = None) -> None:
    """Write one length-prefixed JSON frame to a file descriptor: all bytes, blocking; with ``deadline``
    (monotonic) to a non-blocking ``fd``, TimeoutError once it passes with bytes still unwritten."""
    # Lenient on purpose (NaN tokens, repr for odd objects): a grader's details must never break the channel.
    data = json.dumps(obj, separators=(",", ":"), default=repr).encode()
    if deadline is None:
        _write_all(fd, _HEADER.pack(len(data)) + data)
    else:
        _write_frame_by(fd, data, deadline)


def _write_frame_by(fd: int, data: bytes, deadline: float) -> None:
    """One frame of ``data`` to a non-blocking ``fd``, waiting for room until ``deadline`` (monotonic), then
    TimeoutError: a server that stopped reading must not block its client forever on a full pipe."""
    view = memoryview(_HEADER.pack(len(data)) + data)
    poller = select.poll()
    poller.register(fd, select.POLLOUT)
    while view:
        try:
            view = view[os.write(fd, view) :]
            continue
        except BlockingIOError:
            pass
        left = deadline - time.monotonic()
        if left <= 0 or not poller.poll(max(1, int(left * 1000))):
            raise TimeoutError("the reader stopped reading")


class FrameReader:
    """Reads length-prefixed JSON frames from a file descriptor, with an optional deadline per frame."""

    def __init__(self, fd: int, limit: int = 256 << 20):
        self.fd = fd
        self.limit = limit
        self._buffer = bytearray()

    def read(self, deadline: float | None = None) -> Any:
        """The next frame's JSON value; None at end of stream; TimeoutError past ``deadline`` (monotonic)."""
        payload = self.read_bytes(deadline)
        return None if payload is None else json.loads(payload)

    def read_bytes(self, deadline: float | None = None) -> bytes | None:
        """The next frame's raw bytes; None at end of stream; TimeoutError past ``deadline`` (monotonic)."""
        while True:
            if len(self._buffer) >= _HEADER.size:
                (size,) = _HEADER.unpack_from(self._buffer)
                if size > self.limit:
                    raise ValueError(f"frame of {size} bytes is over the {self.limit}-byte limit")
                if len(self._buffer) >= _HEADER.size + size:
                    payload = bytes(self._buffer[_HEADER.size : _HEADER.size + size])
                    del self._buffer[: _HEADER.size + size]
                    return payload
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError("no frame before the deadline")
                ready, _, _ = select.select([self.fd], [], [], remaining)
                if not ready:
                    raise TimeoutError("no frame before the deadline")
            chunk = os.read(self.fd, 1 << 16)
            if not chunk:
                if self._buffer:
                    raise EOFError("stream ended inside a frame")
                return None
            self._buffer += chunk


# --------------------------------------------------------------------------------------------------- the result


@dataclass
class SandboxResult:
    """What one sandboxed run produced. ``frames`` are the JSON texts the program emitted, in order.

    ``status``: ``ok`` (the program ran to its end and exited cleanly), ``timeout`` (wall clock or CPU limit),
    ``forbidden`` (the audit hook caught a forbidden attempt; see ``violations``), ``output_limit`` (more than
    1 MB on stdout/stderr), ``result_limit`` (result stream too large or malformed), ``crashed`` (exit, signal,
    or death before the end), ``unavailable`` (the fork server could not be started or stopped answering).
    """

    status: str
    frames: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    reason: str = ""
    output_tail: str = ""
    exit_status: int | None = None
    wall_s: float = 0.0


# ----------------------------------------------------------------------------------------- spawning a server


def clean_environment() -> dict[str, str]:
    """The fixed environment for workers, fork servers and children: no credentials, one BLAS thread."""
    env = dict(SAFE_ENV)
    env["PYTHONPATH"] = project_root()
    for name in PASS_THROUGH_ENV:
        if name in os.environ:
            env[name] = os.environ[name]
    return env


# The fork server starts from this bootstrap rather than ``-m curation.verify.forkserver``: it registers bare
# package objects for ``curation``, ``curation.verify`` and ``curation.records`` so that their ``__init__``
# modules (which import every record type) never load; and it runs without ``site`` (``-S``: no .pth files, so no
# editable-install finder and the ~40 modules it brings), appending the client's package directories to its
# sys.path itself, after the standard library as site would (see ``_package_path``). Every module in the server is
# paid for at every fork: together these keep ~4 MB of heap out of a lean server, about 0.2 ms per check here.
_SERVER_BOOTSTRAP = """
import os, sys
root, parent = sys.argv[1], int(sys.argv[2])
sys.path.extend(p for p in os.environ.pop("VQFT_SANDBOX_PACKAGE_PATH", "").split(os.pathsep) if p)
for name in ("curation", "curation.verify", "curation.records"):
    package = type(sys)(name)
    package.__path__ = [os.path.join(root, *name.split("."))]
    sys.modules[name] = package
from curation.verify.forkserver import serve
serve(parent)
"""


def _package_path() -> str:
    """The client's sys.path from its first site-packages (or dist-packages) entry on: what ``site`` put there,
    .pth additions included, and not a script's directory or other paths put in front. The user's own
    site-packages is left out, as the servers' environment says (``PYTHONNOUSERSITE``): children may read every
    package directory, and a home directory is no place they should see. Editable installs that rely on an
    import hook (a .pth "finder") are not found this way; this project's own package is (it is on PYTHONPATH)."""
    import site

    user_base = os.path.abspath(site.getuserbase()) + os.sep
    paths = [os.path.abspath(p) for p in sys.path if p and os.path.exists(p)]
    first = next(
        (i for i, p in enumerate(paths) if os.path.basename(p) in ("site-packages", "dist-packages")),
        len(paths),
    )
    return os.pathsep.join(dict.fromkeys(p for p in paths[first:] if not p.startswith(user_base)))


def _describe_exit(exit_status: int, ended: bool) -> str:
    if exit_status < 0:
        try:
            name = signal.Signals(-exit_status).name
        except ValueError:
            name = f"signal {-exit_status}"
        return f"killed by {name}"
    if exit_status != 0:
        return f"exited with status {exit_status} before finishing"
    return "exited before finishing" if not ended else ""


def _decode_response(data: bytes, timeout: float) -> tuple[SandboxResult, list[str]]:
    """The fork server's binary response -> (result, preloadable modules the child imported)."""
    if data[:1] == b"U":
        return SandboxResult(status="unavailable", reason=data[1:].decode("utf-8", "replace")), []
    _, killed_code, exit_status, cpu_s, tail_size, result_size = _RESPONSE.unpack_from(data)
    pos = _RESPONSE.size
    output_tail = data[pos : pos + tail_size].decode("utf-8", "replace")
    pos += tail_size
    result_bytes = data[pos : pos + result_size]
    violations = [v for v in data[pos + result_size :].decode("utf-8", "replace").splitlines() if v][:10]
    killed_for = _KILLED_FOR[killed_code]
    ready, frames, meta, ended, malformed = _parse_result_stream(result_bytes)
    if violations or exit_status == FORBIDDEN_EXIT:
        status, reason = "forbidden", "forbidden operation: " + "; ".join(violations or ["(unreported)"])
    elif (
        killed_for == "timeout"
        or exit_status == -signal.SIGXCPU
        or (exit_status == -signal.SIGKILL and cpu_s >= int(timeout) + 1.5)
    ):
        status, reason = "timeout", f"no result within {timeout:g} s"
    elif killed_for == "output_limit":
        status, reason = "output_limit", f"more than {OUTPUT_LIMIT_BYTES} bytes of output"
    elif killed_for == "result_limit" or malformed:
        status, reason = "result_limit", "result stream too large or malformed"
    elif not ready:
        status, reason = (
            "unavailable",
            f"sandbox set-up failed in the child ({_describe_exit(exit_status, False)})",
        )
    elif exit_status != 0 or not ended:
        status, reason = "crashed", _describe_exit(exit_status, ended)
    else:
        status, reason = "ok", ""
    imported = meta.get("imported", []) if isinstance(meta, dict) else []
    result = SandboxResult(
        status=status,
        frames=frames,
        violations=violations,
        reason=reason,
        output_tail=output_tail,
        exit_status=exit_status,
    )
    return result, [m for m in imported if isinstance(m, str) and m in ADAPTIVE_PRELOADABLE]


def _parse_result_stream(data: bytes) -> tuple[bool, list[str], Any, bool, bool]:
    """Split the child's result pipe: (set-up done, result frames, meta, saw end marker, malformed)."""
    header = 1 + _HEADER.size
    ready = data[:header] == _READY_FRAME
    if not ready:
        return False, [], {}, False, bool(data)
    frames, meta, ended, malformed = _parse_frames(data, header)
    return True, frames, meta, ended, malformed


def _parse_frames(data: bytes, pos: int) -> tuple[list[str], Any, bool, bool]:
    frames: list[str] = []
    meta: Any = {}
    header = 1 + _HEADER.size
    while pos < len(data):
        if len(data) - pos < header:
            return frames, meta, False, True
        tag = data[pos : pos + 1]
        (size,) = _HEADER.unpack_from(data, pos + 1)
        body = data[pos + header : pos + header + size]
        if len(body) != size:
            return frames, meta, False, True
        pos += header + size
        if tag == _TAG_RESULT:
            frames.append(body.decode("utf-8", "replace"))
        elif tag == _TAG_META:
            try:
                meta = json.loads(body)
            except ValueError:
                return frames, meta, False, True
        elif tag == _TAG_END:
            return frames, meta, pos == len(data), pos != len(data)
        else:
            return frames, meta, False, True
    return frames, meta, False, False


# -------------------------------------------------------------------------------------------------- the client


def kill_and_reap(proc: subprocess.Popen) -> None:
    """SIGKILL a helper process (server or worker), wait for it, and close its pipes."""
    try:
        proc.kill()
    except OSError:
        pass
    proc.wait()
    for stream in (proc.stdin, proc.stdout):
        try:
            stream.close()
        except OSError:
            pass


class SandboxServer:
    """Client for one fork server process; ``run`` is thread-safe (requests are served one at a time)."""

    def __init__(
        self, start_timeout: float = 120.0, lean: bool = False, result_limit: int = RESULT_LIMIT_BYTES
    ):
        """``lean=True``: a server without numpy preloaded (see :class:`ServerPair`). ``result_limit``: the
        most bytes of result frames a child may send (more is ``result_limit``), at most RESULT_LIMIT_BYTES."""
        self.start_timeout = start_timeout
        self.lean = lean
        self.result_limit = min(int(result_limit), RESULT_LIMIT_BYTES)
        self._lock = _thread.allocate_lock()
        self._proc: Any = None
        self._reader: FrameReader | None = None
        self._ready = False
        self._import_counts: dict[str, int] = {}
        self.protections: dict[str, Any] = {}

    def launch(self) -> None:
        """Spawn the server process without waiting for it (``start`` waits); lets a caller overlap start-ups."""
        with self._lock:
            if self._proc is None or self._proc.poll() is not None:
                self._spawn()

    def start(self) -> dict[str, Any]:
        """Start the server if it is not running and wait until it is ready; returns its protections."""
        with self._lock:
            self._ensure_started()
            return self.protections

    def _spawn(self) -> None:
        import subprocess

        self._stop()
        self._proc = subprocess.Popen(
            # -u: what children print goes straight to their pipe, so they exit without a flush (see forkserver).
            [sys.executable, "-S", "-u", "-c", _SERVER_BOOTSTRAP, project_root(), str(os.getpid())],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            # Resolve every shared-library symbol at load time, in the server, rather than lazily in each child
            # (a lazy binding writes the library's GOT: one more copy-on-write page, ~15 per check). The server
            # drops the variable from its environment once started, so children never see it.
            env={
                **clean_environment(),
                "VQFT_SANDBOX_PACKAGE_PATH": _package_path(),
                "LD_BIND_NOW": "1",
                "VQFT_SANDBOX_RESULT_LIMIT": str(self.result_limit),
                **({"VQFT_SANDBOX_LEAN": "1"} if self.lean else {}),
            },
            cwd="/",
            start_new_session=True,
        )
        os.set_blocking(self._proc.stdin.fileno(), False)  # requests are written with a deadline
        self._reader = FrameReader(self._proc.stdout.fileno())
        self._ready = False

    def _ensure_started(self) -> None:
        if self._proc is None or self._proc.poll() is not None:
            self._spawn()
        if self._ready:
            return
        try:
            hello = self._reader.read(time.monotonic() + self.start_timeout)
        except (TimeoutError, EOFError, ValueError, OSError):
            hello = None
        if not isinstance(hello, dict) or "hello" not in hello:
            self._stop()
            raise RuntimeError("the sandbox fork server did not start (see its stderr above)")
        self._ready = True
        self.protections = hello["hello"]["protections"]

    def run(self, entry: str, payload: dict, timeout: float, memory_mb: int | None = None) -> SandboxResult:
        """Run ``entry`` ("module:function", called as ``f(payload, emit)``) in a fresh sandboxed child."""
        # Lenient on purpose (NaN tokens, repr for odd objects), as write_frame: a payload must never break the
        # channel. The server passes these bytes to the child untouched.
        body = json.dumps(payload, separators=(",", ":"), default=repr).encode()
        name = entry.encode()
        request = _REQUEST.pack(_REQ_RUN, float(timeout), int(memory_mb or 0), len(name)) + name + body
        with self._lock:
            for attempt in range(2):
                start = time.monotonic()
                deadline = start + float(timeout) + SERVER_MARGIN_S
                try:
                    self._ensure_started()
                    assert self._proc is not None and self._reader is not None
                    _write_frame_by(self._proc.stdin.fileno(), request, deadline)
                    response = self._reader.read_bytes(deadline)
                except TimeoutError:
                    self._stop()
                    return SandboxResult(
                        status="unavailable", reason="the sandbox fork server stopped answering"
                    )
                except (OSError, EOFError, ValueError, RuntimeError) as exc:
                    self._stop()
                    if attempt == 1:
                        return SandboxResult(
                            status="unavailable", reason=f"sandbox fork server failed: {exc}"
                        )
                    continue
                except BaseException:
                    self._stop()  # a half-done exchange would leave its response for the next request to read
                    raise
                if response is None:
                    self._stop()
                    if attempt == 1:
                        return SandboxResult(status="unavailable", reason="the sandbox fork server exited")
                    continue
                try:
                    result, imported = _decode_response(response, float(timeout))
                except (struct.error, IndexError) as exc:
                    self._stop()
                    return SandboxResult(
                        status="unavailable", reason=f"malformed fork server response: {exc}"
                    )
                result.wall_s = round(time.monotonic() - start, 6)
                self._count_imports(imported)
                return result
        return SandboxResult(status="unavailable", reason="unreachable")

    def _count_imports(self, imported: list[str]) -> None:
        """Ask the server to preload what children keep importing themselves (a few uses: cheaper to fork it)."""
        for module in imported:
            count = self._import_counts.get(module, 0) + 1
            self._import_counts[module] = count
            if count == ADAPTIVE_PRELOAD_AFTER and self._proc is not None:
                name = module.encode()
                request = _REQUEST.pack(_REQ_PRELOAD, 0.0, 0, len(name)) + name
                try:
                    _write_frame_by(self._proc.stdin.fileno(), request, time.monotonic() + SERVER_MARGIN_S)
                except (OSError, TimeoutError):
                    self._stop()  # the next run starts a new server

    def _stop(self, graceful: bool = False) -> None:
        proc, self._proc, self._reader, self._ready = self._proc, None, None, False
        if proc is None:
            return
        if graceful:
            try:
                proc.stdin.close()  # EOF: the server cleans up and exits
                proc.wait(timeout=2)
            except Exception:
                pass
        kill_and_reap(proc)

    def close(self) -> None:
        """Stop the server (its children die with it)."""
        with self._lock:
            self._stop(graceful=True)


class ServerPair:
    """Two fork servers: one with numpy preloaded for code that names the numeric stack (numpy, scipy, sympy,
    mpmath, or ``np.``) or takes an ``array`` argument, and a lean one for the rest, whose fork and exit cost
    about half (0.55 ms against 1.04 ms here: page tables and teardown grow with the server's memory). Code that
    reaches numpy without naming it still works on the lean server, only slower (it imports numpy itself).
    ``run`` is thread-safe."""

    _NAMES_NUMERIC_STACK = re.compile("|".join([*NUMERIC_STACK, r"\bnp\."]))

    def __init__(self, start_timeout: float = 120.0, result_limit: int = RESULT_LIMIT_BYTES):
        self.full = SandboxServer(start_timeout, result_limit=result_limit)
        self.lean = SandboxServer(start_timeout, lean=True, result_limit=result_limit)
        self.result_limit = self.full.result_limit

    def launch(self) -> None:
        """Spawn both servers without waiting for them."""
        self.full.launch()
        self.lean.launch()

    def start(self) -> dict[str, Any]:
        """Wait until both servers are ready; returns the full server's protections (the lean one's are the same
        layers)."""
        self.lean.start()
        return self.full.start()

    def server_for(self, payload: dict) -> SandboxServer:
        """The lean server for a code payload whose source names no numeric module and whose arguments need no
        numpy (an ``array`` argument is passed as a numpy array); the full one for anything else."""
        if not isinstance(payload, dict):
            return self.full
        source, arguments = payload.get("source"), payload.get("arguments")
        if not isinstance(source, str) or self._NAMES_NUMERIC_STACK.search(source):
            return self.full
        if not isinstance(arguments, list) or any(
            not isinstance(a, list) or "array" in a[1:] for a in arguments
        ):
            return self.full
        return self.lean

    def run(self, entry: str, payload: dict, timeout: float, memory_mb: int | None = None) -> SandboxResult:
        """``SandboxServer.run`` on the server the payload's ``source`` calls for."""
        return self.server_for(payload).run(entry, payload, timeout, memory_mb)

    def close(self) -> None:
        self.full.close()
        self.lean.close()


_DEFAULT: tuple[int, SandboxServer] | None = None
_DEFAULT_LOCK = _thread.allocate_lock()


def default_server() -> SandboxServer:
    """This process's fork server (a fresh one after a fork), started on first use."""
    global _DEFAULT
    with _DEFAULT_LOCK:
        if _DEFAULT is None or _DEFAULT[0] != os.getpid():
            _DEFAULT = (os.getpid(), SandboxServer())
        return _DEFAULT[1]


def run(entry: str, payload: dict, timeout: float, memory_mb: int | None = None) -> SandboxResult:
    """Run ``entry(payload, emit)`` in a fresh sandboxed child of this process's fork server."""
    return default_server().run(entry, payload, timeout, memory_mb)


def protections() -> dict[str, Any]:
    """Which protections the sandbox actually has on this machine (starts the fork server if needed)."""
    return dict(default_server().start())


def shutdown() -> None:
    """Stop this process's fork server, if one was started."""
    global _DEFAULT
    with _DEFAULT_LOCK:
        if _DEFAULT is not None and _DEFAULT[0] == os.getpid():
            _DEFAULT[1].close()
        _DEFAULT = None


def _atexit() -> None:
    try:
        shutdown()
    except Exception:
        pass


atexit.register(_atexit)
