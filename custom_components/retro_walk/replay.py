"""Replay Sensor Logger recordings through the instability detector.

    python -m custom_components.retro_walk.replay FILE [FILE ...]

Each FILE holds one Sensor Logger push message (the JSON body of an HTTP Push
or the payload of an MQTT message) per line; blank lines are skipped. Every
file gets its own detector (a new session), fed the messages in file order.
Each detection is printed to stdout as one JSON object on its own line::

    {"file": "rec.jsonl", "time": 1714550400123000000, "tier": 1, "kind": "spin"}

``time`` is the epoch-nanosecond time of the sample the detection fired at.
Nothing else goes to stdout: a malformed line (bad JSON or a message the
parser rejects) is reported on stderr with its line number and skipped.
Exit status: 0, or 2 for a usage error or a file that cannot be read.

No Home Assistant import: the same code serves the evaluation
(``scripts/evaluate``), which replays its generated recordings with
``replay_file``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
import json
import sys
from typing import TextIO

from .detection.detector import Detection, Detector, DetectorConfig
from .detection.samples import MessageError, parse_message

type ErrorHandler = Callable[[int, str], None]


@dataclass(frozen=True, slots=True)
class ReplayResult:
    """What one file gave: its detections and how many lines were skipped."""

    detections: list[Detection]
    messages: int
    skipped: int


def replay_lines(
    lines: Iterable[str | bytes],
    detector: Detector,
    on_error: ErrorHandler | None = None,
) -> ReplayResult:
    """Feed message lines to ``detector`` in order; report bad lines to ``on_error``.

    ``on_error`` gets the 1-based line number and a short description.
    """
    detections: list[Detection] = []
    messages = skipped = 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            batch = parse_message(json.loads(line))
        except (ValueError, RecursionError) as err:
            # JSONDecodeError, UnicodeDecodeError and MessageError are ValueErrors.
            skipped += 1
            if on_error is not None:
                reason = err.reason if isinstance(err, MessageError) else "bad_json"
                on_error(number, f"{reason}: {err}")
            continue
        messages += 1
        detections.extend(detector.process(batch))
    return ReplayResult(detections, messages, skipped)


def replay_file(
    path: str,
    config: DetectorConfig | None = None,
    on_error: ErrorHandler | None = None,
) -> ReplayResult:
    """Replay one recording file with a fresh detector (raises ``OSError``).

    Lines are read as bytes, so a line that is not UTF-8 is one bad line.
    """
    with open(path, "rb") as stream:  # noqa: PTH123 - the path as given
        return replay_lines(stream, Detector(config), on_error)


def detection_record(path: str, detection: Detection) -> dict[str, object]:
    """The JSON object printed for one detection."""
    return {
        "file": path,
        "time": detection.time_ns,
        "tier": int(detection.tier),
        "kind": detection.kind,
    }


USAGE = """\
usage: python -m custom_components.retro_walk.replay FILE [FILE ...]

Replay Sensor Logger recordings (one push message JSON per line) through the
Retro Walk instability detector, one detector per file, and print one JSON
line per detection: {"file", "time" (epoch ns), "tier", "kind"}.
"""


def main(
    argv: Sequence[str] | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Command-line entry point; returns the exit status."""
    out = sys.stdout if stdout is None else stdout
    err = sys.stderr if stderr is None else stderr
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in {"-h", "--help"}:
        out.write(USAGE)
        return 0
    if args and args[0] == "--":
        args = args[1:]
    if not args:
        err.write(USAGE)
        return 2
    status = 0
    for path in args:

        def report(number: int, message: str, path: str = path) -> None:
            print(f"{path}:{number}: skipped: {message}", file=err)

        try:
            result = replay_file(path, on_error=report)
        except OSError as error:
            print(f"{path}: cannot read: {error.strerror or error}", file=err)
            status = 2
            continue
        for detection in result.detections:
            out.write(json.dumps(detection_record(path, detection)) + "\n")
        out.flush()
    return status


if __name__ == "__main__":
    sys.exit(main())
