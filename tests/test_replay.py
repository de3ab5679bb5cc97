"""The replay tool: recordings in, one JSON line per detection out."""

from __future__ import annotations

import io
import json
from pathlib import Path
import subprocess
import sys

import pytest

from custom_components.retro_walk.replay import USAGE, main, replay_file
from evaluation import synthetic
from evaluation.sensorlogger import ClientStyle, write_recording

REPO = Path(__file__).resolve().parents[1]


def record(path: Path, kind: str | None, style: ClientStyle, seed: int = 0) -> int:
    """Write a walking recording (with an event) and return its onset (ns)."""
    motion = (
        synthetic.with_event(kind, seed) if kind else synthetic.walking(30.0, seed=seed)
    )
    write_recording(
        path, motion.time_ns, motion.acc, motion.gyro, style, session_id=path.stem
    )
    return motion.onset_ns


def run_main(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main(list(args), stdout=out, stderr=err)
    return status, out.getvalue(), err.getvalue()


@pytest.fixture
def recordings(tmp_path: Path) -> dict[str, Path | int]:
    fall = tmp_path / "fall.jsonl"
    onset = record(fall, "slip", ClientStyle("ios", negate=True, batch_s=1.0))
    quiet = tmp_path / "quiet.jsonl"
    record(quiet, None, ClientStyle("android", batch_s=0.5, gyro_offset_ns=4_000_000))
    return {"fall": fall, "quiet": quiet, "onset": onset}


def test_prints_one_json_line_per_detection(recordings: dict[str, Path | int]) -> None:
    fall, quiet, onset = recordings["fall"], recordings["quiet"], recordings["onset"]
    assert isinstance(onset, int)
    status, out, err = run_main(str(fall), str(quiet))
    assert status == 0
    assert err == ""
    lines = [json.loads(line) for line in out.splitlines()]
    assert [(r["file"], r["tier"], r["kind"]) for r in lines] == [
        (str(fall), 1, lines[0]["kind"]),
        (str(fall), 2, "fall"),
    ]
    assert set(lines[0]) == {"file", "time", "tier", "kind"}
    assert lines[0]["kind"] in {"spin", "drop", "free_fall", "impact"}
    assert 0 < lines[0]["time"] - onset <= 600_000_000
    assert lines[0]["time"] < lines[1]["time"]


def test_one_detector_per_file(recordings: dict[str, Path | int]) -> None:
    fall = recordings["fall"]
    _, out, _ = run_main(str(fall), str(fall))
    lines = [json.loads(line) for line in out.splitlines()]
    # The second pass is a new session: the same detections again.
    assert len(lines) == 4
    assert lines[:2] == lines[2:]


def test_bad_lines_are_reported_and_skipped(
    tmp_path: Path, recordings: dict[str, Path | int]
) -> None:
    fall = recordings["fall"]
    assert isinstance(fall, Path)
    good = fall.read_bytes().splitlines(keepends=True)
    broken = tmp_path / "broken.jsonl"
    head = b'not json\n\n   \n{"messageId": 1}\n[1, 2]\n\xff\xfe garbage\n'
    broken.write_bytes(head + b"".join(good) + b'{"truncated": \n')
    status, out, err = run_main(str(broken))
    assert status == 0
    assert len(out.splitlines()) == 2  # the detections of the good lines
    reported = err.splitlines()
    assert [line.split(":")[1] for line in reported] == [
        "1",
        "4",
        "5",
        "6",
        str(len(good) + 7),
    ]
    assert "bad_json" in reported[0]
    assert "missing_field" in reported[1]
    assert "not_an_object" in reported[2]
    assert all(line.startswith(str(broken)) for line in reported)


def test_missing_file_exits_2_but_replays_the_others(
    recordings: dict[str, Path | int], tmp_path: Path
) -> None:
    missing = tmp_path / "missing.jsonl"
    status, out, err = run_main(str(missing), str(recordings["fall"]))
    assert status == 2
    assert str(missing) in err
    assert len(out.splitlines()) == 2


def test_usage() -> None:
    assert run_main() == (2, "", USAGE)
    status, out, err = run_main("--help")
    assert (status, out, err) == (0, USAGE, "")
    status, out, _ = run_main("--")
    assert (status, out) == (2, "")


def test_directory_is_not_a_recording(tmp_path: Path) -> None:
    status, out, err = run_main(str(tmp_path))
    assert status == 2
    assert out == ""
    assert "cannot read" in err


def test_replay_file_api(recordings: dict[str, Path | int]) -> None:
    result = replay_file(str(recordings["quiet"]))
    assert result.detections == []
    assert result.messages > 50
    assert result.skipped <= 1  # at most a last message with only gyroscope samples


def test_command_line(recordings: dict[str, Path | int]) -> None:
    fall = str(recordings["fall"])
    completed = subprocess.run(  # noqa: S603 - fixed arguments
        [sys.executable, "-m", "custom_components.retro_walk.replay", fall],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == run_main(fall)[1]
    missing = subprocess.run(
        [sys.executable, "-m", "custom_components.retro_walk.replay"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert missing.returncode == 2
    assert missing.stdout == ""
