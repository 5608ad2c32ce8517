"""Hostile responses through the real pool: never ``correct``, always within the time limit, no side effects, and
the pool keeps serving honest answers afterwards."""

from __future__ import annotations

import json
import os
import socket
import time
import uuid

import pytest

from curation.verify.pool import GradingPool

TIMEOUT = 2.0
# Reference run (cached after the first check) + model run + slack for a loaded 2-core machine.
TIME_BOUND = 2 * TIMEOUT + 4.0
SECRET = "hf_" + uuid.uuid4().hex

ANSWER = {
    "kind": "code",
    "function_name": "f",
    "arguments": [{"name": "x", "type": "float"}],
    "reference": "def f(x):\n    return 2.0 * x\n",
    "test_cases": [{"inputs": {"x": 1.5}}, {"inputs": {"x": -4.0}}],
}
HONEST = "```python\ndef f(x):\n    return x + x\n```"


@pytest.fixture(scope="module")
def pool():
    """A pool started while the parent process holds secrets in its environment."""
    saved = {k: os.environ.get(k) for k in ("HF_TOKEN", "OPENAI_API_KEY")}
    os.environ["HF_TOKEN"] = SECRET
    os.environ["OPENAI_API_KEY"] = "sk-" + SECRET
    grading_pool = GradingPool(workers=2, timeout=TIMEOUT, watchdog_margin=5.0)
    grading_pool.start()
    try:
        yield grading_pool
    finally:
        grading_pool.close()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def grade(pool: GradingPool, source: str) -> tuple[dict, float]:
    start = time.monotonic()
    result = pool.submit(ANSWER, f"```python\n{source}\n```").result()
    return result, time.monotonic() - start


def assert_still_serving(pool: GradingPool) -> None:
    assert pool.submit(ANSWER, HONEST).result()["status"] == "correct"


