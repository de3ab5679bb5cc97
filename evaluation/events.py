"""Physically modelled instability events, injected into real walking.

No package ships real falls, so falls and stumbles are simulated and written
into real walking recorded on the waist (HAPT), at a random moment of a
walking bout. The model is a point mass (the pelvis, where the sensor sits)
on a massless telescoping leg pivoting at the feet — the standard inverted
pendulum of fall biomechanics — with the trunk rigid on the pelvis:

    L̈ = L θ̇² - g cos θ + F/m            (radial: leg support F/m)
    θ̈ = (g sin θ - 2 L̇ θ̇) / L + τ(t)     (tangential: τ = the perturbation)

θ is the tilt of the leg-and-trunk line, L the pivot-to-sensor distance. The
sensor measures the specific force: F/m along the body axis plus L·τ across
it, exactly, because only gravity and the leg force act on the point mass.
The perturbation τ(t) is a smooth pulse that starts the rotation (a slip
pulls the feet away, a trip stops them, a push or a misstep to the side);
the leg support F/m drops as the knees buckle or the feet slide. When the
pelvis reaches the ground it stops over an impact time (a half-cosine
velocity decay: the specific force peaks at π|v|/(2 T)) and the body settles
and lies still. A recovered stumble is a prescribed excursion of the trunk
(out fast, back within a second) with a catch step.

Onset is the first instant the model departs from walking (τ or the support
drop starts); latencies are measured from it.

In the sensor frame: u is the walker's upright specific-force direction (the
mean acceleration direction over the preceding seconds), e a horizontal unit
axis (random azimuth: the detector is isotropic about the vertical, so the
direction of the fall does not matter to it) and d = e x u the direction the
trunk falls. A world vector with up component z and fall-direction component
h reads, with the body turned by θ about e,
``z·(u cos θ - d sin θ) + h·(d cos θ + u sin θ)``; the gyroscope reads θ̇·e.
The real walking signal (minus gravity) fades out under the event, and back
in after a recovered stumble.
"""

from __future__ import annotations

from dataclasses import dataclass
import math

import numpy as np
import numpy.typing as npt

G = 9.80665
SIM_HZ = 1000.0
SENSOR_RANGE_G = 8.0
"""Per-axis range of the simulated sensor (the walking itself comes as recorded)."""

_MIN_WIDTH_S = 1e-6
FALL_KINDS = ("slip", "trip", "side_fall")
EVENT_KINDS = (*FALL_KINDS, "stumble")

type FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Event:
    """Sensor-frame signals of one event, starting at its onset."""

    kind: str
    falls: bool
    acc_event: FloatArray  # (m, 3) specific force of the event, m/s²
    gyro_event: FloatArray  # (m, 3) rad/s
    fade: FloatArray  # (m,) weight of the real walking signal
    params: dict[str, float]


def _pulse(t: FloatArray, start: float, duration: float) -> FloatArray:
    """A smooth bump (sin²) of unit height from ``start`` over ``duration``."""
    x = np.clip((t - start) / duration, 0.0, 1.0)
    return np.sin(np.pi * x) ** 2


