"""Run untrusted Python in a fresh, locked-down child process forked from a warm fork server.

Model code is hostile. Each check runs in a new child forked from a *fork server* (a clean Python process with
numpy already imported, started once per grading process), so a check costs a fork, not an interpreter start.
The child, before it runs anything untrusted:

- starts a new session (its own process group, so a timeout kills everything it is);
- keeps only /dev/null (stdin), one output pipe (stdout and stderr), a result pipe and a violation pipe;
- gets rlimits: CPU seconds, address space (the server's size plus ``memory_mb``), no file writes, no new
  processes or threads (RLIMIT_NPROC=1 under a uid of its own), no core files, few file descriptors;
- runs in an empty read-only working directory with a fixed minimal environment (no tokens or keys);
- drops root: no supplementary groups, a uid/gid of its own (``SANDBOX_UID_BASE`` + the server's host pid, so the
  process count behind RLIMIT_NPROC is this child's alone), ``no_new_privs``;
- installs an audit hook that reports any forbidden attempt (file write, read outside the Python
  installation, network, new process, signals, ctypes, heap inspection) on the violation pipe and exits on the
  spot, so a check that tried is ``forbidden`` even when the code caught the error or forged its results.

The fork server itself runs in a new network namespace (no interface but a downed loopback), a private mount
namespace in which world-writable directories are covered by empty read-only mounts, and a new PID namespace of
which it is init: when it dies the kernel kills every child (so children need no parent-death signal; without
the namespace each child sets one), nothing outside the namespace can be named by pid from inside, and signals
from children to their init are dropped. The server enforces the wall-clock limit (poll on the pipes and a
pidfd), SIGKILLs the child's process group when it is exceeded, caps output at 1 MB and always reaps the child.

Why a separate fork server rather than forking the grading worker: fork and exit cost grows with the parent's
memory (about 50 us per MB here), and a worker holding sympy and scipy costs 5-10 ms per fork; a server with
numpy alone costs about 1.4 ms (fork plus the child's exit). Modules that children keep importing
(scipy.special, ...) are preloaded into the server after a few uses, on the client's request.

What a check costs, and why the code is shaped as it is: after a fork every page of the server is shared
copy-on-write, so each page that the server *or* the child then writes costs a page fault and a copy, 3-4 us on
a VM. The server therefore never touches JSON (requests and responses are binary frames; the payload goes to
the child as bytes and the outcome is classified by the client), builds the children's configuration and the
audit hook once, resolves shared-library symbols at start-up (``LD_BIND_NOW``: lazy binding writes GOT pages in
every child), and leaves the working directory set for the children.

Considered and rejected: a pre-sandboxed *zygote* (a long-lived process that has already dropped to the sandbox
uid, set the rlimits and installed a dormant audit hook, so that a child only arms the hook). Its children would
share its uid, so a child that got past the audit hook could signal or ptrace the zygote, and the RLIMIT_NPROC
count would be shared; giving each child its own uid needs the zygote to keep CAP_SETUID, i.e. to stay
privileged while holding state that all later checks inherit; and a dormant hook needs an arming flag that model
code can reach through the frames of the server (they are on every child's stack). The saving would be the
per-child set-up: ~15 syscalls and ~50 page faults, about 0.2 ms of the ~5 ms a check costs here, most of which
is the fork, the child's exit and copy-on-write faults, whatever process forks.

This module is the fork server process (:func:`serve`) and its children; the client that starts servers and
sends them work is :mod:`curation.verify.sandbox`. It is the only module of this project that a server imports
besides the entry points it runs (:mod:`curation.verify.attempt`), and it imports little of the standard library:
not ``json`` (the C encoder and scanner are used directly), ``re``, ``typing`` or ``dataclasses``, and the server
starts without ``site`` (``-S``). A lean server has 5 MB of heap rather than 8.3 MB, and its children take ~40
fewer page faults: ~0.2 ms less per check here.

Measured and left (2-core VM whose page faults cost 3-4 us): forking through libc with ctypes, to skip CPython's
after-fork bookkeeping, saves only 2-7 faults a check (without at-fork hooks there is little to skip); splitting
the server into a process that only forks and one that supervises would take ~60 of the ~115 faults a check
out of the forking process, at the price of passing pipe descriptors and two more wake-ups: ~4% estimated.
"""

from __future__ import annotations

import _json
import _thread
import ctypes
import fcntl
import gc
import importlib
import io
import itertools
import math
import os
import resource
import select
import signal
import struct
import sys
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


def _warn(message: str) -> None:
    # Not the logging module: importing it (or threading, subprocess, random) into the fork server adds
    # after-fork handlers that cost every child a few hundred page faults.
    try:
        sys.stderr.write(f"curation.verify.forkserver: {message}\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


OUTPUT_LIMIT_BYTES = 1 << 20
RESULT_LIMIT_BYTES = 16 << 20
DEFAULT_MEMORY_MB = 1024
SANDBOX_UID_BASE = 1_000_000
FORBIDDEN_EXIT = 86
SETUP_FAILED_EXIT = 87
CHILD_NOFILE = 32
# Children's pipes: read at exit and every DRAIN_PERIOD_S while the child runs (see _wait_for_exit).
PIPE_CAPACITY = 1 << 20
DRAIN_PERIOD_S = 0.05
# Only these may be preloaded into the fork server on a child's say-so: a hostile child can at most make later
# forks a little slower, never make the server import something with side effects.
ADAPTIVE_PRELOADABLE = frozenset(
    {
        "scipy",
        "scipy.special",
        "scipy.integrate",
        "scipy.optimize",
        "scipy.linalg",
        "scipy.interpolate",
        "scipy.constants",
        "scipy.fft",
        "scipy.stats",
        "sympy",
        "mpmath",
    }
)
# Code that names any of these runs on a server with numpy preloaded; other code on a lean one (see ServerPair).
NUMERIC_STACK = ("numpy", "scipy", "sympy", "mpmath")
BASE_PRELOAD = (
    "numpy",
    "math",
    "cmath",
    "functools",
    "curation.verify.attempt",
)

SAFE_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "HOME": "/nonexistent",
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYTHONNOUSERSITE": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
}
# Environment variables a caller may pass through to the server on purpose (never credentials).
PASS_THROUGH_ENV = ("VQFT_SANDBOX_PRELOAD", "VQFT_SANDBOX_MEMORY_MB", "VQFT_SANDBOX_DEGRADED")

