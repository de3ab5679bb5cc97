"""The Fitness Machine Service (FTMS 1.0) of a treadmill, as bytes.

Parsing and building of what travels over the air, written from the Bluetooth
SIG's FTMS 1.0 specification (section numbers below refer to it). No I/O, no
Home Assistant, no bleak: the client in ``ftms_client`` does the talking.

Parsers never raise on what a machine sends: a packet too short for what its
flags announce gives what could be read (``truncated``), a packet that cannot
be read at all gives None. Field names are the integration's telemetry keys
(``speed_instant``, ``distance_total``, ``inclination``, ``time_elapsed``,
``target_speed``, ``training_status``...).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum, IntFlag
import struct
from typing import Final, NamedTuple


def uuid16(short: int) -> str:
    """The 128-bit form of a 16-bit Bluetooth SIG UUID, as bleak writes it."""
    return f"0000{short:04x}-0000-1000-8000-00805f9b34fb"


FTMS_SERVICE_UUID: Final = uuid16(0x1826)
FEATURE_UUID: Final = uuid16(0x2ACC)
TREADMILL_DATA_UUID: Final = uuid16(0x2ACD)
TRAINING_STATUS_UUID: Final = uuid16(0x2AD3)
SPEED_RANGE_UUID: Final = uuid16(0x2AD4)
INCLINATION_RANGE_UUID: Final = uuid16(0x2AD5)
CONTROL_POINT_UUID: Final = uuid16(0x2AD9)
MACHINE_STATUS_UUID: Final = uuid16(0x2ADA)

DEVICE_INFORMATION_UUID: Final = uuid16(0x180A)
# Device Information Service strings -> our keys (Home Assistant's device
# registry names where there is one).
DEVICE_INFORMATION_UUIDS: Final[Mapping[str, str]] = {
    "manufacturer": uuid16(0x2A29),
    "model": uuid16(0x2A24),
    "serial_number": uuid16(0x2A25),
    "hw_version": uuid16(0x2A27),
    "fw_version": uuid16(0x2A26),
    "sw_version": uuid16(0x2A28),
}

TARGET_SPEED: Final = "target_speed"
TARGET_INCLINATION: Final = "target_inclination"
TRAINING_STATUS: Final = "training_status"
TRAINING_STATUS_STRING: Final = "training_status_string"


# Advertisement (3.1) ---------------------------------------------------------


class MachineType(IntFlag):
    """Fitness Machine Type field of the FTMS service data (3.1.1)."""

    TREADMILL = 1 << 0
    CROSS_TRAINER = 1 << 1
    STEP_CLIMBER = 1 << 2
    STAIR_CLIMBER = 1 << 3
    ROWER = 1 << 4
    INDOOR_BIKE = 1 << 5


_MACHINE_AVAILABLE: Final = 0x01  # Flags bit 0: Fitness Machine Available
_KNOWN_TYPES: Final = int(
    MachineType.TREADMILL
    | MachineType.CROSS_TRAINER
    | MachineType.STEP_CLIMBER
    | MachineType.STAIR_CLIMBER
    | MachineType.ROWER
    | MachineType.INDOOR_BIKE
)


class Advertisement(NamedTuple):
    """What the FTMS service data says: available, and which machine types."""

    available: bool
    machine_type: MachineType


def parse_service_data(data: bytes) -> Advertisement | None:
    """Read the FTMS service data (Flags u8, Fitness Machine Type u16).

    Some machines send the type as one byte, or with its two bytes swapped:
    both are read as the type they mean. None when nothing can be read.
    """
    if len(data) < 2:  # noqa: PLR2004 - a flags byte and at least one type byte
        return None
    raw = int.from_bytes(data[1:3], "little")
    if not raw & _KNOWN_TYPES:
        raw = int.from_bytes(data[1:3], "big")
    return Advertisement(
        available=bool(data[0] & _MACHINE_AVAILABLE),
        machine_type=MachineType(raw & _KNOWN_TYPES),
    )


def is_treadmill(service_data: Mapping[str, bytes]) -> bool:
    """Whether an advertisement's service data shows an available treadmill."""
    data = service_data.get(FTMS_SERVICE_UUID)
    if data is None:
        return False
    advertised = parse_service_data(data)
    return (
        advertised is not None
        and advertised.available
        and MachineType.TREADMILL in advertised.machine_type
    )


# Features and ranges (4.3, 4.12, 4.13) --------------------------------------


