"""Safety loop figures: detector cost, and webhook push to FTMS pause command.

The latency runs through a real Home Assistant test instance: a Sensor Logger
push goes over HTTP to the station's webhook, is parsed, run through the
detector, answered by the safety policy, and our FTMS client writes the pause
to the GATT-level fake, whose write time is recorded. The trigger is a free fall
(acceleration under 0.3 g for 150 ms) after 10 s of calibration. Prints
median and p99; asserts no timing.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from evaluation.bench import detector_cost_us, parse_cost_us
from homeassistant.core import HomeAssistant
from tests.bluetooth import FakeProxyScanner
from tests.ftms_fake import FakeTreadmill, Opcode
from tests.sensorlogger import GRAVITY, message
from tests.test_ftms import REMOTE, _add_ftms_station, machine, proxy  # noqa: F401

RUNS = 1000
PAUSE = bytes([Opcode.STOP_PAUSE, 0x02])
WEBHOOK_ID = "retro-walk-bench"
SECOND = 10**9


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _report(label: str, values: list[float]) -> None:
    print(
        f"  {label:38} median {statistics.median(values):7.3f}"
        f"  p99 {_percentile(values, 0.99):7.3f}  max {max(values):7.3f}"
    )


def test_bench_detector_cost() -> None:
    """Microseconds per sample: detector, and parsing a message."""
    print()
    print("Detector (600 s of walking, 50-sample batches, best of 3)")
    print(f"  detector: {detector_cost_us():.2f} us/sample")
    print(f"  parsing:  {parse_cost_us():.2f} us/sample")


async def test_bench_webhook_to_pause_command(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    proxy: FakeProxyScanner,  # noqa: F811
    machine: FakeTreadmill,  # noqa: F811
) -> None:
    """Milliseconds from the push to the pause command on the wire."""
    options: dict[str, Any] = {
        **REMOTE,
        "webhook_enabled": True,
        "webhook_id": WEBHOOK_ID,
        "stream_timeout": 5.0,
    }
    entry = await _add_ftms_station(hass, proxy, machine, options)
    coordinator = entry.runtime_data.coordinator
    client = await hass_client_no_auth()
    url = f"/api/webhook/{WEBHOOK_ID}"
    clock = 1_800_000_000 * SECOND

    async def push(body: dict[str, Any]) -> None:
        response = await client.post(url, json=body)
        assert response.status == 200

    await coordinator.async_start_session()
    for _ in range(60):  # 12 s upright: the detector calibrates
        await push(message(clock))
        clock += SECOND // 5
    to_write: list[float] = []
    for _ in range(RUNS):
        if coordinator.session is not None and not coordinator.session.is_moving:
            await coordinator.async_resume()
        clock += 6 * SECOND  # past the detector's refractory time
        await push(message(clock))
        clock += SECOND // 5
        falling = message(clock, acc=(0.0, GRAVITY, 0.0))  # total 0 g
        clock += SECOND // 5
        writes = len(machine.writes)
        start = time.perf_counter_ns()
        await push(falling)
        written = next(
            (stamp for stamp, data in machine.writes[writes:] if data == PAUSE), None
        )
        assert written is not None, "the free fall did not pause the belt"
        to_write.append((written - start) / 1e6)
        await hass.async_block_till_done()
    print()
    print(f"Webhook push -> FTMS pause command written, {RUNS} runs (ms)")
    _report("push (HTTP) -> pause command written", to_write)
    await hass.config_entries.async_unload(entry.entry_id)
