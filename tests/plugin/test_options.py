"""Options, their ini twins and environment, the precedence between them, and backends."""

from __future__ import annotations

import os

import pytest

from .conftest import INI, KEY, QUIET, Backend, run

SESSION_TEST = """
def test_one(agentbay_session):
    assert agentbay_session.command.execute_command("true").success
"""


def test_without_agentbay_tests_needing_it_skip_with_how_to_run(
    inner: pytest.Pytester, backend: Backend
) -> None:
    inner.makepyfile(
        """
        import pytest

        def test_plain():
            pass

        def test_session(agentbay_session):
            pass

        @pytest.mark.agentbay(image="code_latest")
        def test_marked_only():
            pass

        async def test_async(async_agentbay_session):
            pass
        """
    )
    result = inner.runpytest(*QUIET, "-rs")
    result.assert_outcomes(passed=1, skipped=3)
    result.stdout.fnmatch_lines(
        ["agentbay: off (tests that need AgentBay are skipped; run with --agentbay)"]
    )
    reason = "needs AgentBay: run with `pytest --agentbay` (local backend, no key needed"
    skips = [line for line in result.stdout.lines if line.startswith("SKIPPED")]
    assert skips and all(reason in line for line in skips)
    assert backend.creates() == 0


def test_auto_without_key_starts_a_local_backend_and_exports_it(inner: pytest.Pytester) -> None:
    inner.makepyfile(
        """
        import os

        def test_endpoint(agentbay_endpoint, agentbay_session):
            assert agentbay_endpoint.endpoint.startswith("http://127.0.0.1:")
            assert os.environ["AGENTBAY_ENDPOINT"] == agentbay_endpoint.endpoint
            assert os.environ["AGENTBAY_API_KEY"] == agentbay_endpoint.api_key
            assert agentbay_endpoint.api_key not in repr(agentbay_endpoint)
        """
    )
    result = inner.runpytest("--agentbay", *QUIET)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "agentbay: backend: local (http://127.0.0.1:*, started on first use), key: *, "
            "default image:*",
            "local backend started on first use at http://127.0.0.1:*, isolation: *",
        ]
    )
    # the in-process run restored the environment it changed
    assert "AGENTBAY_ENDPOINT" not in os.environ
    assert "AGENTBAY_API_KEY" not in os.environ


def test_auto_with_key_uses_the_cloud(inner: pytest.Pytester, backend: Backend) -> None:
    inner.makepyfile(SESSION_TEST)
    result = inner.runpytest("--agentbay", *QUIET)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"agentbay: backend: cloud ({backend.url}), key: akm-*"])
    assert backend.creates() == 1
    assert backend.live() == []


def test_local_backend_ignores_the_key_and_restores_the_environment(
    inner: pytest.Pytester, backend: Backend
) -> None:
    inner.makepyfile(
        f"""
        import os

        def test_endpoint(agentbay_endpoint, agentbay_session):
            assert agentbay_endpoint.endpoint != {backend.url!r}
            assert os.environ["AGENTBAY_ENDPOINT"] == agentbay_endpoint.endpoint
        """
    )
    result = inner.runpytest("--agentbay", "--agentbay-backend=local", *QUIET)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["agentbay: backend: local (*"])
    assert backend.creates() == 0
    assert os.environ["AGENTBAY_ENDPOINT"] == backend.url
    assert os.environ["AGENTBAY_API_KEY"] == KEY


@pytest.mark.parametrize("how", [["--agentbay-backend=cloud"], ["-o", "agentbay_backend=cloud"]])
def test_cloud_without_a_key_stops_the_run_at_start(inner: pytest.Pytester, how: list[str]) -> None:
    inner.makepyfile(SESSION_TEST)
    result = inner.runpytest("--agentbay", *how, *QUIET)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*--agentbay-backend=cloud needs an API key: set AGENTBAY_API_KEY*"]
    )
    assert "collected" not in result.stdout.str()