class MachineFeature(IntFlag):
    """Fitness Machine Features field (4.3.1.1)."""

    AVERAGE_SPEED = 1 << 0
    CADENCE = 1 << 1
    TOTAL_DISTANCE = 1 << 2
    INCLINATION = 1 << 3
    ELEVATION_GAIN = 1 << 4
    PACE = 1 << 5
    STEP_COUNT = 1 << 6
    RESISTANCE_LEVEL = 1 << 7
    STRIDE_COUNT = 1 << 8
    EXPENDED_ENERGY = 1 << 9
    HEART_RATE = 1 << 10
    METABOLIC_EQUIVALENT = 1 << 11
    ELAPSED_TIME = 1 << 12
    REMAINING_TIME = 1 << 13
    POWER_MEASUREMENT = 1 << 14
    FORCE_ON_BELT_AND_POWER = 1 << 15
    USER_DATA_RETENTION = 1 << 16


class TargetSettingFeature(IntFlag):
    """Target Setting Features field (4.3.1.2)."""

    SPEED = 1 << 0
    INCLINATION = 1 << 1
    RESISTANCE = 1 << 2
    POWER = 1 << 3
    HEART_RATE = 1 << 4
    EXPENDED_ENERGY = 1 << 5
    STEP_NUMBER = 1 << 6
    STRIDE_NUMBER = 1 << 7
    DISTANCE = 1 << 8
    TRAINING_TIME = 1 << 9
    TIME_IN_TWO_HR_ZONES = 1 << 10
    TIME_IN_THREE_HR_ZONES = 1 << 11
    TIME_IN_FIVE_HR_ZONES = 1 << 12
    INDOOR_BIKE_SIMULATION = 1 << 13
    WHEEL_CIRCUMFERENCE = 1 << 14
    SPIN_DOWN = 1 << 15
    CADENCE = 1 << 16


# Treadmill Data fields each machine feature announces.
_FEATURE_PROPERTIES: Final[tuple[tuple[MachineFeature, tuple[str, ...]], ...]] = (
    (MachineFeature.AVERAGE_SPEED, ("speed_average",)),
    (MachineFeature.TOTAL_DISTANCE, ("distance_total",)),
    (MachineFeature.INCLINATION, ("inclination", "ramp_angle")),
    (
        MachineFeature.ELEVATION_GAIN,
        ("elevation_gain_positive", "elevation_gain_negative"),
    ),
    (MachineFeature.PACE, ("pace_instant", "pace_average")),
    (
        MachineFeature.EXPENDED_ENERGY,
        ("energy_total", "energy_per_hour", "energy_per_minute"),
    ),
    (MachineFeature.HEART_RATE, ("heart_rate",)),
    (MachineFeature.METABOLIC_EQUIVALENT, ("metabolic_equivalent",)),
    (MachineFeature.ELAPSED_TIME, ("time_elapsed",)),
    (MachineFeature.REMAINING_TIME, ("time_remaining",)),
    (MachineFeature.FORCE_ON_BELT_AND_POWER, ("force_on_belt", "power_output")),
)
# The target settings a treadmill client drives.
_SETTINGS: Final[tuple[tuple[TargetSettingFeature, str], ...]] = (
    (TargetSettingFeature.SPEED, TARGET_SPEED),
    (TargetSettingFeature.INCLINATION, TARGET_INCLINATION),
)


@dataclass(frozen=True, slots=True)
class Features:
    """The Fitness Machine Feature characteristic (4.3)."""

    machine: MachineFeature = field(default=MachineFeature(0))
    target_settings: TargetSettingFeature = field(default=TargetSettingFeature(0))

    @property
    def properties(self) -> list[str]:
        """The Treadmill Data fields the machine reports."""
        names = ["speed_instant"]
        for feature, fields in _FEATURE_PROPERTIES:
            if feature in self.machine:
                names.extend(fields)
        return names

    @property
    def settings(self) -> list[str]:
        """The targets the machine lets a client set (of speed and inclination)."""
        return [name for flag, name in _SETTINGS if flag in self.target_settings]


def parse_features(data: bytes) -> Features | None:
    """Read Fitness Machine Features (u32) and Target Setting Features (u32)."""
    if len(data) < 8:  # noqa: PLR2004 - two uint32
        return None
    machine, settings = struct.unpack_from("<II", data)
    return Features(MachineFeature(machine), TargetSettingFeature(settings))


class SettingRange(NamedTuple):
    """A supported range: minimum, maximum and increment (4.12, 4.13)."""

    min_value: float
    max_value: float
    step: float


def parse_speed_range(data: bytes) -> SettingRange | None:
    """Supported Speed Range: three uint16 in 0.01 km/h."""
    if len(data) < 6:  # noqa: PLR2004 - three uint16
        return None
    low, high, step = struct.unpack_from("<HHH", data)
    return SettingRange(low / 100, high / 100, step / 100)


