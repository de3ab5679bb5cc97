"""Load run: many stations streaming Sensor Logger pushes into a real Home Assistant.

Starts ``python -m homeassistant`` on a fresh config dir (onboarded like the
demo) with ``--stations`` simulated-treadmill stations, each with its webhook
on; starts a session on every station; then streams real walking (the gaitpy
lower-back recording, looped) to every station at ``--rate`` Hz in batches of
``--batch-ms`` for ``--seconds``, all on 127.0.0.1. Prints Home Assistant's CPU
share of one core, its memory before and after, the pushes that failed
(dropped) or completed more than one batch period after they were due (late),
and whether any station's safety loop paused its belt (a stream that looked
lost would). Nothing is asserted.

With ``--transport mqtt`` the phones publish the same messages to a real
Mosquitto broker on 127.0.0.1 instead (one topic per station,
``retrowalk/load/NN``), which Home Assistant's MQTT integration, pointed at it,
delivers to each station: the clinic's fan-in. The round trip of a publish
cannot be seen from outside, so it prints ``n/a``; dropped messages are those
published but never processed by their station (its diagnostics count them).

Usage: ``python -m benchmarks.load [--stations 50] [--rate 100] [--batch-ms 100]
[--seconds 120] [--transport http|mqtt]``
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import datetime
import json
import os
from pathlib import Path
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any
import uuid

import aiohttp
import numpy as np

from evaluation import datasets
from homeassistant.util.ulid import ulid_now
from tests.e2e.hass_process import HassProcess, free_port, wait_for

ROOT = Path(__file__).resolve().parent.parent
GRAVITY = 9.80665


# The demo file's device is put on and taken off in its first 20 and last
# 18 seconds: only the walking in between is streamed.
WORN = (20.0, 150.0)


def _walking(rate_hz: int) -> tuple[np.ndarray, np.ndarray]:
    """Real lower-back walking (m/s², gravity included), resampled to ``rate_hz``."""
    times_ns, acc_g = datasets.load_gaitpy(ROOT / ".cache" / "evaluation")
    grid = np.arange(WORN[0], WORN[1], 1.0 / rate_hz)
    source = times_ns / 1e9
    acc = np.stack([np.interp(grid, source, acc_g[:, k]) for k in range(3)], axis=1)
    return grid, acc * GRAVITY


def _topic(index: int) -> str:
    return f"retrowalk/load/{index:02d}"


def _add_mqtt(config_dir: Path, port: int) -> None:
    """Point Home Assistant's MQTT integration at the broker on 127.0.0.1."""
    path = config_dir / ".storage" / "core.config_entries"
    stored = json.loads(path.read_text())
    template = next(e for e in stored["data"]["entries"] if e["domain"] == "retro_walk")
    stored["data"]["entries"].append(
        {
            **template,
            "entry_id": uuid.uuid4().hex,
            "domain": "mqtt",
            "title": "Load broker",
            "unique_id": None,
            "version": 2,
            "minor_version": 1,
            "data": {"broker": "127.0.0.1", "port": port},
            "options": {},
            "source": "user",
            # Not the station's walkers: MQTT reads its subentries as devices.
            "subentries": [],
        }
    )
    path.write_text(json.dumps(stored))