FORBIDDEN_EVENTS = frozenset(
    {
        "os.remove",
        "os.rename",
        "os.rmdir",
        "os.mkdir",
        "os.chmod",
        "os.chown",
        "os.chflags",
        "os.lchflags",
        "os.link",
        "os.symlink",
        "os.truncate",
        "os.utime",
        "os.setxattr",
        "os.removexattr",
        "os.mkfifo",
        "os.mknod",
        "os.chroot",
        "subprocess.Popen",
        "os.system",
        "os.exec",
        "os.posix_spawn",
        "os.spawn",
        "os.fork",
        "os.forkpty",
        "os.startfile",
        "pty.spawn",
        "os.kill",
        "os.killpg",
        "signal.pthread_kill",
        "gc.get_objects",
        "gc.get_referrers",
        "gc.get_referents",
        "sys._current_frames",
        "resource.setrlimit",
        "resource.prlimit",
        "webbrowser.open",
    }
)
FORBIDDEN_EVENT_PREFIXES = (
    "socket.",
    "ctypes.",
    "shutil.",
    "tempfile.",
    "http.",
    "urllib.",
    "ftplib.",
    "smtplib.",
    "poplib.",
    "imaplib.",
    "nntplib.",
    "telnetlib.",
    "sqlite3.",
    "_winapi.",
    "winreg.",
)
# Importing one of these means someone removed it from sys.modules to get the unpatched original back (they are
# loaded in the server), or is reaching for CPython's test hooks.
FORBIDDEN_REIMPORTS = frozenset(
    {
        "_signal",
        "signal",
        "_posixsubprocess",
        "_thread",
        "_ctypes",
        "_testcapi",
        "_testinternalcapi",
        "_xxsubinterpreters",
    }
)
_SIGNAL_FUNCTIONS = (
    "signal",
    "alarm",
    "setitimer",
    "raise_signal",
    "siginterrupt",
    "set_wakeup_fd",
    "pthread_sigmask",
    "pthread_kill",
    "pidfd_send_signal",
    "sigwait",
    "sigwaitinfo",
    "sigtimedwait",
)

_CLONE_NEWNS = 0x00020000
_CLONE_NEWPID = 0x20000000
_CLONE_NEWNET = 0x40000000
_MS_RDONLY = 1
_MS_NOSUID = 2
_MS_NODEV = 4
_MS_NOEXEC = 8
_MS_REMOUNT = 32
_MS_BIND = 4096
_MS_REC = 16384
_MS_PRIVATE = 1 << 18
_PR_SET_PDEATHSIG = 1
_PR_SET_NO_NEW_PRIVS = 38
_O_PATH = getattr(os, "O_PATH", 0o10000000)

_CHILD_RESULT_FD = 3
_CHILD_VIOLATION_FD = 4
_HEADER = struct.Struct(">I")
_TAG_READY = b"S"
_TAG_RESULT = b"R"
_TAG_META = b"M"
_TAG_END = b"E"
# Client <-> fork server messages are binary frames, so that the server (whose every touched page costs a
# copy-on-write fault after each fork) never builds or parses JSON: the payload travels as bytes to the child.
_REQ_RUN = 0
_REQ_PRELOAD = 1
_REQUEST = struct.Struct(">BdII")  # kind, timeout s, memory MB (0: default), length of the entry name
_RESPONSE = struct.Struct(
    ">cBidII"
)  # b"R", killed_for, exit status, child CPU s, output tail length, result length
_KILLED_FOR = ("", "timeout", "output_limit", "result_limit")
# Built once: every object a child builds is a page it may have to copy.
_READY_FRAME = _TAG_READY + _HEADER.pack(0)
_NO_IMPORTS = b'{"imported":[]}'
_NO_IMPORTS_END = _TAG_META + _HEADER.pack(len(_NO_IMPORTS)) + _NO_IMPORTS + _TAG_END + _HEADER.pack(0)


# ------------------------------------------------------------------------------------------------ JSON, lean


def _unserializable(value: Any) -> Any:
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def json_encoder(
    default: Callable[[Any], Any] = _unserializable, allow_nan: bool = False
) -> Callable[..., Any]:
    """``json.dumps(value, separators=(",", ":"), allow_nan=allow_nan, check_circular=False, default=default)``
    as ``"".join(encoder(value, 0))``: the C encoder that json uses, built without importing json (which brings
    ``re``: ~0.6 MB more to copy at every fork). Without the circular check, a value that contains itself ends in
    RecursionError rather than ValueError; what children send is built by ``to_wire``, a tree."""
    return _json.make_encoder(
        None, default, _json.encode_basestring_ascii, None, ":", ",", False, False, allow_nan
    )


class _ScanContext:
    """The settings the C scanner reads from a ``json.JSONDecoder``: its defaults."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = {"-Infinity": float("-inf"), "Infinity": float("inf"), "NaN": float("nan")}.__getitem__


def json_scanner() -> Callable[[str, int], tuple[Any, int]]:
    """``scan(text, index) -> (value, end)``: json's C scanner, as ``json.loads`` uses it, without json."""
    return _json.make_scanner(_ScanContext())


def _write_json_frame(fd: int, obj: Any) -> None:
    _write_parts(fd, ["".join(json_encoder(repr, allow_nan=True)(obj, 0)).encode()])


# ----------------------------------------------------------------------------------------------- framing helpers


def _write_parts(fd: int, parts: list[bytes]) -> None:
    """One frame made of ``parts``, in one system call when the pipe has room for it (the common case)."""
    size = 0
    for part in parts:
        size += len(part)
    header = _HEADER.pack(size)
    written = os.writev(fd, [header, *parts])
    if written < len(header) + size:
        _write_all(fd, (header + b"".join(parts))[written:])


def _read_request(fd: int, limit: int = 256 << 20) -> bytes | None:
    """The next frame's bytes from a blocking ``fd``, read with as few calls as it takes; None at end of stream."""
    header = _read_exactly(fd, _HEADER.size)
    if not header:
        return None
    (size,) = _HEADER.unpack(header)
    if size > limit:
        raise ValueError(f"frame of {size} bytes is over the {limit}-byte limit")
    return _read_exactly(fd, size) if size else b""