def parse_inclination_range(data: bytes) -> SettingRange | None:
    """Supported Inclination Range: sint16, sint16, uint16 in 0.1 %."""
    if len(data) < 6:  # noqa: PLR2004 - three 16-bit values
        return None
    low, high, step = struct.unpack_from("<hhH", data)
    return SettingRange(low / 10, high / 10, step / 10)


# Treadmill Data (4.9) ---------------------------------------------------------


class TreadmillDataFlag(IntFlag):
    """Treadmill Data flags (4.9.1.1)."""

    MORE_DATA = 1 << 0  # 0: Instantaneous Speed present; 1: more packets follow
    AVERAGE_SPEED = 1 << 1
    TOTAL_DISTANCE = 1 << 2
    INCLINATION_AND_RAMP = 1 << 3
    ELEVATION_GAIN = 1 << 4
    INSTANTANEOUS_PACE = 1 << 5
    AVERAGE_PACE = 1 << 6
    EXPENDED_ENERGY = 1 << 7
    HEART_RATE = 1 << 8
    METABOLIC_EQUIVALENT = 1 << 9
    ELAPSED_TIME = 1 << 10
    REMAINING_TIME = 1 << 11
    FORCE_ON_BELT_AND_POWER = 1 << 12


class _Field(NamedTuple):
    name: str
    fmt: str  # struct format of one value; "u24" for the 3-byte distance
    scale: float  # value = raw * scale
    missing: int | None = None  # raw value meaning "not available"


# The fields of each flag, in the order they follow the flags (4.9.1).
_DATA_FIELDS: Final[tuple[tuple[TreadmillDataFlag, tuple[_Field, ...]], ...]] = (
    (TreadmillDataFlag.AVERAGE_SPEED, (_Field("speed_average", "H", 0.01),)),
    (TreadmillDataFlag.TOTAL_DISTANCE, (_Field("distance_total", "u24", 1),)),
    (
        TreadmillDataFlag.INCLINATION_AND_RAMP,
        (_Field("inclination", "h", 0.1), _Field("ramp_angle", "h", 0.1)),
    ),
    (
        TreadmillDataFlag.ELEVATION_GAIN,
        (
            _Field("elevation_gain_positive", "H", 0.1),
            _Field("elevation_gain_negative", "H", 0.1),
        ),
    ),
    (TreadmillDataFlag.INSTANTANEOUS_PACE, (_Field("pace_instant", "B", 0.1),)),
    (TreadmillDataFlag.AVERAGE_PACE, (_Field("pace_average", "B", 0.1),)),
    (
        TreadmillDataFlag.EXPENDED_ENERGY,
        (
            _Field("energy_total", "H", 1, 0xFFFF),
            _Field("energy_per_hour", "H", 1, 0xFFFF),
            _Field("energy_per_minute", "B", 1, 0xFF),
        ),
    ),
    (TreadmillDataFlag.HEART_RATE, (_Field("heart_rate", "B", 1),)),
    (
        TreadmillDataFlag.METABOLIC_EQUIVALENT,
        (_Field("metabolic_equivalent", "B", 0.1),),
    ),
    (TreadmillDataFlag.ELAPSED_TIME, (_Field("time_elapsed", "H", 1),)),
    (TreadmillDataFlag.REMAINING_TIME, (_Field("time_remaining", "H", 1),)),
    (
        TreadmillDataFlag.FORCE_ON_BELT_AND_POWER,
        (_Field("force_on_belt", "h", 1), _Field("power_output", "h", 1)),
    ),
)
_SPEED_INSTANT: Final = _Field("speed_instant", "H", 0.01)


def _read(data: bytes, offset: int, spec: _Field) -> tuple[float | None, int] | None:
    """One field's value at ``offset`` and the next offset; None if cut off."""
    if spec.fmt == "u24":
        size = 3
        if offset + size > len(data):
            return None
        raw = int.from_bytes(data[offset : offset + size], "little")
    else:
        size = struct.calcsize("<" + spec.fmt)
        if offset + size > len(data):
            return None
        raw = struct.unpack_from("<" + spec.fmt, data, offset)[0]
    if raw == spec.missing:
        return None, offset + size
    value: float = raw if spec.scale == 1 else round(raw * spec.scale, 2)
    return value, offset + size


@dataclass(frozen=True, slots=True)
class TreadmillData:
    """One Treadmill Data packet: its values, and whether more packets follow."""

    values: dict[str, float]
    more_data: bool
    truncated: bool = False  # shorter than its flags announce
    trailing: int = 0  # bytes left over after every announced field


