"""Sensor Logger HTTP Push messages, as the iOS and Android apps send them."""

from __future__ import annotations

from typing import Any

GRAVITY = 9.80665


def message(
    start_ns: int,
    *,
    count: int = 20,
    rate_hz: float = 100.0,
    style: str = "ios",
    message_id: int = 1,
    acc: tuple[float, float, float] = (0.0, 0.0, 0.0),
    gyro: tuple[float, float, float] = (0.0, 0.0, 0.0),
) -> dict[str, Any]:
    """A push of ``count`` samples of a walker standing upright (plus ``acc``).

    iOS sends ``accelerometer`` without gravity and ``gravity``; Android sends
    ``totalacceleration`` with gravity. Gravity points along -y (phone upright
    on the lower back). Each sensor has its own timestamps, as in the apps.
    """
    step = int(1e9 / rate_hz)
    payload: list[dict[str, Any]] = []
    for index in range(count):
        time_ns = start_ns + index * step
        linear = {"x": acc[0], "y": acc[1], "z": acc[2]}
        if style == "ios":
            payload.append({"name": "accelerometer", "time": time_ns, "values": linear})
            payload.append(
                {
                    "name": "gravity",
                    "time": time_ns + 1000,
                    "values": {"x": 0.0, "y": -GRAVITY, "z": 0.0},
                }
            )
        else:
            payload.append(
                {
                    "name": "totalacceleration",
                    "time": time_ns,
                    "values": {"x": acc[0], "y": acc[1] - GRAVITY, "z": acc[2]},
                }
            )
        payload.append(
            {
                "name": "gyroscope",
                "time": time_ns + 2000,
                "values": {"x": gyro[0], "y": gyro[1], "z": gyro[2]},
            }
        )
    payload.append(
        {"name": "battery", "time": start_ns, "values": {"batteryLevel": 0.8}}
    )
    return {
        "messageId": message_id,
        "sessionId": "3f1e5c2a-0000-4000-8000-000000000001",
        "deviceId": "retro-walk-test-phone",
        "payload": payload,
    }
