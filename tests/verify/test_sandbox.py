"""The sandbox itself: what a child may do, what it may not, and that the fork server survives it."""

from __future__ import annotations

import fcntl
import io
import json
import os
import sys
import time

import pytest

from curation.verify import forkserver, sandbox

ENTRY = "curation.verify.attempt:run_attempt"


def run(source: str, timeout: float = 2.0, cases: int = 1) -> sandbox.SandboxResult:
    """Run ``f()`` from ``source`` in a sandboxed child, once per case."""
    payload = {"source": source, "function_name": "f", "arguments": [], "cases": [{}] * cases}
    return sandbox.run(ENTRY, payload, timeout)


def values(result: sandbox.SandboxResult) -> list:
    return [json.loads(frame).get("value") for frame in result.frames]


def test_protections_explain_every_missing_layer():
    report = sandbox.protections()
    for layer in ("network_namespace", "mount_namespace", "privilege_drop", "no_new_privs", "audit_hook"):
        assert isinstance(report[layer], bool)
    for layer in ("network_namespace", "mount_namespace", "privilege_drop"):
        assert report[layer] or layer in report["missing"]
    assert report["audit_hook"] is True


def test_frames_come_back_in_order():
    result = run("n = 0\ndef f():\n    global n\n    n += 1\n    return n", cases=3)
    assert result.status == "ok"
    assert values(result) == [1, 2, 3]


def test_busy_loop_is_killed_at_the_deadline():
    start = time.monotonic()
    result = run("def f():\n    while True:\n        pass", timeout=1.0)
    assert result.status == "timeout"
    assert time.monotonic() - start < 3.0


def test_sleeping_child_is_killed_at_the_deadline():
    start = time.monotonic()
    result = run("import time\ndef f():\n    time.sleep(60)", timeout=1.0)
    assert result.status == "timeout"
    assert time.monotonic() - start < 3.0


def test_child_that_closes_its_pipes_is_still_timed_out():
    source = "import os, time\ndef f():\n    for fd in range(5):\n        os.close(fd)\n    time.sleep(60)"
    assert run(source, timeout=1.0).status == "timeout"


def test_more_than_one_megabyte_of_output_is_output_limit():
    result = run("def f():\n    print('x' * 2_000_000)\n    return 1")
    assert result.status == "output_limit"


def test_small_output_is_fine():
    result = run("def f():\n    print('hello')\n    return 1")
    assert result.status == "ok"
    assert values(result) == [1]


def test_what_a_child_prints_goes_straight_to_its_pipe():
    # The server runs with -u, so children exit without a flush and still lose nothing they printed.
    source = "import sys\ndef f():\n    print('hello')\n    return [type(sys.stdout.buffer).__name__, sys.stdout.write_through]"
    result = run(source)
    assert result.status == "ok"
    assert values(result) == [["FileIO", True]]
    assert result.output_tail == "hello\n"


def test_streams_are_unbuffered_only_when_both_write_through_to_the_fd(monkeypatch):
    with open(os.devnull, "wb", buffering=0) as raw, open(os.devnull, "w") as buffered:
        direct = io.TextIOWrapper(raw, write_through=True)
        monkeypatch.setattr(sys, "stdout", direct)
        monkeypatch.setattr(sys, "stderr", direct)
        assert forkserver._streams_unbuffered()
        monkeypatch.setattr(sys, "stderr", buffered)  # a BufferedWriter under the text layer: a flush is due
        assert not forkserver._streams_unbuffered()
        monkeypatch.setattr(sys, "stderr", io.TextIOWrapper(raw, write_through=False))
        assert not forkserver._streams_unbuffered()


def test_forbidden_attempt_counts_even_when_caught():
    source = "def f():\n    try:\n        open('x', 'w')\n    except Exception:\n        pass\n    return 1"
    result = run(source)
    assert result.status == "forbidden"
    assert result.violations == ["open for writing: x"]


def test_forged_results_cannot_hide_a_violation():
    source = (
        "import os, json\ndef f():\n"
        "    os.write(3, b'E\\x00\\x00\\x00\\x00')\n"
        "    try:\n        os.fork()\n    except Exception:\n        pass\n    return 1"
    )
    assert run(source).status == "forbidden"


def test_os_exit_is_crashed():
    assert run("import os\ndef f():\n    os._exit(0)").status == "crashed"


