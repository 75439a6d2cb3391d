"""`python -m pytest_agentbay.emulator`: serve the AgentBay emulator on loopback until stopped."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from .core import Emulator
from .knobs import checked_seconds
from .limits import DEFAULT_LIMITS, HELP, Limits
from .sandbox import NOT_ISOLATED, isolation_problem
from .server import REQUEST_SECONDS, EmulatorServer

KEY_ENV = "AGENTBAY_EMULATOR_API_KEY"


def _seconds(text: str) -> float:
    try:
        return checked_seconds("seconds", float(text))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _deadline(text: str) -> float:
    seconds = _seconds(text)
    if seconds <= 0:
        raise argparse.ArgumentTypeError("the request deadline must be above 0 seconds")
    return seconds


def _latency(text: str) -> tuple[str, float]:
    action, sep, seconds = text.partition("=")
    if not sep or not action:
        raise argparse.ArgumentTypeError(f"expected ACTION=SECONDS (e.g. CreateMcpSession=3), "
                                         f"got {text!r}")
    return action, _seconds(seconds)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line; see `--help`."""
    parser = argparse.ArgumentParser(
        prog="python -m pytest_agentbay.emulator",
        description="Serve an AgentBay API emulator that really runs commands.")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (loopback only)")
    parser.add_argument("--port", type=int, default=0, help="port (default: any free port)")
    parser.add_argument("--allow-remote", action="store_true",
                        help="allow binding a non-loopback address (anyone reaching it can "
                             "run commands on this machine)")
    parser.add_argument("--api-key-file", metavar="FILE",
                        help="accept only the keys in FILE, one a line ('-': read standard "
                             f"input); or set {KEY_ENV}; default: any non-empty key")
    parser.add_argument("--api-key", action="append", dest="api_keys", metavar="KEY",
                        help="accept only this key (repeatable); visible to other users in "
                             "the process list: prefer --api-key-file")
    parser.add_argument("--isolation", choices=("auto", "namespaces", "directories"),
                        default="auto", help="how sessions run their commands (auto: "
                        "bubblewrap sandboxes where they work; directories: NOT isolated)")
    for name, default in DEFAULT_LIMITS.describe().items():
        parser.add_argument(f"--limit-{name.replace('_', '-')}", type=int, default=default,
                            metavar="N", help=f"{HELP[name]} (default {default})")
    parser.add_argument("--seed", type=int, help="make ids deterministic")
    parser.add_argument("--settle-seconds", type=_seconds, default=0.0,
                        help="how long PAUSING/RESUMING/DELETING last (default 0)")
    parser.add_argument("--task-seconds", type=_seconds, default=0.0,
                        help="how long agent tasks run (default 0)")
    parser.add_argument("--latency", type=_latency, action="append", default=[],
                        metavar="ACTION=SECONDS", help="delay an action, or 'shell' commands")
    parser.add_argument("--request-timeout", type=_deadline, default=REQUEST_SECONDS,
                        metavar="SECONDS",
                        help="drop a connection whose request (headers and body) is not read "
                             f"this soon after its first byte (default {REQUEST_SECONDS:g})")
    return parser.parse_args(argv)


def _api_keys(args: argparse.Namespace) -> list[str] | None:
    """The accepted keys: from --api-key, --api-key-file and the environment (None: any)."""
    keys = list(args.api_keys or [])
    if args.api_key_file == "-":
        keys += sys.stdin.read().split()
    elif args.api_key_file:
        with open(args.api_key_file, encoding="utf-8") as lines:
            keys += lines.read().split()
    if os.environ.get(KEY_ENV, "").strip():
        keys.append(os.environ[KEY_ENV].strip())
    if args.api_key_file and not keys:
        raise ValueError(f"{args.api_key_file}: no key in it")
    return keys or None


def _limits(args: argparse.Namespace) -> Limits:
    return Limits(**{name: getattr(args, f"limit_{name}") for name in DEFAULT_LIMITS.describe()})


def _isolation_line(emulator: Emulator) -> str:
    if emulator.isolation == "namespaces":
        return "isolation: namespaces (bubblewrap sandboxes)"
    reason = isolation_problem() or "--isolation directories"
    return f"isolation: directories: WARNING: {NOT_ISOLATED} ({reason})"


def main(argv: Sequence[str] | None = None) -> int:
    """Start the server, print where it listens, and serve until SIGINT or SIGTERM."""
    args = parse_args(argv)
    try:
        keys, limits = _api_keys(args), _limits(args)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    isolation = None if args.isolation == "auto" else args.isolation
    emulator = Emulator(api_keys=keys, seed=args.seed, settle_seconds=args.settle_seconds,
                        task_seconds=args.task_seconds, isolation=isolation, limits=limits)
    try:
        for action, seconds in args.latency:
            emulator.set_latency(action, seconds)
        server = EmulatorServer(emulator, args.host, args.port, allow_remote=args.allow_remote,
                                request_timeout=args.request_timeout)
        server.start()
    except (ValueError, OSError) as exc:
        emulator.close()
        print(f"error: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    print(f"AgentBay emulator listening on {server.url} ({_isolation_line(emulator)})",
          flush=True)
    while not stop.wait(0.5):
        pass
    server.stop()
    print("AgentBay emulator stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
