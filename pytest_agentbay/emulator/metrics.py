"""The `get_metrics` tool: real figures of the machine the emulator runs on."""

from __future__ import annotations

import os
import shutil
from datetime import datetime, timezone
from pathlib import Path
from typing import Any


def _meminfo() -> tuple[int, int]:
    """(total, used) bytes of memory: /proc/meminfo, else sysconf."""
    try:
        fields = {}
        for line in Path("/proc/meminfo").read_text().splitlines():
            name, _, rest = line.partition(":")
            fields[name] = int(rest.split()[0]) * 1024
        total = fields["MemTotal"]
        return total, total - fields.get("MemAvailable", fields.get("MemFree", 0))
    except (OSError, KeyError, ValueError, IndexError):
        pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
        return pages * size, 0


def _network() -> tuple[float, float]:
    """(received, sent) kilobytes over all interfaces but loopback, from /proc/net/dev."""
    rx = tx = 0
    try:
        for line in Path("/proc/net/dev").read_text().splitlines()[2:]:
            name, _, counters = line.partition(":")
            values = counters.split()
            if name.strip() != "lo" and len(values) >= 9:
                rx, tx = rx + int(values[0]), tx + int(values[8])
    except (OSError, ValueError):
        pass
    return rx / 1024, tx / 1024


def _cpu_used_pct(cpu_count: int) -> float:
    """The one-minute load average as a share of the CPUs, clamped to 0..100."""
    try:
        load = os.getloadavg()[0]
    except (OSError, AttributeError):
        return 0.0
    return round(min(max(load / cpu_count * 100.0, 0.0), 100.0), 1)


def host_metrics() -> dict[str, Any]:
    """The `get_metrics` payload (protocol 3.8.4); rates are 0 as nothing is sampled twice."""
    cpu_count = os.cpu_count() or 1
    mem_total, mem_used = _meminfo()
    disk = shutil.disk_usage(os.path.abspath(os.sep))
    rx, tx = _network()
    return {
        "cpu_count": cpu_count,
        "cpu_used_pct": _cpu_used_pct(cpu_count),
        "mem_total": mem_total,
        "mem_used": mem_used,
        "disk_total": disk.total,
        "disk_used": disk.used,
        "rx_rate_kbyte_per_s": 0.0,
        "tx_rate_kbyte_per_s": 0.0,
        "rx_used_kbyte": round(rx, 1),
        "tx_used_kbyte": round(tx, 1),
        "timestamp": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
