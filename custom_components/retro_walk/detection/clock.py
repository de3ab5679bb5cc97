"""The detector's sample clock: which samples of a message it may use.

Pure Python and numpy (no Home Assistant import). A phone's timestamps are
trusted only as far as they are plausible, and no single sample or message
can move the clock far:

- **order**: a sample not newer than the newest accepted one is dropped
  (``duplicate`` when equal to it, ``out_of_order`` when older): a message
  delivered twice or late, or a phone clock that stepped back.
- **jumps** (every mode): a sample more than ``CONTINUITY_S`` after the newest
  accepted one (the first sample of a session, the first after a pause, or a
  bogus time) is held until the next sample. It is used when that next sample
  follows it within ``CONTINUITY_S`` (a stream resumed, the usual case);
  otherwise it is dropped as ``unconfirmed_jump`` (a lone far-future time:
  the old timeline goes on; or a sample alone in time, which carries no
  motion information anyway). So one bad sample moves the clock by at most
  ``CONTINUITY_S``, and samples spaced wider than that cost nothing.
- **receive time** (when the caller passes ``received_ns``, the receiver's
  epoch-ns clock when the message arrived): a sample must lie within
  ``[expected - LATE_S, expected + EARLY_S]``, ``expected`` being
  ``received_ns`` plus the phone's clock offset (below); otherwise it is
  dropped as ``too_far_ahead`` or ``too_old``. A message's samples therefore
  span at most ``EARLY_S + LATE_S`` of time, which bounds what one message
  can cost whatever its timestamps.
- **clock offset**: each message whose samples' median time is within
  ``MAX_SKEW_S`` of ``received_ns`` gives one observation (median time minus
  receive time: the phone's clock offset minus the batching and delivery
  delay). The offset is the median of the last ``OFFSET_MESSAGES``
  observations once there are ``OFFSET_MIN_MESSAGES`` of them (zero before):
  a phone whose clock is consistently off by seconds works after a few
  messages, while one bad message (or a minority of bad samples in a
  message, through the per-message median) never moves it.

The bounds, with Sensor Logger batching up to ~1 s per message:

``EARLY_S`` = 2 s
    A message's newest sample is up to half a batch (0.5 s) ahead of its
    median, and a message delivered faster than usual is ahead by the usual
    delay (≲ 0.5 s); the rest is margin. Before the offset is learnt it is
    also the clock skew tolerated.
``LATE_S`` = 5 s
    Half a batch (0.5 s) plus a delivery held up by Wi-Fi power saving or
    TCP retransmissions (1 s, then 2 s): older samples describe a walker as
    they were, not as they are, and a session's first message that old is
    a stale backlog (it must not calibrate the upright posture).
``MAX_SKEW_S`` = 30 s
    Phones keep network time to well under a second; tens of seconds means a
    broken clock, or a bogus message.
``CONTINUITY_S`` = 0.1 s
    Five 50 Hz periods, ten at 100 Hz: longer is a hole in the stream, which
    the attitude filter and the gait grid do not bridge either.

Without ``received_ns`` (the replay tool, the evaluation) recorded times are
trusted apart from the order and jump rules. Dropped samples never move the
clock; ``dropped`` counts them by reason.
"""

from __future__ import annotations

from collections import Counter, deque
from typing import Final

import numpy as np
import numpy.typing as npt

type IntArray = npt.NDArray[np.int64]
type FloatArray = npt.NDArray[np.float64]

_NS: Final = 1_000_000_000
EARLY_S: Final = 2.0
LATE_S: Final = 5.0
MAX_SKEW_S: Final = 30.0
CONTINUITY_S: Final = 0.1
OFFSET_MESSAGES: Final = 7
OFFSET_MIN_MESSAGES: Final = 3

_EARLY_NS: Final = int(EARLY_S * _NS)
_LATE_NS: Final = int(LATE_S * _NS)
_MAX_SKEW_NS: Final = int(MAX_SKEW_S * _NS)
_CONTINUITY_NS: Final = int(CONTINUITY_S * _NS)

DROP_REASONS: Final = (
    "duplicate",
    "out_of_order",
    "unconfirmed_jump",
    "too_far_ahead",
    "too_old",
)