def _smoothstep(t: FloatArray, start: float, duration: float) -> FloatArray:
    x = np.clip((t - start) / duration, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


@dataclass(frozen=True)
class FallParams:
    """One fall: perturbation, support loss, impact and rest posture."""

    length: float  # m, feet-to-sensor distance at onset
    kick_rate: float  # rad/s of rotation the perturbation alone would give
    kick_s: float  # duration of the perturbation pulse
    support_delay_s: float  # support holds this long, then drops
    support_drop_s: float  # … over this long
    support_low_g: float  # remaining leg support, in g
    ground_m: float  # sensor height when the pelvis is on the ground
    impact_s: float  # time the pelvis takes to stop
    rest_deg: float  # trunk tilt once settled
    settle_s: float  # time to settle from impact to rest
    still_s: float  # time lying still after settling


def simulate_fall(p: FallParams, duration_s: float) -> tuple[FloatArray, ...]:
    """(t, θ, θ̇, f_axial, f_cross, f_up, f_horiz) at SIM_HZ; see the module doc.

    Before the impact the specific force is given in body axes (axial along
    the trunk, cross along d); from the impact on in world axes (up, horiz).
    """
    dt = 1.0 / SIM_HZ
    n = int(duration_s * SIM_HZ)
    t = np.arange(n) * dt
    # τ such that its integral is kick_rate: a sin² pulse has mean 1/2.
    tau = _pulse(t, 0.0, p.kick_s) * (2.0 * p.kick_rate / p.kick_s)
    support = G * (
        1.0
        - (1.0 - p.support_low_g) * _smoothstep(t, p.support_delay_s, p.support_drop_s)
    )
    theta = np.zeros(n)
    rate = np.zeros(n)
    axial = np.zeros(n)
    cross = np.zeros(n)
    up = np.zeros(n)
    horiz = np.zeros(n)
    th, om, length, vel = 0.0, 0.0, p.length, 0.0
    impact = n
    for i in range(n):
        theta[i], rate[i] = th, om
        # The leg pushes along itself, never harder than it is loaded.
        push = min(support[i], max(0.0, G * math.cos(th)))
        axial[i] = push
        cross[i] = length * tau[i]
        if length * math.cos(th) <= p.ground_m and i > 0:
            impact = i
            break
        acc_len = length * om * om - G * math.cos(th) + push
        acc_th = (G * math.sin(th) - 2.0 * vel * om) / length + tau[i]
        vel += acc_len * dt
        length = max(0.25, length + vel * dt)
        if length <= 0.25:  # noqa: PLR2004 - fully crouched: the leg holds
            vel = max(vel, 0.0)
        om += acc_th * dt
        th += om * dt
    if impact < n:
        # Pelvis velocity at impact (world: up, towards the fall).
        v_h = vel * math.sin(th) + length * om * math.cos(th)
        v_z = vel * math.cos(th) - length * om * math.sin(th)
        steps = max(1, int(p.impact_s * SIM_HZ))
        tau_i = np.arange(n - impact) * dt
        in_impact = tau_i < p.impact_s
        decel = np.where(
            in_impact,
            np.sin(np.pi * tau_i / p.impact_s) * (np.pi / (2.0 * p.impact_s)),
            0.0,
        )
        up[impact:] = G - v_z * decel
        horiz[impact:] = -v_h * decel
        # The trunk keeps turning while the pelvis stops, then settles.
        keep = np.where(in_impact, 0.5 * (1.0 + np.cos(np.pi * tau_i / p.impact_s)), 0)
        rate_i = om * keep
        theta_i = th + np.cumsum(rate_i) * dt
        th_end = theta_i[min(steps, len(theta_i) - 1)]
        settle = _smoothstep(tau_i, p.impact_s, p.settle_s)
        rest = math.radians(p.rest_deg)
        theta_i = theta_i + (rest - th_end) * settle * (tau_i >= p.impact_s)
        theta[impact:] = theta_i
        rate[impact:] = np.gradient(theta_i, dt)
    return t, theta, rate, axial, cross, up, horiz, np.array([impact])


@dataclass(frozen=True)
class StumbleParams:
    """A recovered stumble: excursion out and back, support dip, catch step."""

    radius: float  # m, hips to sensor
    peak_deg: float
    peak_s: float  # time to the largest excursion
    dip_g: float  # leg support during the stumble
    dip_s: float
    catch_g: float  # peak of the catch step's foot strike
    catch_at_s: float
    catch_s: float
    stop_after: bool  # the walker stops and stands holding the rails


def simulate_stumble(p: StumbleParams, duration_s: float) -> tuple[FloatArray, ...]:
    """(t, θ, θ̇, f_axial, f_cross) at SIM_HZ for a recovered stumble."""
    dt = 1.0 / SIM_HZ
    n = int(duration_s * SIM_HZ)
    t = np.arange(n) * dt
    # Gamma-shaped excursion: starts smoothly, peaks at peak_s, back < 1 s.
    x = t / p.peak_s
    theta = math.radians(p.peak_deg) * x**3 * np.exp(3.0 * (1.0 - x))
    rate = np.gradient(theta, dt)
    accel = np.gradient(rate, dt)
    support = G * (1.0 - (1.0 - p.dip_g) * _pulse(t, 0.0, p.dip_s))
    support += G * (p.catch_g - 1.0) * _pulse(t, p.catch_at_s, p.catch_s)
    # The trunk turns about the hips, ``radius`` from the sensor: the
    # tangential specific force is r θ̈ - g sin θ, the radial one the support.
    axial = (support / G) * (G * np.cos(theta) - p.radius * rate * rate)
    cross = p.radius * accel - G * np.sin(theta)
    return t, theta, rate, axial, cross


def sample_fall(kind: str, rng: np.random.Generator) -> FallParams:
    """Random parameters for one fall of ``kind``."""
    u = rng.uniform
    if kind == "slip":
        # The feet slide away: support goes at once, fast backward rotation.
        return FallParams(
            length=u(0.85, 1.05),
            kick_rate=u(1.0, 3.5),
            kick_s=u(0.10, 0.25),
            support_delay_s=u(0.0, 0.05),
            support_drop_s=u(0.05, 0.15),
            support_low_g=u(0.15, 0.60),
            ground_m=u(0.10, 0.25),
            impact_s=u(0.05, 0.12),
            rest_deg=u(60.0, 100.0),
            settle_s=u(0.3, 0.8),
            still_s=u(4.0, 8.0),
        )
    if kind == "trip":
        # The foot is caught: rotation about it, support holds a little longer.
        return FallParams(
            length=u(0.85, 1.05),
            kick_rate=u(0.8, 2.5),
            kick_s=u(0.15, 0.30),
            support_delay_s=u(0.05, 0.20),
            support_drop_s=u(0.10, 0.25),
            support_low_g=u(0.25, 0.70),
            ground_m=u(0.10, 0.25),
            impact_s=u(0.05, 0.12),
            rest_deg=u(70.0, 100.0),
            settle_s=u(0.3, 0.8),
            still_s=u(4.0, 8.0),
        )
    # Side fall: a lateral loss of balance, the near knee buckles, hip impact.
    return FallParams(
        length=u(0.85, 1.05),
        kick_rate=u(0.8, 3.0),
        kick_s=u(0.10, 0.30),
        support_delay_s=u(0.0, 0.15),
        support_drop_s=u(0.08, 0.25),
        support_low_g=u(0.25, 0.70),
        ground_m=u(0.12, 0.25),
        impact_s=u(0.04, 0.10),
        rest_deg=u(70.0, 100.0),
        settle_s=u(0.2, 0.6),
        still_s=u(4.0, 8.0),
    )


def sample_stumble(rng: np.random.Generator) -> StumbleParams:
    """Random parameters for one recovered stumble."""
    u = rng.uniform
    return StumbleParams(
        radius=u(0.10, 0.30),
        peak_deg=u(25.0, 45.0),
        peak_s=u(0.15, 0.25),
        dip_g=u(0.3, 0.8),
        dip_s=u(0.15, 0.35),
        catch_g=u(1.5, 3.2),
        catch_at_s=u(0.20, 0.40),
        catch_s=u(0.06, 0.12),
        stop_after=bool(rng.random() < 0.3),  # noqa: PLR2004
    )


def _sensor_frame(
    u: FloatArray, rng: np.random.Generator
) -> tuple[FloatArray, FloatArray]:
    """A random horizontal axis e ⊥ u and the fall direction d = e x u."""
    helper = np.array([1.0, 0.0, 0.0])
    if abs(float(helper @ u)) > 0.9:  # noqa: PLR2004
        helper = np.array([0.0, 1.0, 0.0])
    a = np.cross(u, helper)
    a /= np.linalg.norm(a)
    b = np.cross(u, a)
    angle = rng.uniform(0.0, 2.0 * math.pi)
    e = math.cos(angle) * a + math.sin(angle) * b
    d = np.cross(e, u)
    return e, d


def _resample(t_sim: FloatArray, values: FloatArray, t_out: FloatArray) -> FloatArray:
    """Average the 1 kHz signal over each output sample's preceding interval.

    The phone's own anti-aliasing does the same: an impact shorter than a
    sample period is smeared, not dropped or aliased.
    """
    if t_out.shape[0] < 2:  # noqa: PLR2004
        return np.interp(t_out, t_sim, values)
    period = float(np.median(np.diff(t_out)))
    cumulative = np.concatenate(([0.0], np.cumsum(values) / SIM_HZ))
    edges_hi = np.clip(t_out, 0.0, t_sim[-1])
    edges_lo = np.clip(t_out - period, 0.0, t_sim[-1])
    t_edges = np.concatenate((t_sim, [t_sim[-1] + 1.0 / SIM_HZ]))
    hi = np.interp(edges_hi, t_edges, cumulative)
    lo = np.interp(edges_lo, t_edges, cumulative)
    width = np.maximum(edges_hi - edges_lo, 1e-9)
    averaged = (hi - lo) / width
    return np.where(
        edges_hi - edges_lo > _MIN_WIDTH_S, averaged, np.interp(t_out, t_sim, values)
    )


@dataclass(frozen=True)
class _Simulation:
    """An event at SIM_HZ, in the sensor's body axes u (up) and d."""

    t: FloatArray
    theta: FloatArray
    rate: FloatArray
    along_u: FloatArray
    along_d: FloatArray
    fade: FloatArray  # weight of the real walking signal
    params: dict[str, float]
    falls: bool


def _simulate(kind: str, rng: np.random.Generator, duration: float) -> _Simulation:
    if kind == "stumble":
        sp = sample_stumble(rng)
        t, theta, rate, axial, cross = simulate_stumble(sp, duration)
        recover = 1.2
        fade = 1.0 - 0.7 * _pulse(t, 0.0, 2 * recover)
        if sp.stop_after:
            fade = np.where(t < recover, fade, 0.3 * (1 - _smoothstep(t, recover, 0.5)))
        return _Simulation(
            t,
            theta,
            rate,
            axial,
            cross,
            fade,
            {k: float(v) for k, v in vars(sp).items()},
            falls=False,
        )
    fp = sample_fall(kind, rng)
    t, theta, rate, axial, cross, up, horiz, impact = simulate_fall(fp, duration)
    impact_at = float(t[min(int(impact[0]), t.shape[0] - 1)])
    before = t < impact_at
    cos_t, sin_t = np.cos(theta), np.sin(theta)
    # Body-axis components before the impact, world components after.
    along_u = np.where(before, axial, up * cos_t + horiz * sin_t)
    along_d = np.where(before, cross, -up * sin_t + horiz * cos_t)
    params = {k: float(v) for k, v in vars(fp).items()}
    params["impact_s_after_onset"] = impact_at
    fade = 1.0 - _smoothstep(t, 0.0, 0.3)
    return _Simulation(t, theta, rate, along_u, along_d, fade, params, falls=True)


@dataclass(frozen=True)
class Injected:
    """An event written into a walking recording."""

    kind: str
    falls: bool
    onset_index: int
    acc: FloatArray  # whole recording, m/s²
    gyro: FloatArray
    params: dict[str, float]


def inject(
    kind: str,
    rng: np.random.Generator,
    t_s: FloatArray,
    acc: FloatArray,
    gyro: FloatArray,
    onset_index: int,
    after_s: float = 8.0,
) -> Injected:
    """Write one ``kind`` event at ``onset_index`` into a walking recording.

    ``t_s`` are sample times in seconds, ``acc`` (m/s², total, device frame,
    the Android sign convention) and ``gyro`` (rad/s) the real walking. The
    returned recording ends ``after_s`` after the onset.
    """
    onset = t_s[onset_index]
    end = int(np.searchsorted(t_s, onset + after_s))
    t_rel = t_s[onset_index:end] - onset
    look = max(0, int(np.searchsorted(t_s, onset - 4.0)))
    upright = acc[look:onset_index].mean(axis=0)
    gravity = float(np.linalg.norm(upright))
    u = upright / gravity
    e, d = _sensor_frame(u, rng)
    sim = _simulate(kind, rng, after_s + 0.5)
    acc_u = _resample(sim.t, sim.along_u, t_rel)
    acc_d = _resample(sim.t, sim.along_d, t_rel)
    rate_s = _resample(sim.t, sim.rate, t_rel)
    fade = np.interp(t_rel, sim.t, sim.fade)[:, None]
    limit = SENSOR_RANGE_G * G
    event_acc = np.clip(acc_u[:, None] * u + acc_d[:, None] * d, -limit, limit)
    new_acc = acc[:end].copy()
    new_gyro = gyro[:end].copy()
    new_acc[onset_index:end] = (
        fade * (acc[onset_index:end] - gravity * u)
        + event_acc
        + (1 - fade) * rng.normal(0.0, 0.02, event_acc.shape)
    )
    new_gyro[onset_index:end] = (
        fade * gyro[onset_index:end]
        + rate_s[:, None] * e
        + (1 - fade) * rng.normal(0.0, 0.01, event_acc.shape)
    )
    params = sim.params
    theta, rate = sim.theta, sim.rate
    params["peak_rate"] = float(np.abs(rate).max())
    params["max_tilt_deg"] = float(np.degrees(np.abs(theta).max()))
    return Injected(kind, sim.falls, onset_index, new_acc, new_gyro, params)


def irregular_gait(
    acc: FloatArray,
    gyro: FloatArray | None,
    rate_hz: float,
    start_index: int,
    cv: float,
    rng: np.random.Generator,
) -> tuple[FloatArray, FloatArray | None]:
    """Real walking made unsteady from ``start_index`` on: irregular steps.

    Steps are found as peaks of the vertical acceleration; from
    ``start_index`` every step's duration is scaled by a random factor
    (coefficient of variation ``cv``, kept within 0.6-1.6) by time-warping
    all channels, and, as time-scaled motion must, accelerations (without
    gravity) scale by 1/f² and rotation rates by 1/f. The output keeps the
    input's sampling rate and length.
    """
    n = acc.shape[0]
    up = acc[: min(n, int(10 * rate_hz))].mean(axis=0)
    gravity = up
    u = up / np.linalg.norm(up)
    vertical = acc @ u
    smooth = np.convolve(vertical, np.ones(5) / 5.0, mode="same")
    inner = smooth[1:-1]
    candidates = (
        np.flatnonzero(
            (inner > smooth[:-2])
            & (inner >= smooth[2:])
            & (inner > float(np.median(smooth)))
        )
        + 1
    )
    min_gap = int(0.3 * rate_hz)
    steps: list[int] = []
    for peak in candidates.tolist():
        if steps and peak - steps[-1] < min_gap:
            if smooth[peak] > smooth[steps[-1]]:
                steps[-1] = peak
            continue
        steps.append(peak)
    knots = np.asarray([p for p in steps if p > start_index], dtype=np.float64)
    t = np.arange(n, dtype=np.float64)
    if knots.shape[0] < 2:  # noqa: PLR2004
        return acc, gyro
    original = np.concatenate(([0.0, float(start_index)], knots, [float(n - 1)]))
    factors = np.clip(1.0 + cv * rng.standard_normal(original.shape[0] - 1), 0.6, 1.6)
    factors[0] = 1.0  # before start_index: untouched
    warped = np.concatenate(([0.0], np.cumsum(np.diff(original) * factors)))
    # Output sample j sits at warped time j; find its original time.
    source_t = np.interp(t, warped, original)
    segment = np.clip(
        np.searchsorted(warped, t, side="right") - 1, 0, factors.shape[0] - 1
    )
    f = factors[segment]
    dynamic = acc - gravity
    new_acc = (
        gravity
        + np.stack([np.interp(source_t, t, dynamic[:, k]) for k in range(3)], axis=1)
        / (f * f)[:, None]
    )
    new_gyro = None
    if gyro is not None:
        new_gyro = (
            np.stack([np.interp(source_t, t, gyro[:, k]) for k in range(3)], axis=1)
            / f[:, None]
        )
    return new_acc, new_gyro
