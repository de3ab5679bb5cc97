"""FTMS bytes: every field the treadmill parser reads, and bad packets never raising.

Expected packets are built by hand with :mod:`struct` from the FTMS 1.0
specification, independently of the module under test.
"""

from __future__ import annotations

import random
import struct

import pytest

from custom_components.retro_walk.treadmill.ftms_protocol import (
    FTMS_SERVICE_UUID,
    TREADMILL_DATA_UUID,
    ControlOpCode,
    ControlResponse,
    Features,
    MachineFeature,
    MachineStatus,
    MachineStatusCode,
    MachineType,
    ResultCode,
    SettingRange,
    StopPause,
    TargetSettingFeature,
    TrainingStatus,
    TrainingStatusCode,
    TreadmillData,
    TreadmillDataAssembler,
    is_treadmill,
    parse_control_response,
    parse_features,
    parse_inclination_range,
    parse_machine_status,
    parse_service_data,
    parse_speed_range,
    parse_training_status,
    parse_treadmill_data,
    request_control,
    reset,
    set_target_inclination,
    set_target_speed,
    start_resume,
    stop_pause,
    uuid16,
)


def test_uuids() -> None:
    assert uuid16(0x1826) == FTMS_SERVICE_UUID
    assert FTMS_SERVICE_UUID == "00001826-0000-1000-8000-00805f9b34fb"
    assert TREADMILL_DATA_UUID == "00002acd-0000-1000-8000-00805f9b34fb"


# Advertisement --------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "available", "machine_type"),
    [
        (b"\x01\x01\x00", True, MachineType.TREADMILL),
        (b"\x00\x01\x00", False, MachineType.TREADMILL),
        (b"\x01\x20\x00", True, MachineType.INDOOR_BIKE),
        (b"\x01\x10\x00", True, MachineType.ROWER),
        (b"\x01\x03\x00", True, MachineType.TREADMILL | MachineType.CROSS_TRAINER),
        (b"\x01\x01", True, MachineType.TREADMILL),  # one type byte
        (b"\x01\x00\x01", True, MachineType.TREADMILL),  # bytes swapped
        (b"\x01\x00\x40", True, MachineType(0)),  # reserved bits only
        (b"\x01\x01\x00\xff", True, MachineType.TREADMILL),  # a trailing byte
    ],
)
def test_service_data(data: bytes, available: bool, machine_type: MachineType) -> None:
    assert parse_service_data(data) == (available, machine_type)


@pytest.mark.parametrize("data", [b"", b"\x01"])
def test_service_data_too_short(data: bytes) -> None:
    assert parse_service_data(data) is None


@pytest.mark.parametrize(
    ("service_data", "expected"),
    [
        ({FTMS_SERVICE_UUID: b"\x01\x01\x00"}, True),
        ({FTMS_SERVICE_UUID: b"\x00\x01\x00"}, False),  # not available
        ({FTMS_SERVICE_UUID: b"\x01\x20\x00"}, False),  # a bike
        ({FTMS_SERVICE_UUID: b"\x01"}, False),
        ({uuid16(0x180D): b"\x01\x01\x00"}, False),  # no FTMS service data
        ({}, False),
    ],
)
def test_is_treadmill(service_data: dict[str, bytes], expected: bool) -> None:
    assert is_treadmill(service_data) is expected


# Features and ranges --------------------------------------------------------


def test_features_every_flag() -> None:
    features = parse_features(struct.pack("<II", 0x1FFFF, 0x1FFFF))
    assert features is not None
    assert features.machine == MachineFeature(0x1FFFF)
    assert features.target_settings == TargetSettingFeature(0x1FFFF)
    assert features.properties == [
        "speed_instant",
        "speed_average",
        "distance_total",
        "inclination",
        "ramp_angle",
        "elevation_gain_positive",
        "elevation_gain_negative",
        "pace_instant",
        "pace_average",
        "energy_total",
        "energy_per_hour",
        "energy_per_minute",
        "heart_rate",
        "metabolic_equivalent",
        "time_elapsed",
        "time_remaining",
        "force_on_belt",
        "power_output",
    ]
    assert features.settings == ["target_speed", "target_inclination"]


@pytest.mark.parametrize(
    ("machine", "settings", "properties", "targets"),
    [
        (0, 0, ["speed_instant"], []),
        (1 << 2, 1 << 0, ["speed_instant", "distance_total"], ["target_speed"]),
        (1 << 12, 1 << 1, ["speed_instant", "time_elapsed"], ["target_inclination"]),
        (1 << 1 | 1 << 14, 1 << 3, ["speed_instant"], []),  # cadence, power: not ours
    ],
)
def test_features(
    machine: int, settings: int, properties: list[str], targets: list[str]
) -> None:
    features = parse_features(struct.pack("<II", machine, settings) + b"\x00")
    assert features is not None
    assert features.properties == properties
    assert features.settings == targets


