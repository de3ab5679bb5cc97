"""Safety pause latency: from the request to the FTMS pause command on the wire.

Runs a real Home Assistant test instance with a station on an FTMS treadmill
(the integration's own FTMS client on the GATT-level fake, reached through
Home Assistant's bluetooth stack) and measures, in process, the time from
``RetroWalkCoordinator.async_safety_halt`` being called to the fake's
``write_gatt_char`` receiving the Stop/Pause (pause) control-point write.
Prints median, p99 and max over the runs; asserts no timing.
"""

from __future__ import annotations

import statistics
import time

from pytest_homeassistant_custom_component.common import MockConfigEntry

from homeassistant.core import HomeAssistant
from tests.ftms_fake import FakeTreadmill, Opcode
from tests.test_ftms import ftms_entry, machine, proxy  # noqa: F401 - fixtures

RUNS = 1000
PAUSE = bytes([Opcode.STOP_PAUSE, 0x02])


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def test_bench_ftms_safety_pause_latency(
    hass: HomeAssistant,
    ftms_entry: MockConfigEntry,  # noqa: F811
    machine: FakeTreadmill,  # noqa: F811
) -> None:
    """Time safety pauses on a moving belt, resuming after each."""
    coordinator = ftms_entry.runtime_data.coordinator
    await coordinator.async_start_session()
    to_write: list[float] = []
    to_acknowledged: list[float] = []
    for _ in range(RUNS):
        machine.advance(1.0)
        writes_before = len(machine.writes)
        start = time.perf_counter_ns()
        await coordinator.async_safety_halt("benchmark")
        done = time.perf_counter_ns()
        written = next(
            stamp for stamp, data in machine.writes[writes_before:] if data == PAUSE
        )
        to_write.append((written - start) / 1e6)
        to_acknowledged.append((done - start) / 1e6)
        await coordinator.async_resume()
        await hass.async_block_till_done()

    print()
    print(f"FTMS safety pause, {RUNS} runs (ms)")
    for label, values in (
        ("request -> pause command written", to_write),
        ("request -> pause acknowledged", to_acknowledged),
    ):
        print(
            f"  {label:34} median {statistics.median(values):.3f}"
            f"  p99 {_percentile(values, 0.99):.3f}  max {max(values):.3f}"
        )
