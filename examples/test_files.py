"""Files in the session: inputs go in, an agent writes a report, the test reads it back."""

import pytest

WORK = "/tmp/orders-report"


def write_sales_report(session, folder):
    """The code under test: an agent step that totals the CSV files in `folder` into a report."""
    listing = session.file_system.list_directory(folder)
    csv_paths = [f"{folder}/{e.name}" for e in listing.entries if e.name.endswith(".csv")]
    files = session.file_system.read_multiple_files(csv_paths)
    lines = ["# Sales report", ""]
    for path, text in sorted(files.contents.items()):
        rows = [row.split(",") for row in text.splitlines()[1:]]
        lines.append(f"- {path.rsplit('/', 1)[-1]}: {sum(int(qty) for _, qty in rows)} items")
    session.file_system.create_directory(f"{folder}/out")
    return session.file_system.write_file(f"{folder}/out/report.md", "\n".join(lines) + "\n")


def test_agent_writes_a_report_the_test_reads_back(agentbay_session):
    fs = agentbay_session.file_system
    assert fs.write_file(f"{WORK}/north.csv", "sku,qty\napple,3\npear,4\n").success
    assert fs.write_file(f"{WORK}/south.csv", "sku,qty\napple,10\n").success

    assert write_sales_report(agentbay_session, WORK).success

    report = fs.read_file(f"{WORK}/out/report.md")
    assert report.success, report.error_message
    assert report.content == "# Sales report\n\n- north.csv: 7 items\n- south.csv: 10 items\n"
    assert fs.get_file_info(f"{WORK}/out/report.md").size == len(report.content)
    found = fs.search_files(WORK, "*.md")
    assert found.matches == [f"{WORK}/out/report.md"]


def test_large_and_binary_files(agentbay_session):
    fs = agentbay_session.file_system
    log = "".join(f"{i:06d} ok ✓\n" for i in range(20_000))  # 260 KB, moved in 51 KB chunks
    assert fs.write_file("/tmp/big.log", log).success
    assert fs.read_file("/tmp/big.log").content == log
    agentbay_session.command.execute_command("printf '\\211PNG\\r\\n\\032\\n' > /tmp/pic.png")
    image = fs.read_file("/tmp/pic.png", format="bytes")
    assert image.success and image.content == b"\x89PNG\r\n\x1a\n"


def test_edit_move_and_errors(agentbay_session):
    fs = agentbay_session.file_system
    fs.write_file("/tmp/app.cfg", "DEBUG=false\n")
    assert fs.edit_file("/tmp/app.cfg", [{"oldText": "false", "newText": "true"}]).success
    assert fs.move_file("/tmp/app.cfg", "/tmp/app.conf").success
    assert fs.read_file("/tmp/app.conf").content == "DEBUG=true\n"
    assert fs.delete_file("/tmp/app.conf").success
    missing = fs.read_file("/tmp/app.conf")
    assert not missing.success and missing.error_message


@pytest.mark.asyncio
async def test_async_files(async_agentbay_session):
    fs = async_agentbay_session.file_system
    assert (await fs.write_file("/tmp/a.txt", "async\n")).success
    assert (await fs.read_file("/tmp/a.txt")).content == "async\n"
