"""The emulator's sandboxes: real bash, clean environments, timeouts, output caps, isolation."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from pytest_agentbay.emulator.sandbox import (
    OUTPUT_CAP,
    RunResult,
    Sandbox,
    detect_isolation,
)

MODES = ["namespaces", "directories"]


def _make(root: Path, name: str, mode: str) -> Sandbox:
    if mode == "namespaces" and detect_isolation() != "namespaces":
        pytest.skip("this OS does not allow mount namespaces")
    return Sandbox(root, name, mode)


@pytest.fixture(params=MODES)
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def box(tmp_path: Path, mode: str) -> Iterator[Sandbox]:
    sandbox = _make(tmp_path, "s-1", mode)
    yield sandbox
    sandbox.close()


def _run(box: Sandbox, command: str, **kwargs: object) -> RunResult:
    return box.run(command, timeout_ms=5000, **kwargs)  # type: ignore[arg-type]


def _running(pid: int) -> bool:
    """True while ``pid`` is alive; a zombie waiting to be reaped counts as gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _all_gone(pids: list[int], within: float = 1.0) -> bool:
    deadline = time.monotonic() + within
    while any(_running(pid) for pid in pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def _host_pids(*args: str) -> list[int]:
    """Host pids of processes running exactly ``args`` (a sandbox's own pids are its own)."""
    wanted = "\0".join(args).encode() + b"\0"
    pids = []
    for entry in os.listdir("/proc"):
        try:
            if entry.isdigit() and Path(f"/proc/{entry}/cmdline").read_bytes() == wanted:
                pids.append(int(entry))
        except OSError:
            pass
    return pids


def _wait_for(*args: str) -> list[int]:
    deadline = time.monotonic() + 2
    while not (pids := _host_pids(*args)) and time.monotonic() < deadline:
        time.sleep(0.01)
    return pids


def test_output_streams_and_exit_code(box: Sandbox) -> None:
    result = _run(box, "echo out; echo err >&2; exit 3")
    assert result == RunResult("out\n", "err\n", 3, timed_out=False, truncated=False)


def test_killed_by_signal_reports_128_plus_signal(box: Sandbox) -> None:
    assert _run(box, "kill -9 $$").exit_code == 137


def test_invalid_utf8_is_replaced(box: Sandbox) -> None:
    assert _run(box, r"printf 'a\377b'").stdout == "a\ufffdb"


def test_cwd_defaults_to_home_and_relative_cwd_is_under_home(box: Sandbox) -> None:
    assert _run(box, 'mkdir -p "my dir/sub; x"').exit_code == 0
    assert _run(box, "pwd").stdout == box.home + "\n"
    assert _run(box, "pwd", cwd="my dir/sub; x").stdout == f"{box.home}/my dir/sub; x\n"
    assert _run(box, "pwd", cwd=f"{box.home}/my dir").stdout == f"{box.home}/my dir\n"


def test_missing_cwd_is_an_error_result(box: Sandbox) -> None:
    result = _run(box, "echo never", cwd="nope")
    assert (result.stdout, result.exit_code) == ("", 1)
    assert "nope: No such file or directory" in result.stderr


def test_envs_are_process_parameters_not_shell_text(box: Sandbox) -> None:
    tricky = 'it\'s "quoted"; echo pwned\n$(echo subst) `echo tick` $HOME \\'
    result = _run(box, 'printf %s "$A"', envs={"A": tricky, "B": ""})
    assert result.stdout == tricky
    assert _run(box, 'printf %s "$HOME"', envs={"HOME": "/elsewhere"}).stdout == "/elsewhere"


@pytest.mark.parametrize("key", ["", "A=B", "A\0"])
def test_invalid_env_name_is_rejected(box: Sandbox, key: str) -> None:
    with pytest.raises(ValueError, match="environment variable"):
        _run(box, "true", envs={key: "x"})


def test_host_environment_does_not_leak(box: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTBAY_CANARY_KEY", "akm-canary-123")
    env = dict(line.split("=", 1) for line in _run(box, "env").stdout.splitlines())
    assert "AGENTBAY_CANARY_KEY" not in env
    assert "akm-canary-123" not in _run(box, "env").stdout
    assert env["HOME"] == box.home
    assert {"PATH", "LANG", "USER", "TMPDIR"} <= env.keys()


def test_timeout_kills_whole_process_group(box: Sandbox) -> None:
    command = (
        "trap '' TERM; sleep 30.11 & (trap '' TERM; sleep 30.12) & echo partial; sleep 30"
    )
    pids: list[int] = []
    started = time.monotonic()
    threading.Timer(0.2, lambda: pids.extend(_host_pids("sleep", "30.11"))).start()
    result = box.run(command, timeout_ms=400)
    assert time.monotonic() - started < 1.5
    assert (result.exit_code, result.timed_out) == (124, True)
    assert result.stdout in ("", "partial\n")
    assert len(pids) == 1
    assert _all_gone(pids + _host_pids("sleep", "30.12"))


def test_background_job_holding_the_pipes_does_not_hang_run(box: Sandbox) -> None:
    started = time.monotonic()
    result = _run(box, "sleep 30.21 & echo done")
    assert time.monotonic() - started < 1
    assert (result.stdout, result.exit_code, result.timed_out) == ("done\n", 0, False)
    pids = _wait_for("sleep", "30.21")
    assert pids and all(_running(pid) for pid in pids)  # it outlives its command ...
    box.close()
    assert _all_gone(pids)  # ... but not its sandbox


@pytest.mark.parametrize("command", ["yes | head -c 50000000", "cat /dev/zero | head -c 100000000"])
def test_huge_output_is_capped_quickly(box: Sandbox, command: str) -> None:
    started = time.monotonic()
    result = _run(box, command + "; echo tail >&2")
    assert time.monotonic() - started < 2
    assert (result.exit_code, result.truncated) == (0, True)
    assert len(result.stdout) == OUTPUT_CAP
    assert result.stderr == "tail\n"


def test_output_at_the_cap_is_not_truncated(box: Sandbox) -> None:
    result = _run(box, f"head -c {OUTPUT_CAP} /dev/zero | tr '\\0' x")
    assert (len(result.stdout), result.truncated) == (OUTPUT_CAP, False)


def test_files_of_one_session_are_invisible_to_another(tmp_path: Path, mode: str) -> None:
    first, second = _make(tmp_path, "a", mode), _make(tmp_path, "b", mode)
    try:
        assert _run(first, 'echo s > "$HOME/f" && echo s > "$TMPDIR/f"').exit_code == 0
        assert _run(first, 'cat "$HOME/f" "$TMPDIR/f"').stdout == "s\ns\n"
        assert _run(second, 'cat "$HOME/f" || cat "$TMPDIR/f"').exit_code != 0
        if mode == "namespaces":
            assert _run(first, "echo s > /tmp/g && cat /tmp/g").stdout == "s\n"
            assert _run(second, "cat /tmp/g").exit_code != 0
            assert not Path("/tmp/g").exists() or Path("/tmp/g").read_text() != "s\n"
            assert not any(path.name == "f" for path in tmp_path.rglob("*"))  # not on the host
    finally:
        first.close()
        second.close()


def test_concurrent_commands_in_one_sandbox_overlap(box: Sandbox) -> None:
    started = time.monotonic()
    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(lambda i: _run(box, f"sleep 0.2; echo {i}"), range(20)))
    assert time.monotonic() - started < 2
    assert [r.stdout for r in results] == [f"{i}\n" for i in range(20)]


def test_concurrent_commands_across_sandboxes(tmp_path: Path, mode: str) -> None:
    boxes = [_make(tmp_path, f"s{i}", mode) for i in range(10)]
    try:
        jobs = [(b, n) for b in boxes for n in range(2)]
        with ThreadPoolExecutor(len(jobs)) as pool:
            results = list(pool.map(lambda job: _run(job[0], f"sleep 0.1; echo {job[1]}"), jobs))
        assert [r.stdout for r in results] == [f"{n}\n" for _, n in jobs]
    finally:
        for sandbox in boxes:
            sandbox.close()


def test_close_kills_running_commands_and_removes_files(box: Sandbox) -> None:
    results: list[RunResult] = []
    worker = threading.Thread(
        target=lambda: results.append(box.run("sleep 30.31; :", timeout_ms=20000))
    )
    worker.start()
    pids = _wait_for("sleep", "30.31")
    assert pids
    box.close()
    worker.join(2)
    assert not worker.is_alive()
    assert (results[0].exit_code, results[0].timed_out) == (137, False)
    assert _all_gone(pids)
    assert not box.path.exists()
    box.close()  # idempotent
    with pytest.raises(RuntimeError, match="closed"):
        _run(box, "true")


def test_close_kills_processes_that_left_their_group_in_namespaces(tmp_path: Path) -> None:
    sandbox = _make(tmp_path, "s", "namespaces")
    result = _run(sandbox, "setsid sleep 30.41 >/dev/null 2>&1 &")
    assert result.exit_code == 0
    pids = _wait_for("sleep", "30.41")
    assert pids and all(_running(pid) for pid in pids)
    sandbox.close()
    assert _all_gone(pids)


def test_bad_arguments_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="isolation"):
        Sandbox(tmp_path, "x", "vm")
    with pytest.raises(ValueError, match="single path component"):
        Sandbox(tmp_path, "../x", "directories")
    sandbox = Sandbox(tmp_path, "x", "directories")
    try:
        with pytest.raises(ValueError, match="timeout_ms"):
            sandbox.run("true", timeout_ms=0)
    finally:
        sandbox.close()


