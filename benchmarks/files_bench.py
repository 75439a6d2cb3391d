"""File and code tools on the local backend: a 1 MiB write and read, and run_code("print(1)").

Run: python benchmarks/files_bench.py [--quick]
Baselines, measured in the same run: `execute_command("true")` on the same session (the cost
of one tool call), bare `python3 -c 'print(1)'` / `node -e ...` subprocesses, and the official
SDK (sync, loopback) doing the same file transfer.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from typing import Any

from pytest_agentbay import AgentBay, Config, CreateSessionParams
from pytest_agentbay.emulator import Emulator, EmulatorServer, EmulatorTransport

KEY = "bench-key"
SANDBOX_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
MIB = "".join(f"{i:07d} file bench line ✓\n" for i in range(40_330))[: 1024 * 1024 - 2] + "\n"


def median_ms(fn: Callable[[], object], runs: int, warm: int = 2) -> float:
    for _ in range(warm):
        fn()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def _checked(result: object) -> object:
    assert getattr(result, "success", False), getattr(result, "error_message", result)
    return result


def transfer(label: str, session: object, path: str, runs: int, call_ms: float) -> None:
    fs = session.file_system  # type: ignore[attr-defined]
    write = median_ms(lambda: _checked(fs.write_file(path, MIB)), runs, warm=1)
    assert fs.read_file(path).content == MIB
    read = median_ms(lambda: _checked(fs.read_file(path)), runs, warm=1)
    size = len(MIB.encode())
    writes, reads = -(-size // (51 * 1024)), 1 + -(-size // (50 * 1024))
    print(f"{label}: 1 MiB write {write:7.1f} ms ({writes} calls, {write / writes:5.1f} ms each"
          f" = {write / writes / call_ms:4.1f}x a shell call); read {read:7.1f} ms ({reads} calls,"
          f" {read / reads:5.1f} ms each = {read / reads / call_ms:4.1f}x)")


def _memory(pid: int) -> str:
    """PSS, and the private part of it (what each more session adds once many share pages)."""
    with open(f"/proc/{pid}/smaps_rollup") as rollup:
        kib = {k: int(v.split()[0]) for k, _, v in (line.partition(":") for line in rollup)
               if k in ("Pss", "Private_Clean", "Private_Dirty")}
    private = kib["Private_Clean"] + kib["Private_Dirty"]
    return f"PSS {kib['Pss'] / 1024:.1f} MiB ({private / 1024:.1f} MiB private)"


def agent_memory() -> None:
    """PSS of the sessions' file agents, beside their sandboxes' spawn servers."""
    mark = b"\0agentbay-file-agent\0"  # the agent's last argument
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                if not entry.isdigit() or mark not in cmdline.read():
                    continue
            with open(f"/proc/{entry}/stat") as stat:
                parent = int(stat.read().rsplit(")", 1)[1].split()[1])
            print(f"file agent (one per session that uses files): {_memory(int(entry))}; "
                  f"its sandbox's spawn server: {_memory(parent)}")
        except (OSError, ValueError, KeyError):
            continue


LANGUAGES = {"python": ("python3", "print(1)"), "javascript": ("node", "console.log(1)")}


def code(session: object, runs: int, call_ms: float) -> None:
    run = session.code.run_code  # type: ignore[attr-defined]
    for language, (program, source) in LANGUAGES.items():
        binary = shutil.which(program, path=SANDBOX_PATH)  # what the sandbox runs
        if binary is None:
            print(f"{language}: {program} is not installed, skipped")
            continue
        argv = [binary, "-c" if program == "python3" else "-e", source]
        # A clean environment, as in the sandbox (NODE_EXTRA_CA_CERTS alone costs node 150 ms).
        clean = {"PATH": SANDBOX_PATH, "HOME": tempfile.gettempdir(), "LANG": "C.UTF-8"}
        bare = median_ms(functools.partial(subprocess.run, argv, capture_output=True, env=clean),
                         runs)
        took = median_ms(lambda: _checked(run(source, language)), runs)  # noqa: B023 (run now)
        print(f"run_code({source!r}, {language!r}): {took:6.1f} ms = "
              f"{took / call_ms:4.1f}x execute_command('true'); bare `{program}` process "
              f"{bare:6.1f} ms, so +{took - bare:5.1f} ms")


@contextlib.contextmanager
def official_sdk(url: str) -> Iterator[Any]:
    """A session of the official SDK on the loopback server (None if it is not installed)."""
    # (Set before the import, which opens the log file: not in the working directory.)
    os.environ.setdefault("AGENTBAY_LOG_FILE", os.path.join(tempfile.gettempdir(), "sdk.log"))
    try:
        import agentbay  # type: ignore[import-untyped]
    except ImportError:
        yield None
        return
    agentbay.AgentBayLogger.setup(level="ERROR", enable_file=False, force_reinit=True)
    os.environ["AGENTBAY_ENDPOINT"] = url  # (the SDK's documented way to reach an endpoint)
    sdk = agentbay.AgentBay(api_key=KEY)
    session = sdk.create(agentbay.CreateSessionParams(image_id="code_latest")).session
    try:
        yield session
    finally:
        session.delete()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer runs (a smoke test)")
    runs, code_runs = (2, 5) if parser.parse_args().quick else (9, 60)
    with tempfile.TemporaryDirectory() as root:
        emulator = Emulator(api_keys=[KEY], root=root)
        client = AgentBay(KEY, Config("http://emulator.local"),
                          transport=EmulatorTransport(emulator))
        session = client.create(CreateSessionParams(image_id="code_latest")).session
        assert session is not None
        home = session.command.execute_command('printf %s "$HOME"').output
        call_ms = median_ms(lambda: session.command.execute_command("true"), code_runs * 2)
        print(f"isolation: {emulator.isolation}; execute_command('true'), in-process: "
              f"{call_ms:.2f} ms (baseline: one tool call)")
        transfer("ours, in-process ", session, f"{home}/mib.txt", runs, call_ms)
        agent_memory()
        code(session, code_runs, call_ms)
        with EmulatorServer(emulator) as server:  # (stopping it ends the emulator's sessions)
            loop = AgentBay(KEY, Config(server.url)).get(session.session_id).session
            assert loop is not None
            transfer("ours, loopback   ", loop, f"{home}/mib2.txt", runs, call_ms)
            with official_sdk(server.url) as theirs:
                if theirs is not None:
                    theirs_home = theirs.command.execute_command('printf %s "$HOME"').output
                    transfer("official SDK, loop", theirs, f"{theirs_home}/mib.txt", runs,
                             call_ms)
        client.close()
        emulator.close()


if __name__ == "__main__":
    main()