def test_segfault_is_crashed_and_server_survives():
    result = run("import faulthandler\ndef f():\n    faulthandler._sigsegv()")
    assert result.status == "crashed"
    assert "SIGSEGV" in result.reason
    assert run("def f():\n    return 7").status == "ok"


def test_starting_a_thread_is_forbidden():
    source = "import threading\ndef f():\n    threading.Thread(target=print).start()\n    return 1"
    result = run(source)
    assert result.status == "forbidden"
    assert result.violations == ["thread start"]


def test_rlimits_forbid_processes_files_and_core_dumps():
    source = (
        "import resource as r\ndef f():\n"
        "    return [r.getrlimit(k) for k in (r.RLIMIT_NPROC, r.RLIMIT_FSIZE, r.RLIMIT_CORE, r.RLIMIT_NOFILE)]"
    )
    assert values(run(source)) == [[[1, 1], [0, 0], [0, 0], [32, 32]]]


def test_memory_is_capped():
    result = run("def f():\n    return len(bytearray(3 * 2**30))")
    assert json.loads(result.frames[0])["error"].startswith("MemoryError")


def test_environment_is_minimal():
    result = run("import os\ndef f():\n    return sorted(os.environ)")
    assert set(values(result)[0]) <= set(sandbox.SAFE_ENV) | set(sandbox.PASS_THROUGH_ENV) | {"PYTHONPATH"}


@pytest.mark.skipif(os.geteuid() != 0, reason="privileges are only dropped when running as root")
def test_child_runs_as_an_unprivileged_user():
    report = sandbox.protections()
    if not report["privilege_drop"]:
        pytest.skip(report["missing"]["privilege_drop"])
    result = run("import os\ndef f():\n    return [os.getuid(), os.getgid(), os.getgroups()]")
    uid = report["sandbox_uid"]
    assert values(result) == [[uid, uid, []]]


def test_project_directory_shows_only_the_package():
    if not sandbox.protections()["mount_namespace"]:
        pytest.skip(sandbox.protections()["missing"]["mount_namespace"])
    listing = values(run(f"import os\ndef f():\n    return os.listdir({sandbox.project_root()!r})"))[0]
    assert "curation" in listing
    assert "tests" not in listing and "pyproject.toml" not in listing


def test_working_directory_is_empty():
    assert values(run("import os\ndef f():\n    return os.listdir('.')")) == [[]]


def test_numpy_scipy_and_sympy_work_under_the_audit_hook():
    source = (
        "import numpy as np, scipy.special, scipy.integrate, sympy, warnings\n"
        "def f():\n"
        "    a = np.linalg.eigvalsh(np.array([[2.0, 1.0], [1.0, 2.0]]))\n"
        "    r = np.random.default_rng(0).normal(size=3)\n"
        "    q = scipy.integrate.quad(lambda t: t * t, 0.0, 1.0)[0]\n"
        "    z = float(scipy.special.zeta(2.0))\n"
        "    x = sympy.Symbol('x')\n"
        "    g = sympy.lambdify(x, sympy.sin(x) ** 2)(0.5)\n"
        "    warnings.warn('noise')\n"
        "    return [list(a), len(r), q, z, g, float(np.fft.fft(np.ones(4))[0].real)]"
    )
    result = run(source, timeout=20.0)
    assert result.status == "ok", result.reason
    got = values(result)[0]
    assert got[0] == pytest.approx([1.0, 3.0])
    assert got[2] == pytest.approx(1 / 3) and got[3] == pytest.approx(1.6449340668482264)


def test_frame_reader_honours_its_deadline():
    read_fd, write_fd = os.pipe()
    try:
        reader = sandbox.FrameReader(read_fd)
        sandbox.write_frame(write_fd, {"a": [1, 2]})
        assert reader.read(time.monotonic() + 1) == {"a": [1, 2]}
        with pytest.raises(TimeoutError):
            reader.read(time.monotonic() + 0.05)
    finally:
        os.close(read_fd)
        os.close(write_fd)