def _read_exactly(fd: int, size: int) -> bytes:
    """``size`` bytes from a blocking ``fd``; b"" at end of stream before the first byte, EOFError after it."""
    data = os.read(fd, size)
    if len(data) == size or not data:
        return data
    parts = [data]
    got = len(data)
    while got < size:
        chunk = os.read(fd, size - got)
        if not chunk:
            raise EOFError("stream ended inside a frame")
        parts.append(chunk)
        got += len(chunk)
    return b"".join(parts)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


# ------------------------------------------------------------------------------------------- process isolation


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def isolate_network() -> tuple[bool, str]:
    """Move this process into a new, empty network namespace (Python 3.11 has no os.unshare: libc via ctypes)."""
    libc = _libc()
    if libc.unshare(_CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        return False, f"unshare(CLONE_NEWNET) failed: {os.strerror(err)}"
    return True, "new network namespace (loopback only, down)"


def _set_parent_death_signal(expected_parent: int | None) -> None:
    libc = _libc()
    libc.prctl(_PR_SET_PDEATHSIG, ctypes.c_ulong(signal.SIGKILL), 0, 0, 0)
    if expected_parent is not None and os.getppid() != expected_parent:
        os._exit(0)


def project_root() -> str:
    """The directory that holds the ``curation`` package (put on PYTHONPATH of spawned processes)."""
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _is_traversable_by_others(path: str) -> bool:
    try:
        return bool(os.stat(path).st_mode & 0o001)
    except OSError:
        return False


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None) -> None:
    libc = _libc()
    enc = lambda s: None if s is None else s.encode()  # noqa: E731
    if libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount {target}: {os.strerror(err)}")


# The children's working directory when the checkout lives in /tmp and /tmp cannot simply be covered empty.
_EMPTY_WORKDIR = "vqft-sandbox-cwd"


def _keep_only(directory: str, entries: set[str], empty_dirs: tuple[str, ...] = ()) -> None:
    """Cover ``directory`` with an empty read-only tmpfs and bind back only ``entries`` (names in it);
    ``empty_dirs`` are created empty in the cover."""
    handles = {name: os.open(os.path.join(directory, name), _O_PATH) for name in entries}
    _mount("tmpfs", directory, "tmpfs", _MS_NOSUID | _MS_NODEV, "mode=755,size=64k")
    for name in empty_dirs:
        os.mkdir(os.path.join(directory, name), 0o555)
    for name, fd in handles.items():
        target = os.path.join(directory, name)
        if os.path.isdir(f"/proc/self/fd/{fd}"):
            os.mkdir(target, 0o755)
        else:
            os.close(os.open(target, os.O_CREAT | os.O_WRONLY, 0o644))
        _mount(f"/proc/self/fd/{fd}", target, None, _MS_BIND | _MS_REC, None)
        os.close(fd)
    _mount(None, directory, None, _MS_REMOUNT | _MS_RDONLY | _MS_NOSUID | _MS_NODEV, None)


def _entries_below(directory: str, paths: list[str]) -> set[str]:
    prefix = directory.rstrip("/") + "/"
    return {p[len(prefix) :].split("/")[0] for p in paths if p.startswith(prefix)}


def _private_mounts(read_roots: list[str], hide: list[str]) -> tuple[bool, str]:
    """New mount namespace: make ``read_roots`` reachable for the sandbox uid, show nothing else of the
    directories in ``hide``, and cover world-writable directories with empty read-only mounts."""
    libc = _libc()
    if libc.unshare(_CLONE_NEWNS) != 0:
        return False, f"unshare(CLONE_NEWNS) failed: {os.strerror(ctypes.get_errno())}"
    try:
        _mount("none", "/", None, _MS_REC | _MS_PRIVATE, None)
        # The project directory may hold datasets with answers: children see only the parts they import from.
        hidden = []
        for directory in hide:
            if directory != "/" and os.path.isdir(directory):
                _keep_only(directory, _entries_below(directory, read_roots))
                hidden.append(directory)
        # A Python installed under a 0700 home (pyenv in /root) is unreadable once we drop root: the same trick
        # on the closed ancestor makes the installation reachable and everything else in that home disappear.
        for _ in range(8):
            blocked: dict[str, set[str]] = {}
            for root in read_roots:
                parts = root.strip("/").split("/")
                for depth in range(1, len(parts)):
                    ancestor = "/" + "/".join(parts[:depth])
                    if not _is_traversable_by_others(ancestor):
                        blocked.setdefault(ancestor, set()).add(parts[depth])
                        break
            if not blocked:
                break
            for ancestor, entries in blocked.items():
                _keep_only(ancestor, entries)
                hidden.append(ancestor)
        covered = []
        for path in ("/tmp", "/var/tmp", "/dev/shm", "/run/lock", "/var/lock"):
            if os.path.isdir(path) and not os.path.islink(path) and os.stat(path).st_mode & 0o002:
                keep = _entries_below(path, read_roots)
                if keep:
                    # The checkout itself lives here (a CI clone in /tmp): keep its path, hide everything else.
                    _keep_only(path, keep, empty_dirs=(_EMPTY_WORKDIR,) if path == "/tmp" else ())
                else:
                    flags = _MS_RDONLY | _MS_NOSUID | _MS_NODEV | _MS_NOEXEC
                    _mount("tmpfs", path, "tmpfs", flags, "mode=555,size=4k")
                covered.append(path)
    except OSError as exc:
        return False, str(exc)
    return True, f"private mount namespace; only the Python parts of {hidden}; empty read-only {covered}"


def _read_roots() -> list[str]:
    """Directories sandboxed code may read: the Python installation, site-packages, this package."""
    import curation

    roots = {os.path.dirname(os.__file__)}  # the stdlib (sysconfig would cost the server more imports)
    for path in sys.path:
        if path and os.path.isdir(path) and ("site-packages" in path or "lib-dynload" in path):
            roots.add(path)
    roots.update(curation.__path__)
    resolved = set()
    for path in roots:
        resolved.add(os.path.abspath(path))
        resolved.add(os.path.realpath(path))
    return sorted(resolved)


