"""A simulated treadmill for the demo station: a belt that ramps like a real one."""

from __future__ import annotations

from collections.abc import Callable

from . import Treadmill

# Real treadmills change speed gradually; about 1 km/h per second.
ACCELERATION_KMH_PER_S = 1.0


class SimulatedTreadmill(Treadmill):
    """A belt whose speed ramps towards its target over time.

    Pure Python: ``clock`` returns seconds; the speed is derived from it.
    """

    def __init__(self, clock: Callable[[], float]) -> None:
        """Start with the belt still."""
        super().__init__()
        self._clock = clock
        self._from_speed = 0.0
        self._since = clock()
        self._target = 0.0

    @property
    def target(self) -> float:
        """The speed the belt is heading to."""
        return self._target

    @property
    def speed(self) -> float:
        """The belt speed now, km/h."""
        elapsed = max(self._clock() - self._since, 0.0)
        step = ACCELERATION_KMH_PER_S * elapsed
        if self._target >= self._from_speed:
            return round(min(self._from_speed + step, self._target), 2)
        return round(max(self._from_speed - step, self._target), 2)

    def _head_to(self, target: float) -> None:
        self._from_speed = self.speed
        self._since = self._clock()
        self._target = max(target, 0.0)
        self._notify()

    async def async_set_speed(self, speed: float) -> None:
        """Ramp to ``speed``."""
        self._head_to(speed)

    async def async_pause(self) -> None:
        """Ramp down to a standstill."""
        self._head_to(0.0)

    async def async_stop(self) -> None:
        """Ramp down to a standstill."""
        self._head_to(0.0)