def test_features_too_short() -> None:
    assert parse_features(b"\x0c\x10\x00\x00\x03\x00\x00") is None
    assert Features().properties == ["speed_instant"]
    assert Features().settings == []


def test_ranges() -> None:
    assert parse_speed_range(struct.pack("<HHH", 50, 1200, 10)) == SettingRange(
        0.5, 12.0, 0.1
    )
    assert parse_inclination_range(struct.pack("<hhH", -30, 150, 5)) == SettingRange(
        -3.0, 15.0, 0.5
    )
    assert parse_speed_range(b"\x32\x00\xb0\x04\x0a") is None
    assert parse_inclination_range(b"") is None


# Treadmill Data ---------------------------------------------------------------

SPEED = struct.pack("<H", 350)  # 3.5 km/h


@pytest.mark.parametrize(
    ("flag", "payload", "values"),
    [
        (1 << 1, struct.pack("<H", 320), {"speed_average": 3.2}),
        (1 << 2, (1234567).to_bytes(3, "little"), {"distance_total": 1234567}),
        (
            1 << 3,
            struct.pack("<hh", -25, -14),
            {"inclination": -2.5, "ramp_angle": -1.4},
        ),
        (
            1 << 4,
            struct.pack("<HH", 123, 45),
            {"elevation_gain_positive": 12.3, "elevation_gain_negative": 4.5},
        ),
        (1 << 5, bytes([58]), {"pace_instant": 5.8}),
        (1 << 6, bytes([61]), {"pace_average": 6.1}),
        (
            1 << 7,
            struct.pack("<HHB", 150, 420, 7),
            {"energy_total": 150, "energy_per_hour": 420, "energy_per_minute": 7},
        ),
        (1 << 7, struct.pack("<HHB", 0xFFFF, 0xFFFF, 0xFF), {}),  # not available
        (1 << 8, bytes([128]), {"heart_rate": 128}),
        (1 << 9, bytes([35]), {"metabolic_equivalent": 3.5}),
        (1 << 10, struct.pack("<H", 3600), {"time_elapsed": 3600}),
        (1 << 11, struct.pack("<H", 600), {"time_remaining": 600}),
        (
            1 << 12,
            struct.pack("<hh", -20, 150),
            {"force_on_belt": -20, "power_output": 150},
        ),
        (1 << 13, b"", {}),  # reserved flags carry no field we know
    ],
)
def test_treadmill_data_each_flag(
    flag: int, payload: bytes, values: dict[str, float]
) -> None:
    packet = parse_treadmill_data(struct.pack("<H", flag) + SPEED + payload)
    assert packet == TreadmillData({"speed_instant": 3.5, **values}, more_data=False)
    # With More Data set, the instantaneous speed is left out.
    packet = parse_treadmill_data(struct.pack("<H", flag | 1) + payload)
    assert packet == TreadmillData(values, more_data=True)


def test_treadmill_data_every_field() -> None:
    data = (
        struct.pack("<H", 0x1FFE)
        + SPEED
        + struct.pack("<H", 300)
        + (4321).to_bytes(3, "little")
        + struct.pack("<hh", 20, 11)
        + struct.pack("<HH", 50, 10)
        + bytes([60, 62])
        + struct.pack("<HHB", 100, 300, 5)
        + bytes([110, 40])
        + struct.pack("<HH", 1800, 900)
        + struct.pack("<hh", 15, 90)
    )
    packet = parse_treadmill_data(data)
    assert packet is not None
    assert not packet.more_data
    assert not packet.truncated
    assert packet.trailing == 0
    assert packet.values == {
        "speed_instant": 3.5,
        "speed_average": 3.0,
        "distance_total": 4321,
        "inclination": 2.0,
        "ramp_angle": 1.1,
        "elevation_gain_positive": 5.0,
        "elevation_gain_negative": 1.0,
        "pace_instant": 6.0,
        "pace_average": 6.2,
        "energy_total": 100,
        "energy_per_hour": 300,
        "energy_per_minute": 5,
        "heart_rate": 110,
        "metabolic_equivalent": 4.0,
        "time_elapsed": 1800,
        "time_remaining": 900,
        "force_on_belt": 15,
        "power_output": 90,
    }