@pytest.mark.parametrize(
    ("cli", "ini", "env", "expected"),
    [
        ([], "", "", "cloud"),  # default auto, and a key is set
        ([], "", "local", "local"),
        ([], "agentbay_backend = cloud", "local", "cloud"),
        (["--agentbay-backend=cloud"], "agentbay_backend = local", "local", "cloud"),
    ],
)
def test_backend_precedence(
    inner: pytest.Pytester,
    backend: Backend,
    monkeypatch: pytest.MonkeyPatch,
    cli: list[str],
    ini: str,
    env: str,
    expected: str,
) -> None:
    inner.makeini(INI + ini + "\n")
    if env:
        monkeypatch.setenv("AGENTBAY_BACKEND", env)
    inner.makepyfile(SESSION_TEST)
    result = inner.runpytest("--agentbay", *cli, *QUIET)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"agentbay: backend: {expected} (*"])
    assert backend.creates() == (expected == "cloud")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-o", "agentbay_backend=moon"], "*agentbay_backend must be one of auto, cloud, local*"),
        (["--agentbay-label", "nokey"], "*--agentbay-label: label 'nokey' is not KEY=VALUE*"),
        (["-o", "agentbay_reap_age=soon", "--agentbay-reap"], "*agentbay_reap_age must be a num*"),
    ],
)
def test_bad_settings_are_usage_errors(
    inner: pytest.Pytester, backend: Backend, args: list[str], message: str
) -> None:
    inner.makepyfile(SESSION_TEST)
    result = inner.runpytest("--agentbay", *args, *QUIET)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])
    assert backend.creates() == 0


def test_bad_backend_on_the_command_line_is_refused(inner: pytest.Pytester) -> None:
    result = inner.runpytest("--agentbay-backend=moon", *QUIET)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--agentbay-backend: invalid choice: 'moon'*"])


@pytest.mark.parametrize(
    ("cli", "marker", "ini", "env", "expected"),
    [
        ([], None, "", "", "linux_latest"),
        ([], None, "", "code_latest", "code_latest"),
        ([], None, "browser_latest", "code_latest", "browser_latest"),
        ([], "windows_latest", "browser_latest", "code_latest", "windows_latest"),
        (
            ["--agentbay-image=mobile_latest"],
            "windows_latest",
            "browser_latest",
            "",
            "mobile_latest",
        ),
    ],
)
def test_image_precedence_cli_marker_ini_env_default(
    inner: pytest.Pytester,
    backend: Backend,
    monkeypatch: pytest.MonkeyPatch,
    cli: list[str],
    marker: str | None,
    ini: str,
    env: str,
    expected: str,
) -> None:
    inner.makeini(INI + (f"agentbay_image = {ini}\n" if ini else ""))
    if env:
        monkeypatch.setenv("AGENTBAY_IMAGE", env)
    decorator = f"@pytest.mark.agentbay(image={marker!r})" if marker else ""
    inner.makepyfile(
        f"""
        import pytest

        {decorator}
        def test_one(agentbay_session):
            assert agentbay_session.image_id == {expected!r}
        """
    )
    result = run(inner, *cli)
    result.assert_outcomes(passed=1)
    assert [s.image_id for s in backend.sessions()] == [expected]


def test_labels_from_cli_and_ini_merge_key_by_key_with_markers(
    inner: pytest.Pytester, backend: Backend
) -> None:
    inner.makeini(INI + "agentbay_label =\n    team=ini\n    env=ini\n    only_ini=1\n")
    inner.makepyfile(
        """
        import pytest

        @pytest.mark.agentbay(labels={"team": "marker", "env": "marker", "only_marker": "1"})
        def test_one(agentbay_session):
            pass
        """
    )
    result = run(inner, "--agentbay-label", "team=cli", "--agentbay-label", "only_cli=1")
    result.assert_outcomes(passed=1)
    (labels,) = [p["Labels"] for p in backend.create_params()]
    user = {k: v for k, v in labels.items() if not k.startswith("pytest-agentbay.")}
    assert user == {
        "team": "cli",
        "env": "marker",
        "only_ini": "1",
        "only_marker": "1",
        "only_cli": "1",
    }