def _add_stations(
    config_dir: Path, count: int, transport: str = "http"
) -> list[tuple[str, str]]:
    """Replace the demo entry by ``count`` stations; return (entry id, webhook id).

    With MQTT the stations subscribe to their topic and have no webhook.
    """
    path = config_dir / ".storage" / "core.config_entries"
    stored = json.loads(path.read_text())
    template = next(e for e in stored["data"]["entries"] if e["domain"] == "retro_walk")
    others = [e for e in stored["data"]["entries"] if e["domain"] != "retro_walk"]
    stations = []
    for index in range(count):
        entry_id = uuid.uuid4().hex
        webhook_id = secrets.token_hex(16)
        entry = {
            **template,
            "entry_id": entry_id,
            "unique_id": f"load_{index:02d}",
            "title": f"Load {index:02d}",
            "data": {**template["data"], "name": f"Load {index:02d}"},
            # One walker per station: a walker walks on one belt at a time.
            "subentries": [
                {
                    **template["subentries"][0],
                    "subentry_id": ulid_now(),
                    "title": f"Walker {index:02d}",
                }
            ],
            "options": {
                **template["options"],
                "webhook_enabled": True,
                "webhook_local_only": True,
                "webhook_id": webhook_id,
            },
        }
        if transport == "mqtt":
            options = {
                key: value
                for key, value in entry["options"].items()
                if key not in ("webhook_id", "webhook_local_only")
            }
            entry["options"] = {
                **options,
                "webhook_enabled": False,
                "mqtt_topic": _topic(index),
            }
        others.append(entry)
        stations.append((entry_id, webhook_id))
    stored["data"]["entries"] = others
    path.write_text(json.dumps(stored))
    return stations


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime + stime
    return ticks / os.sysconf("SC_CLK_TCK")


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class _Timeline:
    """A phone's sensor clock: where each batch's samples lie in time.

    A phone stamps its samples as its sensors take them, one period apart,
    and publishes a batch once it is full: batch ``n`` holds the samples of
    the period before it is due. Stamping a batch with the time it is sent
    instead would, for a sender that fell behind and catches up, give
    batches that overlap in time, whose samples the detector's clock rightly
    drops as out of order (and the station's stream then looks lost).
    """

    def __init__(self, offset_s: float, per_batch: int, rate_hz: int) -> None:
        self._step_ns = int(1e9 / rate_hz)
        self._per_batch = per_batch
        # The first batch is due ``offset_s`` from now and holds the samples
        # taken in the batch period before that.
        self._origin_ns = time.time_ns() + int(offset_s * 1e9)
        self._origin_ns -= per_batch * self._step_ns

    def batch(self, number: int) -> int:
        """Epoch ns of the first sample of batch ``number``."""
        return self._origin_ns + number * self._per_batch * self._step_ns


def _message(message_id: int, start_ns: int, acc: np.ndarray, rate_hz: int) -> bytes:
    step = int(1e9 / rate_hz)
    payload: list[dict[str, Any]] = []
    for index, (x, y, z) in enumerate(acc):
        time_ns = start_ns + index * step
        payload.append(
            {
                "name": "totalacceleration",
                "time": time_ns,
                "values": {"x": x, "y": y, "z": z},
            }
        )
        payload.append(
            {
                "name": "gyroscope",
                "time": time_ns,
                "values": {"x": 0.0, "y": 0.0, "z": 0.0},
            }
        )
    return json.dumps(
        {
            "messageId": message_id,
            "sessionId": "load",
            "deviceId": "load",
            "payload": payload,
        }
    ).encode()