def test_detect_isolation_names_a_mode_and_is_cached() -> None:
    assert detect_isolation() in MODES
    assert detect_isolation() is detect_isolation()


def test_commands_inherit_only_the_standard_descriptors(box: Sandbox) -> None:
    # "; :" keeps bash from exec'ing ls, so that $$ is the shell, not ls with its own listing
    assert _run(box, "ls /proc/$$/fd; :").stdout.split() == ["0", "1", "2"]


def test_a_dead_namespace_helper_is_a_clear_error_not_a_hang(tmp_path: Path) -> None:
    sandbox = _make(tmp_path, "s", "namespaces")
    try:
        result = _run(sandbox, "setsid sleep 30.51 >/dev/null 2>&1 &")
        assert result.exit_code == 0
        pids = _wait_for("sleep", "30.51")
        helper = sandbox.init_pid  # the helper is the init of the sandbox's PID namespace
        assert helper is not None and helper != os.getpid()
        started = time.monotonic()
        threading.Timer(0.2, os.kill, (helper, signal.SIGKILL)).start()
        with pytest.raises(RuntimeError, match="helper has died"):
            _run(sandbox, "sleep 3")
        with pytest.raises(RuntimeError, match="helper has died"):
            _run(sandbox, "true")
        assert time.monotonic() - started < 1
    finally:
        sandbox.close()
    assert _all_gone(pids)  # the namespace is emptied all the same


