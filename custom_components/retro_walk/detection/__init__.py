"""Motion samples and the tiered instability detector (no Home Assistant import).

Contract shared by the integration (webhook, MQTT), the replay tool, the
evaluation and the benchmarks:

- ``parse_message(data)`` turns one decoded Sensor Logger push message (a
  dict) into a ``SampleBatch`` or raises ``MessageError`` whose ``reason`` is a
  short key (see ``samples.py``).
- ``Detector.process(batch, *, received_ns=None)`` consumes samples in time
  order and returns the detections that fired in that batch, each with the
  sample time where it fired. ``received_ns`` (epoch ns, the receiver's clock
  when the message arrived) lets the sample clock (``clock.py``) drop samples
  implausibly far from it; ``Detector.dropped`` counts dropped samples by
  reason. Bounded memory, work bounded by the samples (``Detector.work``),
  not by the time they span.
"""

from __future__ import annotations

from .detector import Detection, Detector, DetectorConfig, Tier
from .samples import MAX_SAMPLES, MessageError, SampleBatch, parse_message

__all__ = [
    "MAX_SAMPLES",
    "Detection",
    "Detector",
    "DetectorConfig",
    "MessageError",
    "SampleBatch",
    "Tier",
    "parse_message",
]