@pytest.mark.parametrize(
    ("data", "values", "truncated", "trailing"),
    [
        (b"\x00\x00", {}, True, 0),  # speed announced, missing
        (b"\x00\x00\x5e", {}, True, 0),  # half a speed
        (b"\x04\x00\x5e\x01\x10\x00", {"speed_instant": 3.5}, True, 0),
        (b"\x01\x00", {}, False, 0),  # More Data, nothing else
        (b"\x00\x00\x5e\x01\xff\xff", {"speed_instant": 3.5}, False, 2),
    ],
)
def test_treadmill_data_malformed(
    data: bytes, values: dict[str, float], truncated: bool, trailing: int
) -> None:
    packet = parse_treadmill_data(data)
    assert packet is not None
    assert packet.values == values
    assert packet.truncated is truncated
    assert packet.trailing == trailing


@pytest.mark.parametrize("data", [b"", b"\x00"])
def test_treadmill_data_without_flags(data: bytes) -> None:
    assert parse_treadmill_data(data) is None


def _packet(values: dict[str, float], *, more_data: bool = False) -> TreadmillData:
    return TreadmillData(values, more_data)


def test_more_data_packets_are_merged() -> None:
    assembler = TreadmillDataAssembler()
    assert assembler.feed(_packet({"distance_total": 10}, more_data=True)) is None
    assert assembler.feed(_packet({"heart_rate": 90}, more_data=True)) is None
    assert assembler.feed(_packet({"speed_instant": 3.0})) == {
        "distance_total": 10,
        "heart_rate": 90,
        "speed_instant": 3.0,
    }
    # A later packet's value wins; the next record starts empty.
    assert assembler.feed(_packet({"speed_instant": 1.0}, more_data=True)) is None
    assert assembler.feed(_packet({"speed_instant": 2.0})) == {"speed_instant": 2.0}


def test_fields_that_disappear_do_not_raise() -> None:
    """pyftms raised KeyError when a field of one record was missing in the next."""
    assembler = TreadmillDataAssembler()
    first = parse_treadmill_data(
        struct.pack("<H", 1 << 3) + SPEED + b"\x0a\x00\x06\x00"
    )
    second = parse_treadmill_data(struct.pack("<H", 0) + SPEED)
    assert first is not None
    assert second is not None
    assert assembler.feed(first) == {
        "speed_instant": 3.5,
        "inclination": 1.0,
        "ramp_angle": 0.6,
    }
    assert assembler.feed(second) == {"speed_instant": 3.5}


def test_more_data_that_never_ends_is_handed_on() -> None:
    assembler = TreadmillDataAssembler(max_packets=3)
    assert assembler.feed(_packet({"a": 1}, more_data=True)) is None
    assert assembler.feed(_packet({"b": 2}, more_data=True)) is None
    assert assembler.feed(_packet({"c": 3}, more_data=True)) == {"a": 1, "b": 2, "c": 3}
    assembler.feed(_packet({"d": 4}, more_data=True))
    assembler.clear()  # the link dropped half-way
    assert assembler.feed(_packet({"e": 5})) == {"e": 5}


# Training Status --------------------------------------------------------------


@pytest.mark.parametrize("code", list(TrainingStatusCode))
def test_training_status_codes(code: TrainingStatusCode) -> None:
    status = parse_training_status(bytes([0x00, code]))
    assert status == TrainingStatus(code)
    assert status.values == {"training_status": code}


def test_training_status_string_and_reserved_codes() -> None:
    status = parse_training_status(b"\x01\x0dQuick start\x00")
    assert status == TrainingStatus(TrainingStatusCode.MANUAL_MODE, "Quick start")
    assert status.values == {
        "training_status": TrainingStatusCode.MANUAL_MODE,
        "training_status_string": "Quick start",
    }
    assert parse_training_status(b"\x01\x01") == TrainingStatus(TrainingStatusCode.IDLE)
    assert parse_training_status(b"\x00\x42") == TrainingStatus(
        TrainingStatusCode.OTHER
    )
    assert parse_training_status(b"\x01\x02\xff") == TrainingStatus(
        TrainingStatusCode.WARMING_UP, "\ufffd"
    )
    assert parse_training_status(b"\x00") is None


