"""Treadmill adapters behind one small interface."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from enum import StrEnum
from typing import Any, TypedDict

type SpeedListener = Callable[[], None]
type EventListener = Callable[["TreadmillEvent"], None]


class MachineInfo(TypedDict, total=False):
    """What a machine says it is (Home Assistant's device registry names)."""

    manufacturer: str
    model: str
    sw_version: str
    hw_version: str


class TreadmillError(Exception):
    """A command to the treadmill failed."""


class TreadmillEvent(StrEnum):
    """Things the machine reports on its own."""

    SAFETY_KEY = "safety_key"  # the walker pulled the safety key
    CONSOLE_PAUSE = "console_pause"  # paused or stopped on the machine's console
    CONNECTION_LOST = "connection_lost"  # the link to the machine broke


class Treadmill(ABC):
    """A belt the station can drive.

    ``speed`` is what the belt measures (km/h), or None when it cannot tell.
    Listeners are called when the measured speed or the availability changes.
    """

    has_belt = True
    # Whether Retro Walk may start the belt and set its speed. Pausing and
    # stopping are always allowed: they only ever make the belt safer.
    remote_control = True

    def __init__(self) -> None:
        """Start without listeners."""
        self._listeners: list[SpeedListener] = []
        self._event_listeners: list[EventListener] = []

    def add_listener(self, listener: SpeedListener) -> Callable[[], None]:
        """Call ``listener`` on changes; returns a function that removes it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def add_event_listener(self, listener: EventListener) -> Callable[[], None]:
        """Call ``listener`` with the machine's own events."""
        self._event_listeners.append(listener)
        return lambda: self._event_listeners.remove(listener)

    def _notify(self) -> None:
        for listener in list(self._listeners):
            listener()

    def _fire(self, event: TreadmillEvent) -> None:
        for listener in list(self._event_listeners):
            listener(event)

    async def async_start(self) -> None:  # noqa: B027 - optional hook
        """Begin watching the machine."""

    async def async_close(self) -> None:  # noqa: B027 - optional hook
        """Stop watching the machine."""

    @property
    def available(self) -> bool:
        """Whether the machine can be commanded now."""
        return True

    @property
    @abstractmethod
    def speed(self) -> float | None:
        """The measured belt speed, km/h."""

    @property
    def telemetry(self) -> dict[str, Any]:
        """What the machine reports beyond its speed (FTMS field names)."""
        return {}

    @property
    def device_info(self) -> MachineInfo:
        """What the machine says it is, as far as it says."""
        return {}

    @property
    def moving(self) -> bool:
        """Whether the belt is known to move."""
        return (self.speed or 0.0) > 0.0

    @abstractmethod
    async def async_set_speed(self, speed: float) -> None:
        """Run the belt at ``speed`` km/h (starting it when needed)."""

    @abstractmethod
    async def async_pause(self) -> None:
        """Pause the belt, keeping the machine's own session."""

    @abstractmethod
    async def async_stop(self) -> None:
        """Stop the belt and end the machine's session."""


class NoTreadmill(Treadmill):
    """A hallway or outdoor station: nothing to drive."""

    has_belt = False

    @property
    def speed(self) -> float | None:
        """No belt, no measurement."""
        return None

    async def async_set_speed(self, speed: float) -> None:
        """Nothing to do."""

    async def async_pause(self) -> None:
        """Nothing to do."""

    async def async_stop(self) -> None:
        """Nothing to do."""