def parse_treadmill_data(data: bytes) -> TreadmillData | None:
    """Read one Treadmill Data packet; None without even its flags."""
    if len(data) < 2:  # noqa: PLR2004 - the uint16 flags
        return None
    flags = TreadmillDataFlag(int.from_bytes(data[:2], "little") & 0x1FFF)
    more_data = TreadmillDataFlag.MORE_DATA in flags
    fields: list[_Field] = [] if more_data else [_SPEED_INSTANT]
    for flag, specs in _DATA_FIELDS:
        if flag in flags:
            fields.extend(specs)
    values: dict[str, float] = {}
    offset = 2
    for spec in fields:
        read = _read(data, offset, spec)
        if read is None:
            return TreadmillData(values, more_data, truncated=True)
        value, offset = read
        if value is not None:
            values[spec.name] = value
    return TreadmillData(values, more_data, trailing=len(data) - offset)


@dataclass(slots=True)
class TreadmillDataAssembler:
    """Merges the packets of one Treadmill Data record ("More Data", 4.9.1.1).

    Packets with "More Data" set are held; the packet without it completes
    the record. A machine that never completes one cannot make it grow
    without end: after ``max_packets`` the held values are handed on anyway.
    """

    max_packets: int = 8
    _held: dict[str, float] = field(default_factory=dict)
    _count: int = 0

    def feed(self, packet: TreadmillData) -> dict[str, float] | None:
        """Add a packet; the complete record when this one ends it."""
        self._held.update(packet.values)
        self._count += 1
        if packet.more_data and self._count < self.max_packets:
            return None
        record, self._held, self._count = self._held, {}, 0
        return record

    def clear(self) -> None:
        """Forget a partial record (the link dropped)."""
        self._held, self._count = {}, 0


# Training Status (4.10) -------------------------------------------------------


class TrainingStatusCode(IntEnum):
    """Training Status field (4.10.1.2)."""

    OTHER = 0x00
    IDLE = 0x01
    WARMING_UP = 0x02
    LOW_INTENSITY_INTERVAL = 0x03
    HIGH_INTENSITY_INTERVAL = 0x04
    RECOVERY_INTERVAL = 0x05
    ISOMETRIC = 0x06
    HEART_RATE_CONTROL = 0x07
    FITNESS_TEST = 0x08
    SPEED_TOO_LOW = 0x09
    SPEED_TOO_HIGH = 0x0A
    COOL_DOWN = 0x0B
    WATT_CONTROL = 0x0C
    MANUAL_MODE = 0x0D
    PRE_WORKOUT = 0x0E
    POST_WORKOUT = 0x0F


_STRING_PRESENT: Final = 0x01  # Training Status flags bit 0


@dataclass(frozen=True, slots=True)
class TrainingStatus:
    """A Training Status value: the code (reserved codes read as OTHER)."""

    code: TrainingStatusCode
    text: str | None = None

    @property
    def values(self) -> dict[str, object]:
        """As telemetry."""
        values: dict[str, object] = {TRAINING_STATUS: self.code}
        if self.text is not None:
            values[TRAINING_STATUS_STRING] = self.text
        return values


def parse_training_status(data: bytes) -> TrainingStatus | None:
    """Read Flags (u8), Training Status (u8) and the optional UTF-8 string."""
    if len(data) < 2:  # noqa: PLR2004 - flags and status
        return None
    try:
        code = TrainingStatusCode(data[1])
    except ValueError:
        code = TrainingStatusCode.OTHER
    text = None
    if data[0] & _STRING_PRESENT and len(data) > 2:  # noqa: PLR2004
        text = data[2:].decode("utf-8", errors="replace").rstrip("\x00")
    return TrainingStatus(code, text)


# Fitness Machine Status (4.17) -----------------------------------------------


class MachineStatusCode(IntEnum):
    """Fitness Machine Status op codes (4.17, table 4.26) a treadmill sends."""

    RESET = 0x01
    STOPPED_OR_PAUSED = 0x02
    STOPPED_BY_SAFETY_KEY = 0x03
    STARTED_OR_RESUMED = 0x04
    TARGET_SPEED_CHANGED = 0x05
    TARGET_INCLINE_CHANGED = 0x06
    CONTROL_PERMISSION_LOST = 0xFF


class StopPause(IntEnum):
    """Control Information of Stop/Pause (4.16.2.9 and 4.17.2)."""

    STOP = 0x01
    PAUSE = 0x02