# --------------------------------------------------------------------------------------------- the child side


def _make_guard(
    viol_fd: int, read_prefixes: tuple[str, ...], read_files: frozenset[str]
) -> Callable[[str, tuple], None]:
    """The audit hook. Everything it uses is bound here: model code can rebind builtins and module attributes,
    but not these closure cells. The server builds it once (building it in every child cost ~50 copy-on-write
    faults) and never installs it; each child installs it and drops its only reference before any model code
    runs, so model code can neither reach nor call it, let alone rewrite its cells."""
    _write = os.write
    _exit = os._exit
    _getcwd = os.getcwd
    _type = type
    _str = str
    _bytes = bytes
    _int = int
    _len = len
    _base_exception = BaseException
    _forbidden = FORBIDDEN_EVENTS
    _prefixes = FORBIDDEN_EVENT_PREFIXES
    _reimports = FORBIDDEN_REIMPORTS
    _write_flags = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC
    _exit_code = FORBIDDEN_EXIT

    def violate(what: str) -> None:
        try:
            _write(viol_fd, what.encode("utf-8", "replace")[:500] + b"\n")
        finally:
            _exit(_exit_code)

    def normalize(path: str) -> str:
        if not path.startswith("/"):
            path = _getcwd() + "/" + path
        parts: list[str] = []
        for part in path.split("/"):
            if part == "" or part == ".":
                continue
            if part == "..":
                if parts:
                    parts.pop()
                continue
            parts.append(part)
        return "/" + "/".join(parts)

    def hook(event: str, args: tuple) -> None:
        try:
            if event in _forbidden or event.startswith(_prefixes):
                violate(event)
            elif event == "open":
                path = args[0] if _len(args) > 0 else None
                mode = args[1] if _len(args) > 1 else None
                flags = args[2] if _len(args) > 2 else 0
                if (_type(flags) is _int and flags & _write_flags) or (
                    _type(mode) is _str and ("w" in mode or "a" in mode or "x" in mode or "+" in mode)
                ):
                    violate("open for writing: " + (path if _type(path) is _str else "<fd or bytes path>"))
                if _type(path) is _int:
                    return
                if _type(path) is _bytes:
                    path = path.decode("utf-8", "surrogateescape")
                if _type(path) is not _str:
                    violate("open of a path that is not a string")
                full = normalize(path)
                if full in read_files or full.startswith(read_prefixes):
                    return
                violate("read outside the Python installation: " + path[:200])
            elif event == "import":
                if _len(args) > 0 and _type(args[0]) is _str and args[0] in _reimports:
                    violate("re-import of " + args[0])
        except _base_exception:
            violate("audit check failed on " + (event if _type(event) is _str else "?"))
        return None

    return hook


def _stub_forbidden_functions() -> None:
    """Signals, threads and ``_posixsubprocess`` have no audit event in 3.11: replace them with reporting stubs.

    Installed once in the fork server, which never uses them, so children inherit the stubs for free; a stub
    reports on fd 4, which is the violation pipe in every child. Threads are forbidden so that grading does not
    depend on whether RLIMIT_NPROC applies (it does not to root, when privileges cannot be dropped)."""
    _write = os.write
    _exit = os._exit
    _exit_code = FORBIDDEN_EXIT
    _viol_fd = _CHILD_VIOLATION_FD

    def make(name: str) -> Callable[..., None]:
        def forbidden(*args: Any, **kwargs: Any) -> None:
            try:
                _write(_viol_fd, f"{name}\n".encode())
            finally:
                _exit(_exit_code)

        return forbidden

    import _posixsubprocess
    import _signal

    for module in (signal, _signal):
        for name in _SIGNAL_FUNCTIONS:
            if hasattr(module, name):
                setattr(module, name, make(f"signal.{name}"))
    _posixsubprocess.fork_exec = make("_posixsubprocess.fork_exec")
    _thread.start_new_thread = make("thread start")
    _thread.start_new = make("thread start")