def test_a_session_cannot_kill_its_helper(tmp_path: Path) -> None:
    sandbox = _make(tmp_path, "s", "namespaces")
    try:
        assert _run(sandbox, "kill -9 $PPID; kill -KILL -1; :").exit_code in (0, 137)
        assert _run(sandbox, "echo still here").stdout == "still here\n"
    finally:
        sandbox.close()


def test_finished_background_jobs_do_not_pile_up_as_zombies(tmp_path: Path) -> None:
    sandbox = _make(tmp_path, "s", "namespaces")
    try:
        for _ in range(5):
            assert _run(sandbox, "for i in 1 2 3 4; do (sleep 0.01 &) ; done").exit_code == 0
        time.sleep(0.3)
        states = _run(sandbox, "cat /proc/[0-9]*/stat; :").stdout
        assert ") Z " not in states, states
    finally:
        sandbox.close()


def test_execute_runs_a_program_with_stdin_and_gives_bytes(box: Sandbox) -> None:
    data = bytes(range(256)) * 4096  # 1 MiB: more than a pipe holds while it is being read
    result = box.execute(["python3", "-c", "import sys; b = sys.stdin.buffer.read(); "
                          "sys.stdout.buffer.write(b[::-1]); sys.stderr.write(str(len(b)))"],
                         stdin=data, timeout_ms=20_000, cwd="/tmp", env={"X": "1"})
    assert (result.stdout, result.stderr) == (data[::-1], b"1048576")
    assert (result.exit_code, result.timed_out, result.truncated) == (0, False, False)
    with pytest.raises(OSError):
        box.execute(["no-such-program-here"], timeout_ms=5000)
    assert box.execute(["true"], stdin=b"ignored" * 100_000, timeout_ms=5000).exit_code == 0