@dataclass(frozen=True, slots=True)
class MachineStatus:
    """One Fitness Machine Status notification.

    ``code`` is None for op codes this module does not know (they are
    reported, never raised on). ``stop_pause`` is set for STOPPED_OR_PAUSED;
    a missing or unknown control information is read as STOP.
    """

    op_code: int
    code: MachineStatusCode | None
    values: dict[str, float] = field(default_factory=dict)
    stop_pause: StopPause | None = None
    truncated: bool = False


# The target each "target changed" status carries: key, format, scale.
_STATUS_TARGETS: Final[Mapping[MachineStatusCode, tuple[str, str, float]]] = {
    MachineStatusCode.TARGET_SPEED_CHANGED: (TARGET_SPEED, "<H", 0.01),
    MachineStatusCode.TARGET_INCLINE_CHANGED: (TARGET_INCLINATION, "<h", 0.1),
}


def parse_machine_status(data: bytes) -> MachineStatus | None:
    """Read a Fitness Machine Status notification; None when it is empty."""
    if not data:
        return None
    op_code, params = data[0], bytes(data[1:])
    try:
        code = MachineStatusCode(op_code)
    except ValueError:
        return MachineStatus(op_code, None)
    if code is MachineStatusCode.STOPPED_OR_PAUSED:
        stop_pause = StopPause.PAUSE if params[:1] == b"\x02" else StopPause.STOP
        return MachineStatus(op_code, code, stop_pause=stop_pause, truncated=not params)
    if (target := _STATUS_TARGETS.get(code)) is None:
        return MachineStatus(op_code, code)
    key, fmt, scale = target
    if len(params) < struct.calcsize(fmt):
        return MachineStatus(op_code, code, truncated=True)
    value = round(struct.unpack_from(fmt, params)[0] * scale, 2)
    return MachineStatus(op_code, code, {key: value})


# Fitness Machine Control Point (4.16) ------------------------------------------


class ControlOpCode(IntEnum):
    """Control Point op codes (4.16.1, table 4.15) a treadmill client sends."""

    REQUEST_CONTROL = 0x00
    RESET = 0x01
    SET_TARGET_SPEED = 0x02
    SET_TARGET_INCLINATION = 0x03
    START_RESUME = 0x07
    STOP_PAUSE = 0x08
    RESPONSE = 0x80


class ResultCode(IntEnum):
    """Control Point result codes (4.16.2.22, table 4.24)."""

    SUCCESS = 0x01
    NOT_SUPPORTED = 0x02
    INVALID_PARAMETER = 0x03
    FAILED = 0x04
    NOT_PERMITTED = 0x05


_UINT16_MAX: Final = 0xFFFF
_SINT16_MIN: Final = -0x8000
_SINT16_MAX: Final = 0x7FFF


def request_control() -> bytes:
    """Request Control."""
    return bytes([ControlOpCode.REQUEST_CONTROL])


def reset() -> bytes:
    """Reset (the machine gives control up)."""
    return bytes([ControlOpCode.RESET])


def set_target_speed(speed: float) -> bytes:
    """Set Target Speed, km/h (uint16, 0.01 km/h)."""
    raw = round(speed * 100)
    if not 0 <= raw <= _UINT16_MAX:
        raise ValueError(f"speed out of range: {speed}")
    return bytes([ControlOpCode.SET_TARGET_SPEED]) + struct.pack("<H", raw)


def set_target_inclination(incline: float) -> bytes:
    """Set Target Inclination, % (sint16, 0.1 %)."""
    raw = round(incline * 10)
    if not _SINT16_MIN <= raw <= _SINT16_MAX:
        raise ValueError(f"inclination out of range: {incline}")
    return bytes([ControlOpCode.SET_TARGET_INCLINATION]) + struct.pack("<h", raw)


def start_resume() -> bytes:
    """Start or Resume."""
    return bytes([ControlOpCode.START_RESUME])


def stop_pause(control: StopPause) -> bytes:
    """Stop or Pause."""
    return bytes([ControlOpCode.STOP_PAUSE, control])


@dataclass(frozen=True, slots=True)
class ControlResponse:
    """A Response Code indication: which request, and its result.

    ``result`` is an int when the machine sent a code the specification
    does not define (never SUCCESS).
    """

    request: int
    result: ResultCode | int
    parameters: bytes = b""


def parse_control_response(data: bytes) -> ControlResponse | None:
    """Read a control point indication; None unless it is a Response Code."""
    if len(data) < 3 or data[0] != ControlOpCode.RESPONSE:  # noqa: PLR2004
        return None
    result: ResultCode | int
    try:
        result = ResultCode(data[2])
    except ValueError:
        result = data[2]
    return ControlResponse(data[1], result, bytes(data[3:]))
