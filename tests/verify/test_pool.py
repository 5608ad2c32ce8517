"""The grading pool: ordering, concurrency, bounded memory, and recovery from hung or dead workers."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from curation.verify.pool import GradingPool, default_pool

ANSWER = {
    "kind": "code",
    "function_name": "f",
    "arguments": [{"name": "x", "type": "float"}],
    "reference": "def f(x):\n    return 2.0 * x\n",
    "test_cases": [{"inputs": {"x": 1.5}}],
}
GOOD = "```python\ndef f(x):\n    return 2 * x\n```"
BAD = "```python\ndef f(x):\n    return 3 * x\n```"


def slow(seconds: float) -> str:
    return f"```python\nimport time\ndef f(x):\n    time.sleep({seconds})\n    return 2 * x\n```"


@pytest.fixture(scope="module")
def shared_pool():
    with GradingPool(workers=2, timeout=3.0) as pool:
        pool.start()
        yield pool


def test_submit_resolves_to_status_and_details(shared_pool):
    result = shared_pool.submit(ANSWER, GOOD).result(timeout=30)
    assert set(result) == {"status", "details"}
    assert result["status"] == "correct"
    assert result["details"]["cases"][0]["ok"] is True


def test_map_keeps_input_order(shared_pool):
    pattern = [GOOD, BAD, BAD, GOOD, "no code", GOOD] * 10
    statuses = [r["status"] for r in shared_pool.map((ANSWER, response) for response in pattern)]
    expected = {GOOD: "correct", BAD: "incorrect", "no code": "no_answer"}
    assert statuses == [expected[response] for response in pattern]


def test_concurrent_submits_from_many_threads(shared_pool):
    results: dict[int, str] = {}

    def client(k: int) -> None:
        for i in range(10):
            response = GOOD if (k + i) % 2 else BAD
            results[k * 100 + i] = shared_pool.submit(ANSWER, response).result(timeout=60)["status"]

    threads = [threading.Thread(target=client, args=(k,)) for k in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 80
    expected = {key: "correct" if (key // 100 + key % 100) % 2 else "incorrect" for key in results}
    assert results == expected


def test_map_holds_a_bounded_window(shared_pool):
    consumed = 0

    def tasks():
        nonlocal consumed
        for _ in range(10_000):
            consumed += 1
            yield ANSWER, GOOD

    stream = shared_pool.map(tasks())
    assert next(stream)["status"] == "correct"
    assert consumed <= shared_pool.max_in_flight
    stream.close()


def test_invalid_answer_spec_is_invalid_problem(shared_pool):
    result = shared_pool.submit({"kind": "code", "function_name": "f"}, GOOD).result(timeout=30)
    assert result["status"] == "invalid_problem"
    assert "arguments" in result["details"]["reason"]


def test_text_kinds_are_graded_in_the_worker(shared_pool):
    pytest.importorskip("curation.verify.text")
    future = shared_pool.submit({"kind": "numeric", "value": 2.5}, "The answer is \\boxed{2.5}")
    result = future.result(timeout=30)
    assert result["status"] == "correct"


def test_code_answers_run_in_the_dispatchers_fork_server_not_the_worker():
    with GradingPool(workers=1, timeout=3.0) as pool:
        (slot,) = pool.start()._slots
        runs = []
        real = slot.sandbox.run
        slot.sandbox.run = lambda entry, payload, *args: (
            runs.append(payload["source"]) or real(entry, payload, *args)
        )
        answer = {**ANSWER, "reference": "def f(x):\n    return 2.0 * x  # not cached yet\n"}
        assert pool.submit(answer, GOOD).result(timeout=30)["status"] == "correct"
        assert runs == [answer["reference"], "def f(x):\n    return 2 * x\n"]


def hang_lean_server(slot) -> int:
    """SIGSTOP the slot's lean fork server (its process group: the server proper may be a child, init of its
    PID namespace); returns the stopped pid."""
    hung = slot.sandbox.lean._proc.pid
    os.killpg(hung, signal.SIGSTOP)
    return hung


@pytest.mark.parametrize("comment", [0, 200_000], ids=["small request", "request over a pipe's 64 KiB"])
def test_hung_fork_server_makes_the_code_check_an_error_and_is_replaced(monkeypatch, comment):
    from curation.verify import sandbox

    monkeypatch.setattr(sandbox, "SERVER_MARGIN_S", 1.0)
    response = f"```python\n# {'x' * comment}\ndef f(x):\n    return 2 * x\n```"
    with GradingPool(workers=1, timeout=0.5) as pool:
        assert pool.submit(ANSWER, GOOD).result(timeout=60)["status"] == "correct"
        (slot,) = pool._slots
        hung = hang_lean_server(slot)  # GOOD names no numpy: the lean server runs it
        result = pool.submit(ANSWER, response).result(timeout=60)
        assert result["status"] == "error"
        assert "stopped" in result["details"]["reason"]
        assert pool.submit(ANSWER, GOOD).result(timeout=60)["status"] == "correct"
        assert slot.sandbox.lean._proc.pid != hung


def test_results_too_large_to_decode_in_the_dispatcher_are_graded_in_a_worker():
    from curation.verify.pool import CALLER_RESULT_LIMIT

    big = "```python\ndef f(x):\n    return [2 * x] * 300_000\n```"  # ~1.5 MB of results
    assert 300_000 * 5 > CALLER_RESULT_LIMIT
    with GradingPool(workers=1, timeout=5.0) as pool:
        (slot,) = pool.start()._slots
        tried_here = []
        real = slot.sandbox.run
        slot.sandbox.run = lambda entry, payload, *args: tried_here.append(1) or real(entry, payload, *args)
        answer = {**ANSWER, "reference": "def f(x):\n    return 2.0 * x  # first seen here\n"}
        result = pool.submit(answer, big).result(timeout=60)
        assert result["status"] == "incorrect"
        assert result["details"]["reason"] == "test case 0: expected a number, got sequence of 300000"
        assert len(tried_here) == 2  # the reference, then the answer, whose results went over the limit here


def test_a_fork_server_that_cannot_be_launched_at_start_does_not_stop_the_dispatcher(monkeypatch):
    from curation.verify import sandbox

    def refuse(self):
        raise OSError("EMFILE: too many open files")

    monkeypatch.setattr(sandbox.SandboxServer, "launch", refuse)
    with GradingPool(workers=1, timeout=3.0) as pool:
        assert pool.submit(ANSWER, GOOD).result(timeout=60)["status"] == "correct"


def test_an_edited_result_does_not_change_later_checks(shared_pool):
    answer = {**ANSWER, "reference": "def f(x):\n    return [2.0 * x, 3.0]\n"}
    good = "```python\ndef f(x):\n    return [x + x, 3.0]\n```"
    first = shared_pool.submit(answer, good).result(timeout=30)
    assert first["status"] == "correct"
    first["details"]["cases"][0]["expected"].append(99.0)
    assert shared_pool.submit(answer, good).result(timeout=30)["status"] == "correct"


def test_timeouts_that_are_not_positive_finite_seconds_are_refused(shared_pool):
    for timeout in (0, -1.0, float("nan"), float("inf"), 1e300):
        with pytest.raises(ValueError, match="timeout"):
            shared_pool.submit(ANSWER, GOOD, timeout=timeout)


def test_code_naming_no_numeric_module_runs_on_the_lean_fork_server():
    from curation.verify.sandbox import ServerPair

    pair = ServerPair()  # not started: choosing a server spawns nothing
    plain = {"source": "import math\ndef f(x):\n    return math.sqrt(x)\n", "arguments": [["x", "float"]]}
    assert pair.server_for(plain) is pair.lean
    for source in ("import numpy as np\n", "from scipy import special\n", "y = np.pi\n", "import sympy\n"):
        assert pair.server_for({**plain, "source": source}) is pair.full
    assert pair.server_for({**plain, "arguments": [["v", "array"]]}) is pair.full
    assert pair.server_for({"source": 3}) is pair.full


def test_code_that_reaches_numpy_without_naming_it_still_works_on_the_lean_server(shared_pool):
    sneaky = "```python\ndef f(x):\n    return float(__import__('nu' + 'mpy').float64(2) * x)\n```"
    assert shared_pool.submit(ANSWER, sneaky).result(timeout=60)["status"] == "correct"


def test_protections_report_every_layer_of_the_server_that_runs_code(shared_pool):
    report = shared_pool.protections()
    for layer in ("network_namespace", "mount_namespace", "pid_namespace", "privilege_drop", "audit_hook"):
        assert report[layer] == shared_pool._slots[0].sandbox.full.protections[layer]
    assert "worker_network_namespace" in report
    assert "lean_server" not in report  # its layers are the same here


def test_code_in_worker_grades_the_same(shared_pool):
    pattern = [GOOD, BAD, "no code"]
    with GradingPool(workers=1, timeout=3.0, code_in_worker=True) as pool:
        assert [r["status"] for r in pool.map((ANSWER, r) for r in pattern)] == [
            r["status"] for r in shared_pool.map((ANSWER, r) for r in pattern)
        ]


def usable_cpus() -> list[int]:
    return sorted(os.sched_getaffinity(0))


def test_pinned_slots_run_their_worker_and_fork_servers_on_one_cpu_each():
    with GradingPool(workers=2, timeout=3.0, pin_cpus=True) as pool:
        pool.start()
        expected = [usable_cpus()[i % len(usable_cpus())] for i in range(2)]
        assert pool.cpus == expected
        for slot, cpu in zip(pool._slots, expected, strict=True):
            assert os.sched_getaffinity(slot.proc.pid) == {cpu}
            for server in (slot.sandbox.lean, slot.sandbox.full):
                assert os.sched_getaffinity(server._proc.pid) == {cpu}
        assert pool.submit(ANSWER, GOOD).result(timeout=30)["status"] == "correct"


def test_unpinned_slots_keep_every_cpu():
    with GradingPool(workers=1, timeout=3.0, pin_cpus=False) as pool:
        (slot,) = pool.start()._slots
        assert pool.cpus == [None]
        assert os.sched_getaffinity(slot.proc.pid) == set(usable_cpus())
        assert os.sched_getaffinity(slot.sandbox.lean._proc.pid) == set(usable_cpus())


def test_by_default_a_pool_pins_only_when_it_has_one_slot_per_usable_cpu():
    cpus = usable_cpus()
    assert GradingPool(workers=len(cpus)).cpus == cpus
    assert GradingPool(workers=len(cpus) + 1).cpus == [None] * (len(cpus) + 1)


def test_workers_get_no_secrets():
    os.environ["VQFT_TEST_API_KEY"] = "sk-should-not-leak"
    try:
        with GradingPool(workers=1, timeout=2.0) as pool:
            pool.start()
            (pid,) = pool.worker_pids()
            with open(f"/proc/{pid}/environ", "rb") as f:
                assert b"sk-should-not-leak" not in f.read()
    finally:
        del os.environ["VQFT_TEST_API_KEY"]


def test_hung_worker_is_killed_and_its_batch_resubmitted():
    with GradingPool(workers=1, timeout=0.5, watchdog_margin=1.0, code_in_worker=True) as pool:
        pool.start()
        (pid,) = pool.worker_pids()
        os.kill(pid, signal.SIGSTOP)
        futures = [pool.submit(ANSWER, GOOD) for _ in range(3)]
        statuses = [f.result(timeout=60)["status"] for f in futures]
        assert statuses == ["timeout", "correct", "correct"]
        assert pool.worker_pids() != [pid]


def test_dead_worker_is_restarted_and_its_tasks_resubmitted():
    with GradingPool(workers=1, timeout=5.0, code_in_worker=True) as pool:
        pool.start()
        (pid,) = pool.worker_pids()
        future = pool.submit(ANSWER, slow(1.0))
        time.sleep(0.4)
        os.kill(pid, signal.SIGKILL)
        assert future.result(timeout=60)["status"] == "correct"
        assert pool.worker_pids() and pool.worker_pids() != [pid]


def test_task_whose_worker_dies_twice_is_error():
    with GradingPool(workers=1, timeout=5.0, code_in_worker=True) as pool:
        pool.start()
        future = pool.submit(ANSWER, slow(2.0))
        for _ in range(2):
            deadline = time.monotonic() + 60
            while not pool.worker_pids() and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(0.5)
            os.kill(pool.worker_pids()[0], signal.SIGKILL)
            time.sleep(0.2)
        result = future.result(timeout=60)
        assert result["status"] == "error"
        assert "crashed" in result["details"]["reason"]


def test_closed_pool_rejects_new_tasks():
    pool = GradingPool(workers=1, timeout=2.0)
    assert pool.submit(ANSWER, GOOD).result(timeout=60)["status"] == "correct"
    pool.close()
    pool.close()
    with pytest.raises(RuntimeError):
        pool.submit(ANSWER, GOOD)


def test_close_stops_the_workers():
    pool = GradingPool(workers=2, timeout=2.0).start()
    pids = pool.worker_pids()
    assert len(pids) == 2
    pool.close()
    for pid in pids:
        assert not os.path.exists(f"/proc/{pid}") or open(f"/proc/{pid}/stat").read().split()[2] == "Z"


def test_default_pool_is_one_shared_instance():
    assert default_pool() is default_pool()


def test_pool_refuses_to_work_in_a_forked_child():
    pool = GradingPool(workers=1, timeout=2.0)
    pid = os.fork()
    if pid == 0:
        try:
            pool.submit(ANSWER, GOOD)
        except RuntimeError:
            os._exit(0)
        os._exit(1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    pool.close()


def test_slow_text_grading_becomes_timeout(monkeypatch):
    from curation.verify import grade, worker

    def stuck(answer, response, timeout, server=None):
        while True:
            time.sleep(0.01)

    monkeypatch.setattr(grade, "grade_task", stuck)
    previous = signal.signal(signal.SIGALRM, worker._on_alarm)
    try:
        start = time.monotonic()
        task = {"id": 7, "answer": {"kind": "numeric", "value": 1.0}, "response": "x", "timeout": 0.3}
        result = worker._grade_one(task)
    finally:
        signal.signal(signal.SIGALRM, previous)
    assert result["id"] == 7 and result["status"] == "timeout"
    assert time.monotonic() - start < 2.0


def test_malformed_task_is_error_not_a_crash():
    from curation.verify import worker

    assert worker._grade_one({"id": 3, "answer": {}})["status"] == "error"
    assert worker._grade_one(["not", "a", "task"])["status"] == "error"
