"""Per-sample cost of the parser and the detector (printed, never asserted)."""

from __future__ import annotations

import json
import time

from custom_components.retro_walk.detection import Detector, parse_message

from .synthetic import walking


def detector_cost_us(
    batch_size: int = 50, seconds: float = 600.0, repeats: int = 3
) -> float:
    """Best-of-``repeats`` microseconds per sample over ``seconds`` of walking."""
    batches = walking(seconds).batches(batch_size)
    samples = sum(len(batch) for batch in batches)
    best = float("inf")
    for _ in range(repeats):
        detector = Detector()
        start = time.perf_counter()
        for batch in batches:
            detector.process(batch)
        best = min(best, time.perf_counter() - start)
    return best / samples * 1e6


def parse_cost_us(batch_size: int = 50, messages: int = 200) -> float:
    """Microseconds per sample to decode and parse Android-style messages."""
    motion = walking(batch_size * messages / 50.0)
    lines = []
    for m in range(messages):
        part = slice(m * batch_size, (m + 1) * batch_size)
        payload = [
            {"name": name, "time": int(t), "values": {"x": x, "y": y, "z": z}}
            for name, values in (
                ("totalacceleration", motion.acc[part]),
                ("gyroscope", motion.gyro[part]),
            )
            for t, (x, y, z) in zip(
                motion.time_ns[part].tolist(), values.tolist(), strict=True
            )
        ]
        lines.append(
            json.dumps(
                {"messageId": m, "sessionId": "s", "deviceId": "d", "payload": payload}
            )
        )
    start = time.perf_counter()
    for line in lines:
        parse_message(json.loads(line))
    return (time.perf_counter() - start) / (batch_size * messages) * 1e6