def _child_main(
    entry: Callable[[dict, Callable[[Any], None]], None],
    payload: memoryview | bytes,
    cpu_s: int,
    address_space: int,
    config: dict,
    fds: tuple[int, int, int, int],
) -> None:
    """Runs in the forked child: lock down, run ``entry(payload, emit)``, report, ``_exit``. Never returns.

    Every write to an inherited object costs a copy-on-write page fault (3-4 us each on a VM), so this does as
    little as it can: the environment is already clean and the working directory already the empty read-only one
    in the server, signal stubs are already installed there, ``config`` is built once per server, and the payload
    arrives as JSON bytes that only this child decodes."""
    try:
        devnull, out_w, res_w, viol_w = fds
        os.setsid()
        # The server keeps fds 0-4 occupied, so every fd here is >= 5 and no dup2 clobbers another.
        os.dup2(devnull, 0)
        os.dup2(out_w, 1)
        os.dup2(out_w, 2)
        os.dup2(res_w, _CHILD_RESULT_FD)
        os.dup2(viol_w, _CHILD_VIOLATION_FD)
        os.closerange(5, config["max_fd"])
        res_fd = _CHILD_RESULT_FD
        encode = config["encode"]
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + 1))
        resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))
        resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_NPROC, (1, 1))
        resource.setrlimit(resource.RLIMIT_NOFILE, (CHILD_NOFILE, CHILD_NOFILE))
        resource.setrlimit(resource.RLIMIT_MEMLOCK, (0, 0))
        resource.setrlimit(resource.RLIMIT_MSGQUEUE, (0, 0))
        if config["drop_privileges"]:
            uid = config["uid"]
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
        if config["parent_death_signal"]:
            # Only without a PID namespace (whose init, the server, takes every child with it when it dies).
            # Set after the uid change, which clears it; the check catches a server that died in between.
            config["prctl"](_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
            if os.getppid() != config["server_pid"]:
                os._exit(SETUP_FAILED_EXIT)
        # (no_new_privs is inherited from the server.) The hook was built in the server; this copy of the config
        # is this child's own, so after the pop nothing that model code can reach refers to the hook.
        sys.addaudithook(config.pop("guard"))
        modules_before = len(sys.modules)
        _write_all(res_fd, _READY_FRAME)
        # One call into the C scanner rather than json.loads, whose Python layers touch more shared pages.
        text = str(payload, "utf-8")
        del payload
        arguments, end = config.pop("scan")(text, 0)
        if text[end:].strip():
            raise ValueError("trailing data after the payload")
        del text
    except BaseException:
        os._exit(SETUP_FAILED_EXIT)

    def emit(value: Any) -> None:
        data = "".join(encode(value, 0)).encode()
        _write_all(res_fd, _TAG_RESULT + _HEADER.pack(len(data)) + data)

    try:
        entry(arguments, emit)
        if len(sys.modules) == modules_before:
            _write_all(res_fd, _NO_IMPORTS_END)
        else:
            # Dicts keep insertion order: the newest keys are the modules this check imported.
            new = itertools.islice(reversed(sys.modules), max(0, len(sys.modules) - modules_before))
            imported = sorted({_preload_name(m) for m in new} & ADAPTIVE_PRELOADABLE)
            meta = "".join(encode({"imported": imported}, 0)).encode()
            _write_all(res_fd, _TAG_META + _HEADER.pack(len(meta)) + meta + _TAG_END + _HEADER.pack(0))
        if config["flush_at_exit"]:
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            except BaseException:
                pass
        os._exit(0)
    except BaseException:
        os._exit(SETUP_FAILED_EXIT + 1)


def _streams_unbuffered() -> bool:
    """Do ``print`` and ``sys.stderr.write`` reach the fd at once (a server started with ``-u``)? Then a child
    exits without flushing them: the flush touched ~16 pages it shares with the server, ~50 us a check."""
    for stream in (sys.stdout, sys.stderr):
        if (
            not getattr(stream, "write_through", False)
            or type(getattr(stream, "buffer", None)) is not io.FileIO
        ):
            return False
    return True


def _preload_name(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "scipy" else parts[0]


# ----------------------------------------------------------------------------------------- the fork server side


class _ForkServer:
    """State of the fork server process: what every child inherits, plus the supervision loop."""

    def __init__(
        self,
        parent_pid: int | None,
        uid_seed: int,
        pid_namespace: tuple[bool, str],
        lean: bool = False,
        result_limit: int = RESULT_LIMIT_BYTES,
    ):
        self.pid = os.getpid()
        self.lean = lean
        self.parent_pid = parent_pid
        self.uid_seed = uid_seed
        self.pid_namespace = pid_namespace
        self.libc = _libc()
        self.prctl = self.libc.prctl
        self.prctl.argtypes = [ctypes.c_int] + [ctypes.c_ulong] * 4
        self.prctl.restype = ctypes.c_int
        self.devnull = os.open(os.devnull, os.O_RDONLY)
        # Children rely on every pipe end being >= 5 (see _child_main): keep 0-4 occupied.
        for fd in range(5):
            try:
                os.fstat(fd)
            except OSError:
                os.dup2(self.devnull, fd, inheritable=False)
        if self.devnull < 5:
            self.devnull = fcntl.fcntl(self.devnull, fcntl.F_DUPFD_CLOEXEC, 5)
        self.entries: dict[bytes, Callable] = {}
        self.poller = select.poll()  # reused: the child's pidfd (and small pipes) are registered per check
        self.protections: dict[str, Any] = {}
        self.max_fd = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        if self.max_fd == resource.RLIM_INFINITY or self.max_fd > 1 << 20:
            self.max_fd = 1 << 20
        self.memory_mb = int(os.environ.get("VQFT_SANDBOX_MEMORY_MB", DEFAULT_MEMORY_MB))
        self.result_limit = result_limit
        self.own_workdir = False

    def setup(self) -> None:
        missing: dict[str, str] = {}
        notes: dict[str, str] = {}
        # Behave like a machine without root or namespaces, to test the fallbacks (never a production setting).
        degraded = os.environ.get("VQFT_SANDBOX_DEGRADED") == "1"
        privileged = os.geteuid() == 0 and not degraded
        if degraded:
            ok, detail = False, "disabled by VQFT_SANDBOX_DEGRADED"
        else:
            ok, detail = isolate_network()
        self.protections["network_namespace"] = ok
        notes["network_namespace"] = detail
        if not ok:
            missing["network_namespace"] = detail + "; sockets are still blocked by the audit hook"
        ok, detail = self.pid_namespace
        self.protections["pid_namespace"] = ok
        notes["pid_namespace"] = detail
        if not ok:
            missing["pid_namespace"] = detail + "; each child sets a parent-death signal instead"
        roots = _read_roots()
        self.read_files = frozenset(
            {"/dev/null", "/dev/urandom", "/dev/random", "/etc/localtime"}
            | {os.path.abspath(p) for p in sys.path if p and not os.path.isdir(p)}
        )
        self.workdir = ""
        if privileged:
            ok, detail = _private_mounts(roots, hide=[project_root()])
        else:
            ok, detail = False, "not root: no mount namespace"
        self.protections["mount_namespace"] = ok
        notes["mount_namespace"] = detail
        if ok and os.path.isdir(f"/tmp/{_EMPTY_WORKDIR}"):
            self.workdir = f"/tmp/{_EMPTY_WORKDIR}"
        elif ok and os.path.isdir("/tmp") and os.access("/tmp", os.X_OK):
            self.workdir = "/tmp"
        else:
            missing["mount_namespace"] = detail
        if not self.workdir:
            import tempfile

            self.workdir = tempfile.mkdtemp(prefix="vqft-sandbox-")
            os.chmod(self.workdir, 0o555)
            self.own_workdir = True
        # The empty read-only working directory is readable too: the compiler opens "<answer>" there to quote
        # the line of a SyntaxError, and there is nothing in it to read.
        self.read_prefixes = tuple(r.rstrip("/") + "/" for r in [*roots, self.workdir])
        # The seed is the server's pid as its parent sees it (inside its own PID namespace the server is pid 1).
        self.uid = SANDBOX_UID_BASE + self.uid_seed
        self.drop_privileges = False
        if privileged:
            ok, detail = self._probe_privilege_drop()
            self.drop_privileges = ok
            if not ok:
                missing["privilege_drop"] = (
                    detail + "; children run as root (audit hook and rlimits still apply)"
                )
        else:
            missing["privilege_drop"] = f"not root: children keep uid {os.getuid()}"
        self.protections["privilege_drop"] = self.drop_privileges
        self.protections["sandbox_uid"] = self.uid if self.drop_privileges else os.getuid()
        # Inherited by every child: no execve can gain privileges (setuid binaries) even past the audit hook.
        self.protections["no_new_privs"] = self.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0
        try:
            os.close(os.pidfd_open(self.pid))
            self.protections["pidfd"] = True
        except (AttributeError, OSError):
            self.protections["pidfd"] = False
        self.protections["audit_hook"] = True
        self.protections["rlimits"] = True
        self.protections["missing"] = missing
        self.protections["notes"] = notes
        for name, why in missing.items():
            _warn(f"sandbox protection missing: {name} ({why})")
        preload = [m for m in BASE_PRELOAD if not (self.lean and m in NUMERIC_STACK)]
        preload += [m for m in os.environ.get("VQFT_SANDBOX_PRELOAD", "").split(",") if m.strip()]
        for module in preload:
            self._import(module.strip())
            # Run the module's hot paths once here so children do not each specialize the same bytecode
            # (a write to shared code objects, i.e. more copy-on-write faults per child).
            warm_up = getattr(sys.modules.get(module.strip()), "warm_up", None)
            if callable(warm_up):
                try:
                    warm_up()
                except Exception as exc:
                    _warn(f"warm-up of {module} failed: {exc}")
        _stub_forbidden_functions()
        # Built once: a per-check dict would be one more set of objects to allocate in the server and to fault
        # in the child. Nothing in it is secret (model code can walk up to the server's frames).
        self.child_config = {
            "max_fd": self.max_fd,
            "prctl": self.prctl,
            "parent_death_signal": not self.protections["pid_namespace"],
            "drop_privileges": self.drop_privileges,
            "uid": self.uid,
            "server_pid": self.pid,
            "guard": _make_guard(_CHILD_VIOLATION_FD, self.read_prefixes, self.read_files),
            "scan": json_scanner(),
            "encode": json_encoder(),
            "flush_at_exit": not _streams_unbuffered(),
        }
        self._freeze()

    def _probe_privilege_drop(self) -> tuple[bool, str]:
        """Fork a child that drops to the sandbox uid and reads the stdlib and numpy: can children work so?"""
        import importlib.util

        numpy = importlib.util.find_spec("numpy")  # found, not imported: a lean server must stay without it
        probe_files = [os.__file__] + ([numpy.origin] if numpy is not None and numpy.origin else [])
        pid = os.fork()
        if pid == 0:
            try:
                os.setgroups([])
                os.setresgid(self.uid, self.uid, self.uid)
                os.setresuid(self.uid, self.uid, self.uid)
            except OSError:
                os._exit(1)
            try:
                for path in probe_files:
                    with open(path, "rb") as f:
                        f.read(1)
            except OSError:
                os._exit(2)
            os._exit(0)
        _, status = os.waitpid(pid, 0)
        code = os.waitstatus_to_exitcode(status)
        if code == 0:
            return True, "ok"
        if code == 1:
            return False, "setuid to an unprivileged uid was refused"
        return False, "the Python installation is not readable by an unprivileged uid"

    def _import(self, module: str) -> None:
        try:
            importlib.import_module(module)
        except Exception as exc:  # a missing optional package must not stop the server
            _warn(f"sandbox preload of {module} failed: {exc}")

    def _freeze(self) -> None:
        gc.collect()
        gc.freeze()
        # Hand the heap's free pages back: what importing and warming up freed (a module compiled from source,
        # where no bytecode cache can be written, leaves megabytes) would otherwise be copied at every fork and
        # torn down at every exit (~40 us per MB here). glibc only; elsewhere the pages stay.
        trim = getattr(self.libc, "malloc_trim", None)
        if trim is not None:
            trim(0)
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[0])
        self.base_size = pages * os.sysconf("SC_PAGE_SIZE")

    def _entry(self, name: bytes) -> Callable:
        if name not in self.entries:
            module, _, attr = name.decode().partition(":")
            self.entries[name] = getattr(importlib.import_module(module), attr)
        return self.entries[name]

    def run(self, timeout: float, memory_mb: int, entry_name: bytes, payload: Any) -> list[bytes]:
        """Fork one child for a request and supervise it to the end; returns the binary response, in parts.

        Lean on purpose: after each fork every page this process writes costs it a page fault, so the
        classification of the outcome (and all JSON) is left to the client, and the common case (a child that
        exits within DRAIN_PERIOD_S, having written less than its pipes hold) makes few calls and few objects."""
        entry = self.entries.get(entry_name)
        if entry is None:
            entry = self._entry(entry_name)
        cpu_s = int(timeout) + 2
        address_space = self.base_size + (memory_mb or self.memory_mb) * (1 << 20)
        out_r, out_w = os.pipe2(os.O_CLOEXEC)
        res_r, res_w = os.pipe2(os.O_CLOEXEC)
        viol_r, viol_w = os.pipe2(os.O_CLOEXEC)
        capacity = _enlarge_pipes((out_w, res_w))
        deadline = time.monotonic() + timeout
        pid = os.fork()
        if pid == 0:
            _child_main(
                entry, payload, cpu_s, address_space, self.child_config, (self.devnull, out_w, res_w, viol_w)
            )
            os._exit(SETUP_FAILED_EXIT)  # not reached
        os.close(out_w)
        os.close(res_w)
        os.close(viol_w)
        try:
            return self._supervise(pid, deadline, (out_r, res_r, viol_r), capacity)
        finally:
            os.close(out_r)
            os.close(res_r)
            os.close(viol_r)

    def _supervise(
        self, pid: int, deadline: float, pipes: tuple[int, int, int], capacity: int
    ) -> list[bytes]:
        """Wait for the child to exit (killing it at the deadline or past a limit), always reap it, and return
        the response: header, output tail, results, violations."""
        killed_for = 0
        pidfd = -1
        try:
            got = _ChildOutput(pipes, self.result_limit)
            try:
                pidfd = os.pidfd_open(pid)
            except (AttributeError, OSError):
                pass
            if pidfd >= 0:
                killed_for = self._wait_for_exit(pidfd, deadline, got, capacity)
            else:
                killed_for = _poll_until_exit(pid, deadline, got)
        finally:
            if pidfd >= 0:
                os.close(pidfd)
            _kill_group(pid)
            _, status, usage = os.wait4(pid, 0)
        result = b"".join(got.results)
        violations = b"".join(got.violations)
        header = _RESPONSE.pack(
            b"R",
            killed_for,
            os.waitstatus_to_exitcode(status),
            usage.ru_utime + usage.ru_stime,
            len(got.tail),
            len(result),
        )
        return [header, got.tail, result, violations]

    def _wait_for_exit(self, pidfd: int, deadline: float, got: _ChildOutput, capacity: int) -> int:
        """Sleep on the child's pidfd and read its pipes when it has exited.

        Waking on every frame the child writes cost a context switch and a turn of this loop each (five or
        more per check); the pipes hold what a check normally writes, so they are read at exit, and every
        DRAIN_PERIOD_S while the child runs (every millisecond while it fills them faster), which is also when
        the output and result limits are enforced. Pipes that could not be enlarged are watched as well."""
        poller = self.poller
        poller.register(pidfd, select.POLLIN)
        watched = list(got.fds) if capacity < PIPE_CAPACITY // 4 else []
        for fd in watched:
            poller.register(fd, select.POLLIN)
        try:
            period = DRAIN_PERIOD_S
            while True:
                now = time.monotonic()
                if now >= deadline:
                    return 1
                events = poller.poll(math.ceil((min(deadline, now + period) - now) * 1000))
                exited = False
                for fd, _ in events:
                    if fd == pidfd:
                        exited = True
                if exited:
                    break
                killed_for, most = got.drain()
                if killed_for:
                    return killed_for
                for fd in watched[:]:
                    if fd not in got.open:  # at EOF: poll would report it forever
                        poller.unregister(fd)
                        watched.remove(fd)
                period = 0.001 if most >= capacity // 2 else min(DRAIN_PERIOD_S, period * 2)
        finally:
            poller.unregister(pidfd)
            for fd in watched:
                poller.unregister(fd)
        return got.drain_after_exit()

    def preload(self, module: str) -> None:
        """Import into the server what children keep importing themselves (a few uses: cheaper to fork it).

        The client asks; only modules on the fixed list are imported, so a hostile child that fakes its import
        report can at most make later forks a little slower."""
        if module in ADAPTIVE_PRELOADABLE and module not in sys.modules:
            self._import(module)
            self._freeze()


class _ChildOutput:
    """What the server has read from one child's pipes (output, results, violations), and the limits that
    reading enforces. Only the tail of the output is kept; violations are capped at 64 KiB."""

    __slots__ = (
        "fds",
        "open",
        "tail",
        "output_total",
        "results",
        "result_size",
        "violations",
        "violation_size",
        "result_limit",
    )

    def __init__(self, fds: tuple[int, int, int], result_limit: int):
        # The read ends only (a pipe's two ends are separate open files): the child's writes stay blocking.
        for fd in fds:
            fcntl.fcntl(fd, fcntl.F_SETFL, os.O_NONBLOCK)
        self.fds = fds
        self.open = list(fds)
        self.tail = b""
        self.output_total = 0
        self.results: list[bytes] = []
        self.result_size = 0
        self.violations: list[bytes] = []
        self.violation_size = 0
        self.result_limit = result_limit

    def take(self, fd: int, chunk: bytes) -> int:
        """Account one chunk read from ``fd``; returns the kill reason it causes (0: none)."""
        if fd == self.fds[0]:
            self.output_total += len(chunk)
            self.tail = (self.tail + chunk)[-2000:]
            return 2 if self.output_total > OUTPUT_LIMIT_BYTES else 0
        if fd == self.fds[1]:
            self.results.append(chunk)
            self.result_size += len(chunk)
            return 3 if self.result_size > self.result_limit else 0
        if self.violation_size < 1 << 16:
            self.violations.append(chunk)
            self.violation_size += len(chunk)
        return 0

    def read(self, fd: int) -> bytes | None:
        """One read of up to PIPE_CAPACITY from a non-blocking pipe: the bytes, b"" at EOF (``fd`` then leaves
        ``open``), None if it has nothing now."""
        try:
            chunk = os.read(fd, PIPE_CAPACITY)
        except BlockingIOError:
            return None
        except OSError:
            chunk = b""
        if not chunk:
            self.open.remove(fd)
        return chunk

    def drain(self) -> tuple[int, int]:
        """One read from each open pipe, which takes all a full pipe holds; every pipe is read even after one
        of them broke a limit, so that what the child sent before is kept. Returns (kill reason, the most bytes
        one read got). One read each keeps this bounded however fast a child on another core writes."""
        killed_for = 0
        most = 0
        for fd in self.open[:]:
            chunk = self.read(fd)
            if chunk:
                if len(chunk) > most:
                    most = len(chunk)
                killed_for = self.take(fd, chunk) or killed_for
        return killed_for, most

    def drain_after_exit(self) -> int:
        """The child is gone: its pipes hold all it wrote (each at most their capacity), then EOF. A few rounds
        read that; a pipe still open after them is held by something else, read for up to a second more."""
        for _ in range(4):
            killed_for, most = self.drain()
            if killed_for or not self.open or not most:
                break
        if killed_for or not self.open:
            return killed_for
        return self.read_until(time.monotonic() + 1.0)

    def read_until(self, until: float) -> int:
        poller = select.poll()
        for fd in self.open:
            poller.register(fd, select.POLLIN)
        while self.open:
            now = time.monotonic()
            if now >= until:
                return 0
            killed_for = self.read_ready(poller, max(1, math.ceil((until - now) * 1000)))
            if killed_for:
                return killed_for
        return 0

    def read_ready(self, poller: Any, wait_ms: int) -> int:
        """Poll up to ``wait_ms`` and read each pipe that has data (one that reports EOF leaves ``open``);
        returns the kill reason a chunk caused (0: none)."""
        for fd, _ in poller.poll(wait_ms):
            chunk = self.read(fd)
            if chunk == b"":
                poller.unregister(fd)
            if not chunk:
                continue
            killed_for = self.take(fd, chunk)
            if killed_for:
                return killed_for
        return 0


def _enlarge_pipes(fds: tuple[int, ...]) -> int:
    """Ask for PIPE_CAPACITY on each pipe; returns the smallest capacity they have."""
    capacity = PIPE_CAPACITY
    for fd in fds:
        try:
            capacity = min(capacity, fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_CAPACITY))
        except OSError:
            # Over the per-user pipe-buffer quota (a non-root server with many checks at once), or above
            # /proc/sys/fs/pipe-max-size: this pipe keeps what it has, and the server wakes on its data.
            capacity = min(capacity, fcntl.fcntl(fd, fcntl.F_GETPIPE_SZ))
    return capacity