def test_without_namespaces_or_root_the_audit_hook_still_blocks(monkeypatch):
    monkeypatch.setenv("VQFT_SANDBOX_DEGRADED", "1")
    server = sandbox.SandboxServer()
    try:
        report = server.start()
        assert not report["network_namespace"] and not report["privilege_drop"]
        assert set(report["missing"]) >= {"network_namespace", "mount_namespace", "privilege_drop"}
        attempts = {
            "write": "def f():\n    open('/tmp/vqft-degraded-probe', 'w')",
            "fork": "import os\ndef f():\n    os.fork()",
            "socket": "import socket\ndef f():\n    socket.socket()",
            "thread": "import threading\ndef f():\n    threading.Thread(target=print).start()",
            "read": f"def f():\n    open({os.path.join(sandbox.project_root(), 'pyproject.toml')!r}).read()",
        }
        for name, source in attempts.items():
            payload = {"source": source, "function_name": "f", "arguments": [], "cases": [{}]}
            assert server.run(ENTRY, payload, 2.0).status == "forbidden", name
        assert not os.path.exists("/tmp/vqft-degraded-probe")
    finally:
        server.close()


def _descendants(pid: int) -> set[int]:
    found, todo = set(), [pid]
    while todo:
        current = todo.pop()
        try:
            with open(f"/proc/{current}/task/{current}/children") as f:
                kids = [int(k) for k in f.read().split()]
        except OSError:
            kids = []
        found.update(kids)
        todo.extend(kids)
    return found