# Fitness Machine Status ------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\x01", MachineStatus(0x01, MachineStatusCode.RESET)),
        (
            b"\x02\x01",
            MachineStatus(
                0x02, MachineStatusCode.STOPPED_OR_PAUSED, stop_pause=StopPause.STOP
            ),
        ),
        (
            b"\x02\x02",
            MachineStatus(
                0x02, MachineStatusCode.STOPPED_OR_PAUSED, stop_pause=StopPause.PAUSE
            ),
        ),
        (  # an unknown control information: taken as a stop
            b"\x02\x07",
            MachineStatus(
                0x02, MachineStatusCode.STOPPED_OR_PAUSED, stop_pause=StopPause.STOP
            ),
        ),
        (
            b"\x02",
            MachineStatus(
                0x02,
                MachineStatusCode.STOPPED_OR_PAUSED,
                stop_pause=StopPause.STOP,
                truncated=True,
            ),
        ),
        (b"\x03", MachineStatus(0x03, MachineStatusCode.STOPPED_BY_SAFETY_KEY)),
        (b"\x04", MachineStatus(0x04, MachineStatusCode.STARTED_OR_RESUMED)),
        (
            b"\x05\x5e\x01",
            MachineStatus(
                0x05, MachineStatusCode.TARGET_SPEED_CHANGED, {"target_speed": 3.5}
            ),
        ),
        (
            b"\x05\x5e",
            MachineStatus(0x05, MachineStatusCode.TARGET_SPEED_CHANGED, truncated=True),
        ),
        (
            b"\x06\xf1\xff",
            MachineStatus(
                0x06,
                MachineStatusCode.TARGET_INCLINE_CHANGED,
                {"target_inclination": -1.5},
            ),
        ),
        (
            b"\x06",
            MachineStatus(
                0x06, MachineStatusCode.TARGET_INCLINE_CHANGED, truncated=True
            ),
        ),
        (b"\xff", MachineStatus(0xFF, MachineStatusCode.CONTROL_PERMISSION_LOST)),
        (b"\x07\x32", MachineStatus(0x07, None)),  # resistance: not a treadmill's
        (b"\x14\x01", MachineStatus(0x14, None)),  # spin down
        (b"\x80", MachineStatus(0x80, None)),  # reserved
    ],
)
def test_machine_status(data: bytes, expected: MachineStatus) -> None:
    assert parse_machine_status(data) == expected


def test_machine_status_empty() -> None:
    assert parse_machine_status(b"") is None


# Control point ----------------------------------------------------------------


def test_requests() -> None:
    assert request_control() == b"\x00"
    assert reset() == b"\x01"
    assert set_target_speed(3.5) == b"\x02" + struct.pack("<H", 350)
    assert set_target_speed(0.0) == b"\x02\x00\x00"
    assert set_target_speed(655.35) == b"\x02\xff\xff"
    assert set_target_inclination(-2.5) == b"\x03" + struct.pack("<h", -25)
    assert set_target_inclination(12.34) == b"\x03" + struct.pack("<h", 123)
    assert start_resume() == b"\x07"
    assert stop_pause(StopPause.STOP) == b"\x08\x01"
    assert stop_pause(StopPause.PAUSE) == b"\x08\x02"


@pytest.mark.parametrize("speed", [-0.01, 655.36])
def test_speed_out_of_range(speed: float) -> None:
    with pytest.raises(ValueError, match="speed out of range"):
        set_target_speed(speed)


@pytest.mark.parametrize("incline", [-3276.9, 3276.8])
def test_inclination_out_of_range(incline: float) -> None:
    with pytest.raises(ValueError, match="inclination out of range"):
        set_target_inclination(incline)


@pytest.mark.parametrize("code", list(ResultCode))
def test_responses(code: ResultCode) -> None:
    response = parse_control_response(bytes([0x80, 0x07, code]))
    assert response == ControlResponse(ControlOpCode.START_RESUME, code)
    assert isinstance(response.result, ResultCode)


def test_response_details() -> None:
    # A result code the specification does not define: the number.
    assert parse_control_response(b"\x80\x02\x09") == ControlResponse(0x02, 0x09)
    # A response to another op code is a response all the same: the client
    # matches it to its request.
    assert parse_control_response(b"\x80\x11\x01\x05") == ControlResponse(
        0x11, ResultCode.SUCCESS, b"\x05"
    )
    assert parse_control_response(b"\x80\x07") is None
    assert parse_control_response(b"\x07\x07\x01") is None
    assert parse_control_response(b"") is None


# Nothing a machine sends makes a parser raise ---------------------------------


def test_random_bytes_never_raise() -> None:
    rng = random.Random(1826)  # noqa: S311 - reproducible test data
    parsers = (
        parse_service_data,
        parse_features,
        parse_speed_range,
        parse_inclination_range,
        parse_treadmill_data,
        parse_training_status,
        parse_machine_status,
        parse_control_response,
    )
    assembler = TreadmillDataAssembler()
    for _ in range(3000):
        data = rng.randbytes(rng.randrange(0, 40))
        for parse in parsers:
            parse(data)
        if (packet := parse_treadmill_data(data)) is not None:
            assembler.feed(packet)
        is_treadmill({FTMS_SERVICE_UUID: data})
