"""Async tests (pytest-asyncio, strict mode): a session per test and a module-wide one."""

import asyncio

import pytest


@pytest.mark.asyncio
async def test_concurrent_commands(async_agentbay_session):
    results = await asyncio.gather(
        *(async_agentbay_session.command.execute_command(f"echo {i}") for i in range(3))
    )
    assert [r.stdout for r in results] == ["0\n", "1\n", "2\n"]


@pytest.mark.asyncio
async def test_module_session_written(async_agentbay_module_session):
    result = await async_agentbay_module_session.command.execute_command("echo kept > ~/note")
    assert result.success


@pytest.mark.asyncio
async def test_module_session_read_back(async_agentbay_module_session):
    result = await async_agentbay_module_session.command.execute_command("cat ~/note")
    assert result.stdout == "kept\n"