HOSTILE = {
    "infinite_loop": ("def f(x):\n    while True:\n        pass", {"timeout"}),
    "sleep_forever": ("import time\ndef f(x):\n    time.sleep(3600)", {"timeout"}),
    "fork_bomb": ("import os\ndef f(x):\n    while True:\n        os.fork()", {"error"}),
    "fork_caught": (
        "import os\ndef f(x):\n    try:\n        os.fork()\n    except OSError:\n        pass\n    return 2 * x",
        {"error"},
    ),
    # Filling 256 MB blocks takes a while on a slow VM: MemoryError or the wall clock, whichever comes first.
    "memory_bomb": (
        "def f(x):\n    blocks = []\n    while True:\n        blocks.append(bytearray(2**28))",
        {"error", "timeout"},
    ),
    "memory_bomb_at_once": ("def f(x):\n    return len(bytearray(2**40))", {"error"}),
    "kill_parent": ("import os\ndef f(x):\n    os.kill(os.getppid(), 9)\n    return 2 * x", {"error"}),
    "kill_process_group": ("import os\ndef f(x):\n    os.killpg(0, 9)\n    return 2 * x", {"error"}),
    "sys_exit": ("import sys\ndef f(x):\n    sys.exit(0)", {"error"}),
    "os_exit": ("import os\ndef f(x):\n    os._exit(0)", {"error"}),
    "hundred_megabytes_of_output": ("def f(x):\n    print('x' * 100_000_000)\n    return 2 * x", {"error"}),
    "deep_recursion": ("def f(x):\n    return f(x) + 1", {"error"}),
    "unbounded_recursion_limit": (
        "import sys\nsys.setrecursionlimit(10**8)\ndef f(x, n=0):\n    return f(x, n + 1)",
        {"error", "timeout"},
    ),
    "always_true_eq_object": (
        "class Yes:\n    def __eq__(self, other):\n        return True\n    __hash__ = object.__hash__\n"
        "def f(x):\n    return Yes()",
        {"incorrect"},
    ),
    "float_subclass_always_equal": (
        "class F(float):\n    def __eq__(self, o):\n        return True\n    def __sub__(self, o):\n        return 0.0\n"
        "    def __abs__(self):\n        return 0.0\ndef f(x):\n    return F(0.0)",
        {"incorrect"},
    ),
    "huge_power": ("def f(x):\n    return 10**10**10", {"timeout", "error"}),
    "ctypes_call": ("import ctypes\ndef f(x):\n    ctypes.CDLL(None).getpid()\n    return 2 * x", {"error"}),
    "ctypes_memory_read": (
        "import ctypes\ndef f(x):\n    return ctypes.string_at(id(x), 8).hex()",
        {"error"},
    ),
    "subprocess_run": (
        "import subprocess\ndef f(x):\n    subprocess.run(['true'])\n    return 2 * x",
        {"error"},
    ),
    "os_system": ("import os\ndef f(x):\n    os.system('true')\n    return 2 * x", {"error"}),
    "signal_handler": (
        "import signal\ndef f(x):\n    signal.signal(signal.SIGXCPU, signal.SIG_IGN)\n    while True:\n        pass",
        {"error"},
    ),
    "signal_alarm": ("import signal\ndef f(x):\n    signal.alarm(1)\n    return 2 * x", {"error"}),
    "reimport_signal_module": (
        "import sys\ndel sys.modules['_signal']\nimport _signal\ndef f(x):\n    return 2 * x",
        {"error"},
    ),
    "heap_inspection": (
        "import gc\ndef f(x):\n    return len(gc.get_objects())",
        {"error"},
    ),
    "read_project_file": ("def f(x):\n    open('/etc/hostname').read()\n    return 2 * x", {"error"}),
    "threads": (
        "import threading\ndef f(x):\n    t = threading.Thread(target=print)\n    t.start()\n    return 2 * x",
        {"error"},
    ),
    # The grader's module is not in the fork server: the child imports it afresh (an empty cache: incorrect), or
    # fails to within the timeout where compiling it from source is slower than that (error).
    "look_for_cached_expected_outputs": (
        "import curation.verify.code as c\ndef f(x):\n    return [v for v in c._CACHE.values()]",
        {"incorrect", "error"},
    ),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_response_is_never_correct(pool, name):
    source, statuses = HOSTILE[name]
    result, elapsed = grade(pool, source)
    assert result["status"] in statuses, result
    assert elapsed < TIME_BOUND
    assert_still_serving(pool)


def test_a_fence_followed_by_a_long_run_of_spaces_is_parsed_in_linear_time(pool):
    start = time.monotonic()
    result = pool.submit(ANSWER, "```" + " " * 1_000_000 + "x").result()
    assert result["status"] == "no_answer"
    assert time.monotonic() - start < TIME_BOUND  # quadratic backtracking took ~25 min on 1 MB
    assert_still_serving(pool)


def test_file_write_is_error_and_creates_nothing(pool):
    path = f"/tmp/pwned_{uuid.uuid4().hex}"
    result, _ = grade(pool, f"def f(x):\n    open({path!r}, 'w').write('x')\n    return 2 * x")
    assert result["status"] == "error"
    assert not os.path.exists(path)
    assert_still_serving(pool)


def test_caught_file_write_is_still_error(pool):
    path = f"/tmp/pwned_{uuid.uuid4().hex}"
    source = f"def f(x):\n    try:\n        open({path!r}, 'w')\n    except OSError:\n        pass\n    return 2 * x"
    result, _ = grade(pool, source)
    assert result["status"] == "error"
    assert not os.path.exists(path)


def test_secret_environment_is_not_visible(pool):
    answer = dict(ANSWER, reference="def f(x):\n    return 'nothing'\n")
    source = (
        "import os\ndef f(x):\n"
        "    return str(os.environ.get('HF_TOKEN')) + str(os.environ.get('OPENAI_API_KEY'))"
    )
    result = pool.submit(answer, f"```python\n{source}\n```").result()
    assert result["status"] == "incorrect"
    assert SECRET not in json.dumps(result)
    assert_still_serving(pool)


def test_workers_start_without_the_secret(pool):
    for pid in pool.worker_pids():
        with open(f"/proc/{pid}/environ", "rb") as f:
            assert SECRET.encode() not in f.read()


def test_local_connection_is_error_and_never_arrives(pool):
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.setblocking(False)
    port = listener.getsockname()[1]
    try:
        source = (
            "import socket\ndef f(x):\n"
            f"    s = socket.create_connection(('127.0.0.1', {port}), timeout=1)\n"
            "    s.sendall(b'hello')\n    return 2 * x"
        )
        result, _ = grade(pool, source)
        assert result["status"] == "error"
        with pytest.raises(BlockingIOError):
            listener.accept()
    finally:
        listener.close()
    assert_still_serving(pool)


def test_killing_the_parent_leaves_the_workers_alive(pool):
    before = set(pool.worker_pids())
    grade(pool, "import os\ndef f(x):\n    os.kill(os.getppid(), 9)\n    os.kill(1, 9)\n    return 2 * x")
    assert_still_serving(pool)
    assert set(pool.worker_pids()) == before