async def _stream(
    base_url: str,
    webhook_id: str,
    acc: np.ndarray,
    rate_hz: int,
    batch_ms: int,
    seconds: float,
    offset: float,
    results: dict[str, list[float]],
) -> None:
    per_batch = max(1, rate_hz * batch_ms // 1000)
    period = batch_ms / 1000
    url = f"{base_url}/api/webhook/{webhook_id}"
    loop = asyncio.get_running_loop()
    start = loop.time() + offset
    timeline = _Timeline(offset, per_batch, rate_hz)
    async with aiohttp.ClientSession() as session:
        for number in range(int(seconds / period)):
            due = start + number * period
            if (delay := due - loop.time()) > 0:
                await asyncio.sleep(delay)
            first = (number * per_batch) % (len(acc) - per_batch)
            body = _message(
                number, timeline.batch(number), acc[first : first + per_batch], rate_hz
            )
            sent = loop.time()
            try:
                async with session.post(
                    url, data=body, headers={"Content-Type": "application/json"}
                ) as response:
                    ok = response.status == 200
                    await response.read()
            except aiohttp.ClientError:
                ok = False
            done = loop.time()
            results["latency"].append(done - sent)
            if not ok:
                results["dropped"].append(due)
            elif done - due > period:
                results["late"].append(done - due)


def _publish_all(
    broker_port: int,
    count: int,
    acc: np.ndarray,
    rate_hz: int,
    batch_ms: int,
    seconds: float,
    results: dict[str, list[float]],
) -> int:
    """Publish every station's messages on schedule (QoS 0); return how many.

    The client runs in this thread, without paho's network thread: a
    message is then written to the socket when it is published. (With
    ``loop_start()``, a message published from another thread now and then
    waited up to a second, paho's select timeout, for the network thread to
    send it, long enough for a station to find its stream lost.)
    """
    import paho.mqtt.client as paho

    client = paho.Client(
        paho.CallbackAPIVersion.VERSION2,
        client_id=f"load-{uuid.uuid4().hex[:8]}",
        protocol=paho.MQTTv311,
    )
    client.max_queued_messages_set(0)
    client.connect("127.0.0.1", broker_port)
    connecting = time.monotonic() + 30
    while not client.is_connected():
        if time.monotonic() > connecting:
            raise TimeoutError("no CONNACK from the broker in 30 s")
        client.loop(timeout=0.1)
    per_batch = max(1, rate_hz * batch_ms // 1000)
    period = batch_ms / 1000
    published = 0
    start = time.monotonic() + 0.5
    timelines = [
        _Timeline(0.5 + index * period / count, per_batch, rate_hz)
        for index in range(count)
    ]
    try:
        for number in range(int(seconds / period)):
            for index in range(count):
                due = start + number * period + index * period / count
                while (delay := due - time.monotonic()) > 0:
                    client.loop(timeout=delay)  # keep-alive and the broker's acks
                first = (number * per_batch) % (len(acc) - per_batch)
                body = _message(
                    number,
                    timelines[index].batch(number),
                    acc[first : first + per_batch],
                    rate_hz,
                )
                info = client.publish(_topic(index), body, qos=0)
                if info.rc != paho.MQTT_ERR_SUCCESS:
                    results["dropped"].append(due)
                elif time.monotonic() - due > period:
                    results["late"].append(time.monotonic() - due)
                published += 1
        client.loop(timeout=0.1)  # whatever the socket did not take at once
    finally:
        client.disconnect()
    return published


def _processed(hass: HassProcess, entry_ids: list[str]) -> int:
    """Messages the stations' motion inputs have taken (their diagnostics)."""
    total = 0
    for entry_id in entry_ids:
        data = hass.get(f"/api/diagnostics/config_entry/{entry_id}")["data"]
        total += int(data["safety"]["motion"]["messages"])
    return total


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stations", type=int, default=50)
    parser.add_argument("--rate", type=int, default=100, help="samples per second")
    parser.add_argument("--batch-ms", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--transport", choices=("http", "mqtt"), default="http")
    return parser.parse_args(argv)


def _prepare(
    args: argparse.Namespace, work: Path
) -> tuple[HassProcess, list[tuple[str, str]], Any]:
    """An onboarded config dir with the stations (and the broker, for MQTT)."""
    config_dir, token_file, port = work / "config", work / "token", free_port()
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "onboard.py"),
            "--config-dir",
            str(config_dir),
            "--token-file",
            str(token_file),
            "--port",
            str(port),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    stations = _add_stations(config_dir, args.stations, args.transport)
    broker = None
    if args.transport == "mqtt":
        from tests.mosquitto import MosquittoBroker

        broker = MosquittoBroker(workdir=work / "mosquitto")
        broker.start()
        _add_mqtt(config_dir, broker.port)
    hass = HassProcess(
        config_dir=config_dir,
        token=token_file.read_text().strip(),
        port=port,
        logs=work,
    )
    return hass, stations, broker


def _start_sessions(hass: HassProcess, stations: list[tuple[str, str]]) -> None:
    wait_for(
        "every station",
        lambda: (
            hass.template(
                '{{ states.sensor | selectattr("entity_id", "search", "session_state")'
                " | list | count }}"
            ).strip()
            == str(len(stations))
        ),
        120,
    )
    for entry_id, _ in stations:
        hass.call(
            "retro_walk",
            "start_session",
            {"config_entry_id": entry_id, "program": "custom", "backward_minutes": 30},
        )


def _run_http(
    hass: HassProcess,
    stations: list[tuple[str, str]],
    acc: np.ndarray,
    args: argparse.Namespace,
    results: dict[str, list[float]],
) -> int:
    async def run() -> None:
        await asyncio.gather(
            *(
                _stream(
                    hass.base_url,
                    webhook_id,
                    acc,
                    args.rate,
                    args.batch_ms,
                    args.seconds,
                    index * args.batch_ms / 1000 / args.stations,
                    results,
                )
                for index, (_, webhook_id) in enumerate(stations)
            )
        )

    asyncio.run(run())
    return len(results["latency"])


def _wait_subscribed(
    hass: HassProcess,
    broker_port: int,
    entry_ids: list[str],
    acc: np.ndarray,
    rate: int,
) -> None:
    """Home Assistant subscribes after a cool-down: wait until every station hears."""

    def heard() -> bool:
        _publish_all(broker_port, len(entry_ids), acc, rate, 1000, 1, {})
        return all(
            hass.get(f"/api/diagnostics/config_entry/{entry_id}")["data"]["safety"][
                "motion"
            ]["messages"]
            for entry_id in entry_ids
        )

    wait_for("every station's MQTT subscription", heard, 120)


def _pauses_while_streaming(hass: HassProcess, stream_end: float) -> list[str]:
    """The kinds of the stations' safety pauses raised before the stream ended.

    Every station's stream stops when the run does, and its safety loop
    rightly pauses its belt a second later (``stream_lost``): those pauses,
    raised after ``stream_end`` (epoch s), are the end of the run, not
    findings. Only each station's latest tier-1 or tier-2 event can be read;
    a pause during the run stops that station's belt, and with it the stream
    watch, so no ``stream_lost`` can hide it afterwards.
    """
    rendered = hass.template(
        "[{% for event in states.event if 'instability' in event.entity_id"
        " and event.attributes.event_type in ['pause_now', 'confirmed_fall'] %}"
        "{{ [event.state, event.attributes.kind | default('')] | tojson }}"
        "{{ '' if loop.last else ',' }}{% endfor %}]"
    )
    return [
        kind
        for fired, kind in json.loads(rendered)
        if datetime.fromisoformat(fired).timestamp() <= stream_end
    ]


def _report(
    hass: HassProcess,
    args: argparse.Namespace,
    figures: dict[str, Any],
    results: dict[str, list[float]],
    pushes: int,
) -> None:
    pauses = figures["pauses"]
    latencies = sorted(results["latency"])
    print(f"Home Assistant started in {figures['took']:.1f} s")
    print(
        f"Load: {args.stations} stations x {args.rate} Hz in {args.batch_ms} ms"
        f" batches for {args.seconds:.0f} s over {args.transport} ({pushes} pushes)"
    )
    print(f"  Home Assistant CPU: {100 * figures['cpu']:.1f} % of one core")
    print(
        f"  memory (RSS): {figures['rss_before']:.0f} MiB before,"
        f" {figures['rss_after']:.0f} MiB after"
    )
    if latencies:
        print(
            f"  push round trip: median {1000 * statistics.median(latencies):.1f}"
            f" ms, p99 {1000 * latencies[int(0.99 * len(latencies))]:.1f} ms"
        )
    else:
        print("  push round trip: n/a (MQTT: publish to processing is not visible)")
    print(f"  dropped pushes: {len(results['dropped'])}")
    print(f"  late pushes (done > one batch period after due): {len(results['late'])}")
    print(
        f"  stations paused by their safety loop: {len(pauses)} of {args.stations}"
        f" (kinds: {sorted(pauses)})"
    )


def main(argv: list[str] | None = None) -> int:
    """Run the load and print the figures."""
    args = _arguments(argv)
    _, acc = _walking(args.rate)
    hass, stations, broker = _prepare(
        args, Path(tempfile.mkdtemp(prefix="retro-walk-load-"))
    )
    entry_ids = [entry_id for entry_id, _ in stations]
    results: dict[str, list[float]] = {"latency": [], "dropped": [], "late": []}
    try:
        figures: dict[str, Any] = {"took": hass.start()}
        assert hass.proc is not None
        pid = hass.proc.pid
        processed_before = 0
        if broker is not None:
            # Before the sessions: a station whose stream has not started
            # within its grace time pauses for safety.
            _wait_subscribed(hass, broker.port, entry_ids, acc, args.rate)
        _start_sessions(hass, stations)
        if broker is not None:
            processed_before = _processed(hass, entry_ids)
        figures["rss_before"] = _rss_mib(pid)
        cpu_before, wall_before = _cpu_seconds(pid), time.monotonic()
        if broker is None:
            pushes = _run_http(hass, stations, acc, args, results)
        else:
            pushes = _publish_all(
                broker.port,
                args.stations,
                acc,
                args.rate,
                args.batch_ms,
                args.seconds,
                results,
            )
        figures["cpu"] = (_cpu_seconds(pid) - cpu_before) / (
            time.monotonic() - wall_before
        )
        stream_end = time.time()
        figures["rss_after"] = _rss_mib(pid)
        figures["pauses"] = _pauses_while_streaming(hass, stream_end)
        if broker is not None:
            time.sleep(2.0)  # let the last messages through
            processed = _processed(hass, entry_ids) - processed_before
            results["dropped"] += [0.0] * max(0, pushes - processed)
        _report(hass, args, figures, results, pushes)
    finally:
        hass.kill()
        if broker is not None:
            broker.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