class SampleClock:
    """Admits the samples of each message that the detector may use."""

    def __init__(self) -> None:
        """Start with no samples seen."""
        self.dropped: Counter[str] = Counter()
        self.reset()

    def reset(self) -> None:
        """Forget the stream, the learnt offset and the counts (a new session)."""
        self.dropped.clear()
        self.last_ns: int | None = None
        """The newest accepted sample: the detector's clock."""
        self._pending_ns: int | None = None
        self._pending_row: FloatArray | None = None
        self._observations: deque[int] = deque(maxlen=OFFSET_MESSAGES)
        self._offset_ns: int | None = None

    @property
    def offset_ns(self) -> int | None:
        """Phone clock minus receiver clock (with the delays), once learnt."""
        return self._offset_ns

    def _observe(self, observation: int) -> None:
        """One message's reading of the offset; the offset is their median.

        Computed once per message with Python ints (a handful of them): numpy's
        median costs more than the rest of the clock on a small push.
        """
        self._observations.append(observation)
        count = len(self._observations)
        if count < OFFSET_MIN_MESSAGES:
            return
        ordered = sorted(self._observations)
        middle = count // 2
        self._offset_ns = (
            ordered[middle]
            if count % 2
            else (ordered[middle - 1] + ordered[middle]) // 2
        )

    @property
    def pending(self) -> bool:
        """A sample is held until the next one confirms it."""
        return self._pending_ns is not None

    def admit(
        self, times: IntArray, rows: FloatArray, received_ns: int | None = None
    ) -> tuple[IntArray, FloatArray]:
        """The samples to use, in time order: times and their ``rows``.

        ``rows`` has one row per sample (any width); a held sample's row is
        kept and returned with the samples that confirm it.
        """
        if received_ns is not None and times.shape[0]:
            plausible = self._plausible(times, int(received_ns))
            if not plausible.all():
                times, rows = times[plausible], rows[plausible]
        if times.shape[0] == 0:
            return times, rows
        last = self.last_ns
        steps = np.diff(times)
        if (
            self._pending_ns is None
            and last is not None
            and 0 < int(times[0]) - last <= _CONTINUITY_NS
            and (
                steps.shape[0] == 0
                or 0 < int(steps.min()) <= int(steps.max()) <= _CONTINUITY_NS
            )
        ):
            # The usual message: continuous, in order, right after the last.
            self.last_ns = int(times[-1])
            return times, rows
        return self._admit_each(times, rows)

    def _plausible(self, times: IntArray, received_ns: int) -> npt.NDArray[np.bool_]:
        """Samples close enough to the receive time; learns the offset."""
        # A parsed batch's times ascend (SampleBatch): the middle one is its
        # median (for any other order it is still one of its samples' readings,
        # and the offset is a median over messages).
        observation = int(times[times.shape[0] // 2]) - received_ns
        if abs(observation) <= _MAX_SKEW_NS:
            self._observe(observation)
        offset = self.offset_ns or 0
        # Python ints: times near 2**63 must not wrap around.
        low = max(received_ns + offset - _LATE_NS, 0)
        high = min(received_ns + offset + _EARLY_NS, 2**63 - 1)
        if low <= int(times.min()) and int(times.max()) <= high:
            return np.ones(times.shape[0], dtype=np.bool_)  # the usual message
        ahead = times > high
        old = times < low
        if ahead.any():
            self.dropped["too_far_ahead"] += int(ahead.sum())
        if old.any():
            self.dropped["too_old"] += int(old.sum())
        return ~(ahead | old)

    def _admit_each(
        self,
        times: IntArray,
        rows: FloatArray,
    ) -> tuple[IntArray, FloatArray]:
        """The order and jump rules, one sample at a time (untidy messages)."""
        kept_times: list[int] = []
        kept_rows: list[FloatArray] = []
        dropped = self.dropped
        last = self.last_ns
        pending, pending_row = self._pending_ns, self._pending_row
        for index in range(times.shape[0]):
            time = int(times[index])
            if last is not None and time <= last:
                dropped["duplicate" if time == last else "out_of_order"] += 1
                continue
            if pending is not None:
                if time == pending:
                    dropped["duplicate"] += 1
                    continue
                if time > pending and time - pending <= _CONTINUITY_NS:
                    assert pending_row is not None  # noqa: S101 - set together
                    kept_times += (pending, time)
                    kept_rows += (pending_row, rows[index])
                    last, pending, pending_row = time, None, None
                    continue
                # Not confirmed: the old timeline goes on, or another jump.
                dropped["unconfirmed_jump"] += 1
                pending, pending_row = None, None
            if last is None or time - last > _CONTINUITY_NS:
                pending, pending_row = time, rows[index].copy()
                continue
            kept_times.append(time)
            kept_rows.append(rows[index])
            last = time
        self.last_ns = last
        self._pending_ns, self._pending_row = pending, pending_row
        if not kept_times:
            return np.empty(0, dtype=np.int64), np.empty((0, rows.shape[1]))
        return np.array(kept_times, dtype=np.int64), np.stack(kept_rows)
