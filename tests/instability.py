"""Instabilities reported through the station's Sensor Logger webhook.

The detector's output is fixed (``Detector.run``), as in ``test_safety``,
so that a tier can be raised deterministically through the public webhook.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
import itertools
import time
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.retro_walk.detection import Detection, Detector, Tier
from homeassistant.core import HomeAssistant

from .common import STATION_OPTIONS, async_advance
from .sensorlogger import message

WEBHOOK_ID = "retro-walk-test-webhook"
WEBHOOK_OPTIONS: dict[str, Any] = {
    **STATION_OPTIONS,
    "webhook_enabled": True,
    "webhook_id": WEBHOOK_ID,
    "webhook_local_only": True,
}
URL = f"/api/webhook/{WEBHOOK_ID}"


@contextmanager
def detections(*found: tuple[int, str]) -> Iterator[None]:
    """Make the next processed message yield these detections."""
    results = [
        Detection(tier=Tier(tier), kind=kind, time_ns=0, features={"peak": 1.0})
        for tier, kind in found
    ]
    with patch.object(Detector, "run", side_effect=[results]):
        yield


_PUSHES = itertools.count()  # a millisecond later each push: never a duplicate


async def async_push(client: ClientSessionGenerator, start_ns: int = 0) -> None:
    """Push one Sensor Logger message to the station's webhook.

    Stamped with the (frozen) wall clock plus ``start_ns``, as a phone stamps
    its samples: the detector drops samples far from their arrival.
    """
    body = message(time.time_ns() - 2 * 10**8 + start_ns + next(_PUSHES) * 10**6)
    response = await (await client()).post(URL, json=body)
    assert response.status == 200


async def async_stream(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    client: ClientSessionGenerator,
    seconds: float,
) -> None:
    """Push 20-sample batches every 200 ms, as a phone at 100 Hz does."""
    for _ in range(round(seconds / 0.2)):
        await async_push(client)
        await async_advance(hass, freezer, 0.2)


async def async_report(
    hass: HomeAssistant,
    client: ClientSessionGenerator,
    tier: int,
    kind: str,
    *,
    block: bool = True,
) -> None:
    """Have the detector find one instability of ``tier`` in the next push.

    ``block=False`` does not wait for every task to finish (an automation that
    waits for an answer would never finish).
    """
    with detections((tier, kind)):
        await async_push(client)
    if block:
        await hass.async_block_till_done()