def _poll_until_exit(pid: int, deadline: float, got: _ChildOutput) -> int:
    """Without pidfds (Linux < 5.3): poll the pipes, and check for the exit every 10 ms."""
    poller = select.poll()
    for fd in got.open:
        poller.register(fd, select.POLLIN)
    exited_at: float | None = None
    while got.open or exited_at is None:
        now = time.monotonic()
        if exited_at is None and now >= deadline:
            return 1
        if exited_at is not None and now >= exited_at + 1.0:
            return 0
        killed_for = got.read_ready(poller, 10)
        if killed_for:
            return killed_for
        if exited_at is None and _exited(pid):
            exited_at = time.monotonic()
    return 0


def _exited(pid: int) -> bool:
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _enter_pid_namespace() -> tuple[bool, str]:
    """Make the rest of the server PID 1 of a new PID namespace; the process that called this only waits.

    Why: when a namespace's init dies the kernel SIGKILLs everything in it, so no child can outlive the server
    and children need no parent-death signal of their own (that prctl, after the uid change that clears it,
    cost every check ~0.1 ms). Also, from inside, no process outside the namespace can even be named by pid, and
    the kernel drops signals that members send to their init unless it handles them: a child that got past the
    audit hook and its uid could still not signal the server, the worker or anything else on the machine.
    unshare(CLONE_NEWPID) moves only the caller's *next* child into the namespace, hence the one fork (before
    numpy is imported, so it is cheap); the outer process waits, mirrors the exit, and dies with the worker."""
    if os.environ.get("VQFT_SANDBOX_DEGRADED") == "1":
        return False, "disabled by VQFT_SANDBOX_DEGRADED"
    libc = _libc()
    if libc.unshare(_CLONE_NEWPID) != 0:
        return False, f"unshare(CLONE_NEWPID) failed: {os.strerror(ctypes.get_errno())}"
    alive_r, alive_w = os.pipe()
    pid = os.fork()
    if pid > 0:
        os.close(alive_r)
        while True:
            try:
                _, status = os.waitpid(pid, 0)
                break
            except InterruptedError:
                continue
        code = os.waitstatus_to_exitcode(status)
        os._exit(code if code >= 0 else 128 - code)
    os.close(alive_w)
    # The outer process has no pid in here, so "did it die before the prctl" is read off the pipe: EOF if so.
    _set_parent_death_signal(None)
    if select.select([alive_r], [], [], 0)[0]:
        os._exit(0)
    os.close(alive_r)
    return True, "server is init of its own PID namespace"