def test_every_session_carries_the_run_tags(inner: pytest.Pytester, backend: Backend) -> None:
    inner.makepyfile(test_tags=SESSION_TEST)
    run(inner, "--agentbay-label", "team=qa").assert_outcomes(passed=1)
    (session,) = backend.created_for("test_tags.py::test_one")
    labels = session.labels
    assert labels["team"] == "qa"
    assert labels["pytest-agentbay.owner"] == "pytest-agentbay"
    assert labels["pytest-agentbay.worker"] == "main"
    assert len(labels["pytest-agentbay.run"]) >= 8
    assert int(labels["pytest-agentbay.created"]) > 1_600_000_000


def test_header_names_backend_default_image_and_masks_the_key(
    inner: pytest.Pytester, backend: Backend
) -> None:
    inner.makepyfile(SESSION_TEST)
    result = run(inner, "--agentbay-image=code_latest")
    result.stdout.fnmatch_lines(
        [f"agentbay: backend: cloud ({backend.url}), key: akm-*, default image: code_latest"]
    )
    assert KEY not in result.stdout.str() + result.stderr.str()


def test_options_are_in_the_agentbay_help_group(inner: pytest.Pytester) -> None:
    result = inner.runpytest("--help")
    result.stdout.fnmatch_lines(
        [
            "AgentBay cloud sessions:",
            "*--agentbay *",
            "*--agentbay-backend={auto,cloud,local}*",
            "*--agentbay-image=IMAGE*",
            "*(default: linux_latest;*",
            "*env: AGENTBAY_IMAGE; ini: agentbay_image)*",
            "*--agentbay-label=KEY=VALUE*",
            "*--agentbay-keep-on-failure*",
            "*--agentbay-reap *",
            "*--agentbay-reap-age=SECONDS*",
            "*--agentbay-session-expiry) (ini: agentbay_reap_age)*",
        ]
    )
    result.stdout.fnmatch_lines(["*agentbay_backend (string):*", "*agentbay_label (linelist):*"])
    # a placeholder is never a capitalised name that reads like an environment variable
    flags = [line.split()[0] for line in result.stdout.lines if line.startswith("  --agentbay")]
    names = [flag.partition("=")[2] for flag in flags if "=" in flag]
    assert names and not [n for n in names if n.startswith("AGENTBAY_")], names
    assert "agentbay_reap (" not in result.stdout.str()  # an action has no ini twin


def test_reap_is_not_an_ini_setting(inner: pytest.Pytester, backend: Backend) -> None:
    inner.makeini(INI + "agentbay_reap = true\n")
    inner.makepyfile("def test_runs():\n    pass\n")
    result = inner.runpytest("--agentbay-backend=cloud", *QUIET)
    result.assert_outcomes(passed=1, warnings=1)
    result.stdout.fnmatch_lines(["*Unknown config option: agentbay_reap*"])
    assert "agentbay reap" not in result.stdout.str()


def test_a_key_in_a_dotenv_file_picks_the_cloud_as_the_client_does(
    inner: pytest.Pytester, backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AGENTBAY_API_KEY")
    (inner.path / ".env").write_text(f"AGENTBAY_API_KEY={KEY}\n")
    inner.makepyfile(SESSION_TEST)
    result = inner.runpytest("--agentbay", *QUIET)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"agentbay: backend: cloud ({backend.url}), key: akm-*"])
    assert backend.creates() == 1 and "AGENTBAY_API_KEY" not in os.environ


def test_agentbay_ini_twin_turns_the_run_on(inner: pytest.Pytester, backend: Backend) -> None:
    inner.makeini(INI + "agentbay = true\n")
    inner.makepyfile(SESSION_TEST)
    result = inner.runpytest("--agentbay-backend=cloud", *QUIET)
    result.assert_outcomes(passed=1)
    assert backend.creates() == 1