def test_no_child_outlives_its_fork_server():
    """Whatever the mechanism (PID namespace init, or a parent-death signal per child), killing the server
    must take a running child with it."""
    import threading

    server = sandbox.SandboxServer()
    try:
        server.start()
        outer = server._proc.pid
        before = _descendants(outer)
        payload = {
            "source": "import time\ndef f():\n    time.sleep(60)",
            "function_name": "f",
            "arguments": [],
            "cases": [{}],
        }
        results = []
        thread = threading.Thread(target=lambda: results.append(server.run(ENTRY, payload, 3.0)), daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not (_descendants(outer) - before) and time.monotonic() < deadline:
            time.sleep(0.01)
        children = _descendants(outer) - before
        assert children, "the child never started"
        os.kill(outer, 9)
        deadline = time.monotonic() + 5
        while any(os.path.exists(f"/proc/{pid}") for pid in children) and time.monotonic() < deadline:
            time.sleep(0.02)
        # A zombie waiting for its reaper is dead too; anything else is a survivor.
        survivors = []
        for pid in children:
            try:
                with open(f"/proc/{pid}/stat") as f:
                    if f.read().rsplit(")", 1)[1].split()[0] != "Z":
                        survivors.append(pid)
            except OSError:
                pass
        assert not survivors
        # The client retries once on a fresh server, where the sleeper runs into its 3 s limit.
        thread.join(timeout=20)
        assert results and results[0].status == "timeout"
    finally:
        server.close()


def test_children_run_in_the_servers_pid_namespace():
    report = sandbox.protections()
    if not report["pid_namespace"]:
        pytest.skip(report["missing"]["pid_namespace"])
    # The server is init of the namespace: the child's parent is pid 1, and no pid outside (the worker, the
    # machine's init) can be named from inside, so even a kill past the audit hook would have no target.
    assert values(run("import os\ndef f():\n    return os.getppid()")) == [1]


def test_a_child_cannot_kill_its_server():
    """The audit hook reports the attempt; under it, the kernel refuses too (another uid; and the server is init
    of its PID namespace, which ignores signals from inside). The server processes must all still be there."""
    report = sandbox.protections()
    if not report["privilege_drop"]:
        pytest.skip(report["missing"]["privilege_drop"])
    server = sandbox.SandboxServer()
    try:
        server.start()
        outer = server._proc.pid
        inner = _descendants(outer)
        assert run_on(server, "import os\ndef f():\n    os.kill(os.getppid(), 9)").status == "forbidden"
        assert run_on(server, "def f():\n    return 7").status == "ok"
        assert _descendants(outer) >= inner
    finally:
        server.close()


def run_on(server: sandbox.SandboxServer, source: str) -> sandbox.SandboxResult:
    payload = {"source": source, "function_name": "f", "arguments": [], "cases": [{}]}
    return server.run(ENTRY, payload, 2.0)


def test_lean_server_has_no_numpy_preloaded_and_the_same_protections():
    pair = sandbox.ServerPair()
    try:
        full = pair.full.start()
        lean = pair.lean.start()
        probe = {"source": "import sys\ndef f():\n    return 'numpy' in sys.modules", "function_name": "f",
                 "arguments": [], "cases": [{}]}  # fmt: skip
        assert values(pair.lean.run(ENTRY, probe, 2.0)) == [False]
        assert values(pair.full.run(ENTRY, probe, 2.0)) == [True]
        for layer in (
            "network_namespace",
            "mount_namespace",
            "pid_namespace",
            "privilege_drop",
            "audit_hook",
        ):
            assert lean[layer] == full[layer]
    finally:
        pair.close()


def test_an_exception_between_request_and_response_does_not_leave_the_channel_out_of_step():
    server = sandbox.SandboxServer()
    try:
        server.start()
        payload = {"source": "def f():\n    return 1", "function_name": "f", "arguments": [], "cases": [{}]}
        with pytest.raises(OverflowError):
            server.run(ENTRY, payload, 1e300)
        second = {**payload, "source": "def f():\n    return 2"}
        assert values(server.run(ENTRY, second, 2.0)) == [2]
    finally:
        server.close()


def test_a_server_with_a_lower_result_limit_stops_a_child_that_sends_more():
    server = sandbox.SandboxServer(result_limit=1 << 16)
    try:
        big = {
            "source": "def f():\n    return 'x' * 100_000",
            "function_name": "f",
            "arguments": [],
            "cases": [{}],
        }
        assert server.run(ENTRY, big, 2.0).status == "result_limit"
        small = {**big, "source": "def f():\n    return 'x' * 1000"}
        assert server.run(ENTRY, small, 2.0).status == "ok"
    finally:
        server.close()


def test_a_result_larger_than_the_pipe_comes_back_whole():
    # 3 MB does not fit the 1 MiB result pipe: the child blocks until the server's periodic drain empties it.
    result = run("def f():\n    return 'x' * 3_000_000", timeout=5.0)
    assert result.status == "ok"
    assert values(result) == ["x" * 3_000_000]


def test_frames_written_before_a_timeout_are_kept():
    source = "n = 0\ndef f():\n    global n\n    n += 1\n    while n > 1:\n        pass\n    return n"
    result = run(source, timeout=1.0, cases=2)
    assert result.status == "timeout"
    assert values(result) == [1]


def test_output_trickling_past_the_limit_is_stopped_while_the_child_runs():
    start = time.monotonic()
    source = "import time\ndef f():\n    while True:\n        print('x' * 100_000)\n        time.sleep(0.01)"
    assert run(source, timeout=10.0).status == "output_limit"
    assert time.monotonic() - start < 5.0


def test_results_sent_before_an_output_limit_kill_are_kept():
    source = "n = 0\ndef f():\n    global n\n    n += 1\n    while n > 1:\n        print('x' * 3_000_000)\n    return n"
    result = run(source, cases=2)
    assert result.status == "output_limit"
    assert values(result) == [1]


def test_a_child_flooding_the_violation_pipe_is_still_stopped_at_its_deadline():
    start = time.monotonic()
    source = "import os\ndef f():\n    while True:\n        os.write(4, b'x' * 65536)"
    assert run(source, timeout=1.0).status == "forbidden"
    assert time.monotonic() - start < 3.0


@pytest.mark.parametrize(
    "pidfd", [True, False], ids=["waits on the pidfd", "without pidfds: polls the pipes"]
)
def test_the_server_collects_what_an_exited_child_wrote(monkeypatch, pidfd):
    if not pidfd:
        monkeypatch.setattr(
            forkserver.os, "pidfd_open", lambda pid: (_ for _ in ()).throw(OSError("no pidfd"))
        )
    server = forkserver._ForkServer(None, 0, (False, "test"), lean=True)
    pipes = [os.pipe() for _ in range(3)]
    pid = os.fork()
    if pid == 0:  # a stand-in for a sandboxed child: writes to each pipe, then exits with status 3
        os.write(pipes[0][1], b"printed")
        os.write(pipes[1][1], b"result bytes " * 100_000)
        os.write(pipes[2][1], b"violation\n")
        os._exit(3)
    for _, write_end in pipes:
        os.close(write_end)
    try:
        capacity = fcntl.fcntl(
            pipes[1][0], fcntl.F_GETPIPE_SZ
        )  # a default 64 KiB pipe: watched, not only drained
        parts = server._supervise(pid, time.monotonic() + 10.0, tuple(r for r, _ in pipes), capacity=capacity)
    finally:
        for read_end, _ in pipes:
            os.close(read_end)
    response = b"".join(parts)
    _, killed_for, exit_status, _, tail_size, result_size = forkserver._RESPONSE.unpack_from(response)
    body = response[forkserver._RESPONSE.size :]
    assert (killed_for, exit_status) == (0, 3)
    assert body[:tail_size] == b"printed"
    assert body[tail_size : tail_size + result_size] == b"result bytes " * 100_000
    assert body[tail_size + result_size :] == b"violation\n"


def test_the_server_reads_a_request_that_arrives_in_pieces():
    read_end, write_end = os.pipe()
    body = b"payload " * 10
    pid = os.fork()
    if pid == 0:  # a client writing the frame in three pieces, with pauses
        frame = forkserver._HEADER.pack(len(body)) + body
        for piece in (frame[:2], frame[2:30], frame[30:]):
            os.write(write_end, piece)
            time.sleep(0.05)
        os._exit(0)
    os.close(write_end)
    try:
        assert forkserver._read_request(read_end) == body
        assert forkserver._read_request(read_end) is None  # then the end of the stream
    finally:
        os.waitpid(pid, 0)
        os.close(read_end)


@pytest.mark.parametrize(
    "data, error",
    [(b"\x00\x00\x00\x10short", EOFError), (b"\x00\x00", EOFError), (b"\x7f\xff\xff\xff", ValueError)],
    ids=["ends inside the body", "ends inside the header", "over the size limit"],
)
def test_a_broken_request_stream_is_an_error_not_a_request(data, error):
    read_end, write_end = os.pipe()
    os.write(write_end, data)
    os.close(write_end)
    try:
        with pytest.raises(error):
            forkserver._read_request(read_end)
    finally:
        os.close(read_end)


def test_a_response_larger_than_the_pipe_is_written_whole():
    read_end, write_end = os.pipe()
    parts = [b"h" * 10, b"", b"r" * 300_000, b"v" * 5]
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        forkserver._write_parts(write_end, parts)
        os._exit(0)
    os.close(write_end)
    try:
        assert sandbox.FrameReader(read_end).read_bytes() == b"".join(parts)
    finally:
        os.waitpid(pid, 0)
        os.close(read_end)


def test_a_response_that_one_writev_only_half_sends_is_completed(monkeypatch):
    read_end, write_end = os.pipe()
    real_writev = os.writev
    monkeypatch.setattr(forkserver.os, "writev", lambda fd, buffers: real_writev(fd, [b"".join(buffers)[:7]]))
    try:
        forkserver._write_parts(write_end, [b"header", b"tail", b"result"])
        assert sandbox.FrameReader(read_end).read_bytes() == b"headertailresult"
    finally:
        os.close(read_end)
        os.close(write_end)


def test_a_fork_server_finds_packages_where_site_put_them_but_not_a_scripts_directory(monkeypatch, tmp_path):
    script_dir, site_dir, pth_dir = (tmp_path / name for name in ("scripts", "site-packages", "from-a-pth"))
    for directory in (script_dir, site_dir, pth_dir):
        directory.mkdir()
    egg = tmp_path / "package.egg"
    egg.write_bytes(b"")
    monkeypatch.setattr(
        sandbox.sys, "path", [str(script_dir), "", str(site_dir), str(pth_dir), str(egg), "/no/such/dir"]
    )
    path = sandbox._package_path().split(os.pathsep)
    assert path == [str(site_dir), str(pth_dir), str(egg)]


def test_the_users_own_site_packages_stay_out_of_a_fork_servers_reach(monkeypatch, tmp_path):
    import site

    site_dir, user_site = tmp_path / "venv" / "site-packages", tmp_path / "home" / "site-packages"
    for directory in (site_dir, user_site):
        directory.mkdir(parents=True)
    monkeypatch.setattr(site, "getuserbase", lambda: str(tmp_path / "home"))
    monkeypatch.setattr(sandbox.sys, "path", [str(user_site), str(site_dir)])
    assert sandbox._package_path() == str(site_dir)


def test_the_servers_packages_come_after_the_standard_library_and_exit_still_exits():
    source = (
        "import os, sys\n"
        "def f():\n"
        "    first_site = min(i for i, p in enumerate(sys.path) if p.endswith('-packages'))\n"
        "    stdlib = sys.path.index(os.path.dirname(os.__file__))\n"
        "    exit(3) if first_site < stdlib else None\n"
        "    return 'VQFT_SANDBOX_PACKAGE_PATH' in os.environ\n"
    )
    assert values(run(source)) == [False]
    (frame,) = run("def f():\n    exit(5)\n").frames
    assert json.loads(frame)["error"] == "SystemExit: 5"