def _add_site_builtins() -> None:
    """``exit`` and ``quit``, which ``site`` defines and this server, started with -S, would otherwise lack: model
    code that calls them must end as it would under a normal interpreter (SystemExit), not with a NameError."""
    import _sitebuiltins
    import builtins

    builtins.exit = _sitebuiltins.Quitter("exit", "Ctrl-D (i.e. EOF)")
    builtins.quit = _sitebuiltins.Quitter("quit", "Ctrl-D (i.e. EOF)")


def serve(parent_pid: int | None = None) -> None:
    """Fork server main loop: requests and responses are binary frames on the original stdin/stdout."""
    if parent_pid is not None:
        _set_parent_death_signal(parent_pid)
    # Read before the environment is scrubbed below.
    lean = os.environ.get("VQFT_SANDBOX_LEAN") == "1"
    result_limit = min(
        int(os.environ.get("VQFT_SANDBOX_RESULT_LIMIT", RESULT_LIMIT_BYTES)), RESULT_LIMIT_BYTES
    )
    uid_seed = os.getpid()
    pid_namespace = _enter_pid_namespace()
    # Keep the protocol off fds 0/1 so a stray print cannot corrupt it.
    ipc_in = os.dup(0)
    ipc_out = os.dup(1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(2, 1)
    os.close(devnull)
    for name in list(os.environ):
        if name not in SAFE_ENV and name not in PASS_THROUGH_ENV and name != "PYTHONPATH":
            del os.environ[name]
    if sys.path and sys.path[0] in ("", os.getcwd()):
        del sys.path[0]
    _add_site_builtins()
    server = _ForkServer(parent_pid, uid_seed, pid_namespace, lean=lean, result_limit=result_limit)
    server.setup()
    # Children inherit this working directory: the empty read-only one.
    os.chdir(server.workdir)
    _write_json_frame(ipc_out, {"hello": {"pid": server.pid, "protections": server.protections}})
    while True:
        try:
            request = _read_request(ipc_in)
        except (OSError, ValueError, EOFError):
            break
        if request is None:
            break
        try:
            kind, timeout, memory_mb, entry_size = _REQUEST.unpack_from(request)
            entry = request[_REQUEST.size : _REQUEST.size + entry_size]
            if kind == _REQ_PRELOAD:
                server.preload(entry.decode())
                continue
            # A view, not a copy: only the child decodes the payload.
            response = server.run(
                timeout, memory_mb, entry, memoryview(request)[_REQUEST.size + entry_size :]
            )
        except Exception as exc:  # keep serving: one bad request must not take the server down
            response = [b"U" + f"fork server error: {type(exc).__name__}: {exc}".encode("utf-8", "replace")]
        del request
        try:
            _write_parts(ipc_out, response)
        except OSError:
            break
        del response
    if server.own_workdir:
        try:
            os.rmdir(server.workdir)
        except OSError:
            pass
