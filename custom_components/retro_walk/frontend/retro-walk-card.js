/*
 * Retro Walk card for Home Assistant (custom:retro-walk-card).
 *
 * Plain JavaScript, no build step: a custom element with a shadow root that
 * Home Assistant feeds through the `hass` setter. Served by the integration at
 * /retro_walk/retro-walk-card.js and loaded as a frontend module.
 *
 *   type: custom:retro-walk-card
 *   entity: switch.demo_station_session   # any entity of the station
 *   title: Treadmill                      # optional, default: the device name
 *
 * The station's other entities are found in the entity registry
 * (hass.entities): the entries of the same device, by translation key. The
 * weekly progress belongs to the walker on the belt (the station's walker
 * select): it is read from that walker's device, the device whose
 * via_device_id is the station's and whose name is the walker's. The chart of
 * the last weeks comes from the retro_walk.get_history action.
 */

const CARD_VERSION = "0.2.0";
const PLATFORM = "retro_walk";

// [domain, translation_key] of every entity the card uses, by role.
const ROLES = {
  session: ["switch", "session"],
  state: ["sensor", "session_state"],
  phase: ["sensor", "phase"],
  elapsed: ["sensor", "elapsed"],
  remaining: ["sensor", "remaining"],
  started: ["sensor", "session_started"],
  ends: ["sensor", "session_ends"],
  backward: ["sensor", "backward_time"],
  speed: ["sensor", "belt_speed"],
  instability: ["binary_sensor", "instability"],
  partnerAlert: ["binary_sensor", "partner_alert"],
  walker: ["select", "walker"],
  // Before walkers had devices of their own the week was the station's: read
  // there only when the walker's device has no such sensors.
  progress: ["sensor", "weekly_goal_progress"],
  weekMinutes: ["sensor", "weekly_backward_minutes"],
  pause: ["button", "pause"],
  resume: ["button", "resume"],
  acknowledge: ["button", "acknowledge_alert"],
};

// Default entity ids (English names) for when the registry has no
// translation keys: the object id of the session switch, less "_session",
// plus these suffixes.
const FALLBACK_SUFFIX = {
  session: "session",
  state: "session_state",
  phase: "phase",
  elapsed: "elapsed_time",
  remaining: "time_remaining",
  started: "session_started",
  ends: "session_ends",
  backward: "backward_time",
  speed: "belt_speed",
  instability: "instability",
  partnerAlert: "partner_alert",
  walker: "walker",
  progress: "weekly_goal_progress",
  weekMinutes: "backward_minutes_this_week",
  pause: "pause",
  resume: "resume",
  acknowledge: "acknowledge_alert",
};

// The sensors of a walker's device (translation keys) and, for when the
// registry has none, their default entity ids: sensor.<slug(walker)>_<suffix>.
const WALKER_ROLES = {
  progress: ["weekly_goal_progress", "weekly_goal_progress"],
  weekMinutes: ["weekly_backward_minutes", "backward_minutes_this_week"],
  next: ["next_backward_minutes", "next_suggested_backward_minutes"],
};

// The chart: how many weeks, how many sessions to ask for, how often.
const WEEKS = 12;
const HISTORY_LIMIT = 500;
const FETCH_MIN_INTERVAL_MS = 60 * 1000; // at most once a minute
const HISTORY_STALE_MS = 5 * 60 * 1000; // refresh a shown history this old
const AFTER_SESSION_MS = 1500; // let the station store a finished session
const PICKER_CHIPS_MAX = 6; // more walkers than this: a drop-down list
const SCALE_MIN_MINUTES = 5; // the chart's top, at the least

const RUNNING = ["warm_up", "forward", "backward", "cool_down"];
const HALTED = ["paused", "paused_by_safety", "interrupted"];

const STRINGS = {
  en: {
    station: "Retro Walk",
    phase: "Phase",
    elapsed: "Elapsed",
    remaining: "Remaining",
    backward: "Backwards",
    speed: "Belt speed",
    week: "This week",
    weekMinutes: "{n} min backwards",
    goalDone: "{p}% of the weekly goal",
    start: "Start",
    pause: "Pause",
    resume: "Resume",
    stop: "Stop",
    acknowledge: "I'm OK",
    startLabel: "Start a session",
    pauseLabel: "Pause the session",
    resumeLabel: "Resume the session",
    stopLabel: "Stop the session",
    acknowledgeLabel: "Acknowledge the partner alert",
    steady: "Steady",
    steadyDetail: "No instability detected",
    unstable: "Instability detected",
    unstableDetail: "Slow down and hold the handrails",
    unstableHaltedDetail: "Seen in the walker's movement",
    safetyPause: "Paused for safety",
    safetyPauseDetail: "Check the walker before resuming",
    partnerAlert: "Partner alert waiting",
    partnerAlertDetail: "No partner has answered yet",
    safetyRegion: "Safety status",
    progressLabel: "Weekly goal progress: {p} %",
    walker: "Walker",
    walkerLabel: "Walker on the belt",
    walkerLocked: "The walker can be changed when the session has ended",
    selectWalkerLabel: "choose the walker",
    next: "Next session: {n} min backwards",
    trend: "Last {w} weeks",
    trendGoal: "Goal {n} min",
    trendLabel: "Backward minutes per week, last {w} weeks{goal}: {weeks}",
    trendLabelGoal: " (weekly goal {n} min)",
    trendWeek: "week of {d}: {n} min",
    thisWeek: "This week",
    trendEmpty: "No sessions in the last {w} weeks yet",
    trendFailed: "History unavailable",
    missing: "Retro Walk: no station found for {e}",
    failed: "Could not {a}: {m}",
    states: {
      idle: "Idle",
      warm_up: "Warming up",
      forward: "Walking forward",
      backward: "Walking backwards",
      cool_down: "Cooling down",
      paused: "Paused",
      paused_by_safety: "Paused for safety",
      interrupted: "Interrupted",
      finished: "Finished",
      unavailable: "Unavailable",
      unknown: "Unknown",
    },
    phases: {
      warm_up: "Warm-up",
      forward: "Forward",
      backward: "Backwards",
      cool_down: "Cool-down",
    },
  },
  es: {
    station: "Retro Walk",
    phase: "Fase",
    elapsed: "Transcurrido",
    remaining: "Restante",
    backward: "Hacia atrás",
    speed: "Velocidad de la cinta",
    week: "Esta semana",
    weekMinutes: "{n} min hacia atrás",
    goalDone: "{p} % del objetivo semanal",
    start: "Empezar",
    pause: "Pausar",
    resume: "Reanudar",
    stop: "Detener",
    acknowledge: "Estoy bien",
    startLabel: "Empezar una sesión",
    pauseLabel: "Pausar la sesión",
    resumeLabel: "Reanudar la sesión",
    stopLabel: "Detener la sesión",
    acknowledgeLabel: "Confirmar la alerta al acompañante",
    steady: "Estable",
    steadyDetail: "Sin inestabilidad detectada",
    unstable: "Inestabilidad detectada",
    unstableDetail: "Reduce la velocidad y sujétate a los pasamanos",
    unstableHaltedDetail: "Detectada en el movimiento de la persona",
    safetyPause: "En pausa por seguridad",
    safetyPauseDetail: "Comprueba que la persona está bien antes de reanudar",
    partnerAlert: "Alerta al acompañante pendiente",
    partnerAlertDetail: "Ningún acompañante ha respondido aún",
    safetyRegion: "Estado de seguridad",
    progressLabel: "Progreso del objetivo semanal: {p} %",
    walker: "Usuario",
    walkerLabel: "Usuario en la cinta",
    walkerLocked: "El usuario se puede cambiar cuando termine la sesión",
    selectWalkerLabel: "elegir el usuario",
    next: "Próxima sesión: {n} min hacia atrás",
    trend: "Últimas {w} semanas",
    trendGoal: "Objetivo {n} min",
    trendLabel: "Minutos hacia atrás por semana, últimas {w} semanas{goal}: {weeks}",
    trendLabelGoal: " (objetivo semanal {n} min)",
    trendWeek: "semana del {d}: {n} min",
    thisWeek: "Esta semana",
    trendEmpty: "Aún no hay sesiones en las últimas {w} semanas",
    trendFailed: "Historial no disponible",
    missing: "Retro Walk: no se encontró ninguna estación para {e}",
    failed: "No se pudo {a}: {m}",
    states: {
      idle: "En espera",
      warm_up: "Calentando",
      forward: "Caminando hacia delante",
      backward: "Caminando hacia atrás",
      cool_down: "Enfriando",
      paused: "En pausa",
      paused_by_safety: "En pausa por seguridad",
      interrupted: "Interrumpida",
      finished: "Terminada",
      unavailable: "No disponible",
      unknown: "Desconocido",
    },
    phases: {
      warm_up: "Calentamiento",
      forward: "Hacia delante",
      backward: "Hacia atrás",
      cool_down: "Vuelta a la calma",
    },
  },
};

const ICONS = {
  start: "mdi:play",
  pause: "mdi:pause",
  resume: "mdi:play-pause",
  stop: "mdi:stop",
  acknowledge: "mdi:check-circle-outline",
  steady: "mdi:check-circle",
  unstable: "mdi:alert",
  safetyPause: "mdi:hand-back-left",
  partnerAlert: "mdi:account-alert",
};

const RING_RADIUS = 52;
const RING_LENGTH = 2 * Math.PI * RING_RADIUS;

const STYLE = `
  :host { display: block; }
  ha-card { padding: 16px; box-sizing: border-box; height: 100%; overflow: hidden; }
  .header { display: flex; align-items: center; gap: 12px; margin-bottom: 12px; min-width: 0; }
  .title { flex: 1 1 auto; min-width: 0; font-size: 1.25rem; font-weight: 500;
    color: var(--primary-text-color); white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
  .chip { flex: 0 0 auto; border-radius: 999px; padding: 4px 12px; font-size: 0.875rem;
    font-weight: 500; color: #fff; background: var(--rw-chip, var(--disabled-color, #9e9e9e));
    white-space: nowrap; }
  .chip[data-kind="running"] { --rw-chip: var(--success-color, #2e7d32); }
  .chip[data-kind="paused"] { --rw-chip: var(--warning-color, #ffa600); color: #1f1300; }
  .chip[data-kind="safety"] { --rw-chip: var(--error-color, #c62828); }
  .chip[data-kind="idle"] { --rw-chip: var(--secondary-text-color, #616161); }
  .week { display: flex; align-items: center; gap: 14px; margin-top: 16px; padding-top: 14px;
    border-top: 1px solid var(--divider-color, rgba(127,127,127,0.25)); }
  .ring { flex: 0 0 auto; width: 84px; height: 84px; position: relative; }
  .ring svg { width: 100%; height: 100%; transform: rotate(-90deg); }
  .ring .track { stroke: var(--divider-color, rgba(127,127,127,0.25)); }
  .ring .value { stroke: var(--primary-color, #03a9f4); transition: stroke-dashoffset 0.6s ease; }
  .ring .value.done { stroke: var(--success-color, #2e7d32); }
  .ring .label { position: absolute; inset: 0; display: flex; flex-direction: column;
    align-items: center; justify-content: center; text-align: center; line-height: 1.2; }
  .ring .pct { font-size: 1.15rem; font-weight: 600; color: var(--primary-text-color);
    font-variant-numeric: tabular-nums; }
  .week-text { min-width: 0; }
  .week-title { font-weight: 500; color: var(--primary-text-color); }
  .week-detail { font-size: 0.875rem; color: var(--secondary-text-color); }
  .stats { min-width: 0; display: grid;
    grid-template-columns: repeat(auto-fit, minmax(min(120px, 100%), 1fr)); gap: 10px 12px; }
  .stat { min-width: 0; }
  .stat .k { font-size: 0.75rem; text-transform: uppercase; letter-spacing: 0.04em;
    color: var(--secondary-text-color); white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
  .stat .v { font-size: 1.35rem; font-weight: 500; color: var(--primary-text-color);
    font-variant-numeric: tabular-nums; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
  .stat .v small { font-size: 0.8rem; font-weight: 400; color: var(--secondary-text-color); margin-left: 2px; }
  .stat.wide { grid-column: 1 / -1; }
  .stat.wide .v { font-size: 1.1rem; }
  .safety { display: flex; flex-direction: column; gap: 8px; margin-top: 16px; }
  .status { display: flex; align-items: center; gap: 10px; border-radius: 12px; padding: 10px 12px;
    color: #fff; background: var(--rw-status); }
  .status[data-level="ok"] { --rw-status: var(--success-color, #2e7d32); }
  .status[data-level="warning"] { --rw-status: var(--warning-color, #ffa600); color: #1f1300; }
  .status[data-level="error"] { --rw-status: var(--error-color, #c62828); }
  .status[data-level="error"].pulse { animation: rw-pulse 1.6s ease-in-out infinite; }
  @keyframes rw-pulse { 50% { filter: brightness(1.15); } }
  .status ha-icon { flex: 0 0 auto; --mdc-icon-size: 24px; }
  .status .text { flex: 1 1 auto; min-width: 0; }
  .status .t { font-weight: 600; }
  .status .d { font-size: 0.8125rem; line-height: 1.35; opacity: 0.92; }
  .status button { flex: 0 0 auto; }
  .controls { display: flex; gap: 8px; margin-top: 16px; flex-wrap: wrap; }
  button { font: inherit; display: inline-flex; align-items: center; justify-content: center;
    gap: 6px; min-height: 40px; padding: 0 16px; border-radius: 20px; border: none;
    cursor: pointer; font-weight: 500; font-size: 0.9375rem; color: var(--text-primary-color, #fff);
    background: var(--primary-color, #03a9f4); }
  button ha-icon { --mdc-icon-size: 20px; }
  .controls button { flex: 1 1 0; min-width: 96px; }
  button.stop { background: var(--error-color, #c62828); }
  button.secondary { background: transparent; color: var(--primary-color, #03a9f4);
    box-shadow: inset 0 0 0 1px var(--primary-color, #03a9f4); }
  .status button { background: rgba(255,255,255,0.95); color: #b71c1c; min-height: 36px; }
  button:focus-visible { outline: 3px solid var(--accent-color, #ff9800); outline-offset: 2px; }
  button:disabled { opacity: 0.5; cursor: default; }
  [hidden] { display: none !important; }
  .walkers { display: flex; align-items: center; gap: 6px 8px; flex-wrap: wrap; margin: -4px 0 12px; }
  .walkers .k { font-size: 0.75rem; text-transform: uppercase; letter-spacing: 0.04em;
    color: var(--secondary-text-color); margin-right: 2px; }
  .walkers button.who { min-height: 32px; padding: 0 14px; border-radius: 16px; font-size: 0.875rem;
    background: transparent; color: var(--primary-text-color);
    box-shadow: inset 0 0 0 1px var(--divider-color, rgba(127,127,127,0.4)); max-width: 100%;
    overflow: hidden; text-overflow: ellipsis; white-space: nowrap; display: inline-block; line-height: 32px; }
  .walkers button.who[aria-pressed="true"] { background: var(--primary-color, #03a9f4);
    color: var(--text-primary-color, #fff); box-shadow: none; }
  .walkers button.who:disabled { cursor: default; opacity: 0.55; }
  .walkers button.who[aria-pressed="true"]:disabled { opacity: 0.85; }
  .walkers select { font: inherit; font-size: 0.9375rem; min-height: 32px; max-width: 100%;
    padding: 0 8px; border-radius: 8px; color: var(--primary-text-color);
    background: var(--card-background-color, transparent);
    border: 1px solid var(--divider-color, rgba(127,127,127,0.4)); }
  .walkers select:focus-visible { outline: 3px solid var(--accent-color, #ff9800); outline-offset: 2px; }
  .trend { margin-top: 14px; }
  .trend-head { display: flex; align-items: center; justify-content: space-between; gap: 8px;
    font-size: 0.8125rem; color: var(--secondary-text-color); margin-bottom: 6px; }
  .trend-head .goal-key { display: inline-flex; align-items: center; gap: 6px; white-space: nowrap; }
  .trend-head .goal-key::before { content: ""; width: 16px; border-top: 2px dashed var(--secondary-text-color); }
  .plot { position: relative; height: 64px; border-bottom: 1px solid var(--divider-color, rgba(127,127,127,0.35)); }
  .plot svg { display: block; width: 100%; height: 100%; overflow: visible; }
  .plot .bar { fill: var(--primary-color, #03a9f4); }
  .plot .bar.met { fill: var(--success-color, #2e7d32); }
  .plot .bar.zero { fill: var(--divider-color, rgba(127,127,127,0.3)); }
  .plot .goal { stroke: var(--secondary-text-color, #616161); stroke-width: 1.5; stroke-dasharray: 4 3; fill: none; }
  .axis { display: flex; justify-content: space-between; gap: 8px; margin-top: 4px;
    font-size: 0.75rem; color: var(--secondary-text-color); }
  .trend-note { position: absolute; inset: 0 0 8px; display: flex; align-items: center;
    justify-content: center; text-align: center; padding: 0 8px;
    font-size: 0.8125rem; color: var(--secondary-text-color); }
  .error { margin-top: 8px; color: var(--error-color, #c62828); font-size: 0.875rem; }
  .warning { padding: 8px; color: var(--error-color, #c62828); }
`;

function fill(text, values) {
  return text.replace(/\{(\w+)\}/g, (_, key) => (key in values ? values[key] : ""));
}

function usable(stateObj) {
  return (
    stateObj !== undefined &&
    stateObj.state !== "unavailable" &&
    stateObj.state !== "unknown"
  );
}

// A duration sensor (any time unit) in seconds, or NaN.
function durationSeconds(stateObj) {
  if (!usable(stateObj)) return NaN;
  const value = Number(stateObj.state);
  const unit = stateObj.attributes.unit_of_measurement;
  return value * ({ s: 1, min: 60, h: 3600, d: 86400 }[unit] ?? 1);
}

// Seconds from a timestamp sensor to now (negative: still ahead), or NaN.
function secondsSince(stateObj) {
  if (!usable(stateObj)) return NaN;
  return (Date.now() - Date.parse(stateObj.state)) / 1000;
}

// Seconds as h:mm:ss or m:ss.
function formatSeconds(value) {
  if (!Number.isFinite(value)) return "—";
  let total = Math.max(0, Math.round(value));
  const hours = Math.floor(total / 3600);
  total -= hours * 3600;
  const minutes = Math.floor(total / 60);
  const seconds = String(total - minutes * 60).padStart(2, "0");
  return hours > 0
    ? `${hours}:${String(minutes).padStart(2, "0")}:${seconds}`
    : `${minutes}:${seconds}`;
}

// Home Assistant's slugify, near enough for a walker's name in an entity id.
function slugify(text) {
  return String(text)
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "");
}

// The Monday that starts the week of `date` in `timeZone` (undefined: the
// browser's), as a Date at UTC midnight of that calendar day.
function weekStart(date, timeZone) {
  let parts;
  try {
    parts = new Intl.DateTimeFormat("en-US", {
      timeZone,
      year: "numeric",
      month: "numeric",
      day: "numeric",
    }).formatToParts(date);
  } catch (_err) {
    // An unknown time zone: the browser's.
    parts = new Intl.DateTimeFormat("en-US", {
      year: "numeric",
      month: "numeric",
      day: "numeric",
    }).formatToParts(date);
  }
  const part = (type) => Number(parts.find((p) => p.type === type).value);
  const day = new Date(Date.UTC(part("year"), part("month") - 1, part("day")));
  day.setUTCDate(day.getUTCDate() - ((day.getUTCDay() + 6) % 7));
  return day;
}

function dayKey(day) {
  return day.toISOString().slice(0, 10);
}

// A session's backward minutes from a get_history record (from the seconds:
// backward_minutes is rounded to a tenth).
function sessionMinutes(session) {
  if (typeof session.backward_time === "number") return session.backward_time / 60;
  if (typeof session.backward_minutes === "number") return session.backward_minutes;
  return 0;
}

class RetroWalkCard extends HTMLElement {
  constructor() {
    super();
    this._config = undefined;
    this._hass = undefined;
    this._entities = undefined;
    this._resolvedFrom = undefined;
    this._lastKey = undefined;
    this._error = "";
    this._running = false;
    this._active = false;
    this._timer = undefined;
    this._walkerEntities = {};
    this._walkerKey = undefined;
    this._history = new Map(); // walker -> {sessions, at, failed}
    this._historyVersion = 0;
    this._fetching = false;
    this._fetchAgain = false;
    this._lastFetchAt = 0;
    this._fetchTimer = undefined;
    this._fetchDue = 0;
    this._fetchingWalker = undefined;
    this._lastWeekMinutes = undefined;
    this._wasActive = undefined;
    this.attachShadow({ mode: "open" });
  }

  static getStubConfig(hass) {
    const entries = Object.values((hass && hass.entities) || {});
    const session = entries.find(
      (entry) =>
        entry.platform === PLATFORM &&
        entry.translation_key === "session" &&
        entry.entity_id.startsWith("switch."),
    );
    return {
      entity: session ? session.entity_id : "switch.demo_station_session",
    };
  }

  setConfig(config) {
    if (!config || typeof config !== "object") {
      throw new Error("Retro Walk card: invalid configuration");
    }
    if (
      typeof config.entity !== "string" ||
      !/^[a-z_]+\.[a-z0-9_]+$/.test(config.entity)
    ) {
      throw new Error(
        "Retro Walk card: set 'entity' to an entity of a Retro Walk station, " +
          "e.g. entity: switch.demo_station_session",
      );
    }
    if (config.title !== undefined && typeof config.title !== "string") {
      throw new Error("Retro Walk card: 'title' must be text");
    }
    this._config = { ...config };
    this._entities = undefined;
    this._walkerKey = undefined;
    this._history = new Map();
    this._lastKey = undefined;
    this._build();
    if (this._hass) this._update();
  }

  set hass(hass) {
    this._hass = hass;
    this._update();
  }

  getCardSize() {
    return 9;
  }

  getGridOptions() {
    return { columns: 12, min_columns: 6, rows: "auto" };
  }

  // ---------------------------------------------------------------- text
  _lang() {
    const hass = this._hass;
    const language =
      (hass && ((hass.locale && hass.locale.language) || hass.language)) || "en";
    const base = String(language).toLowerCase().split(/[-_]/)[0];
    return STRINGS[base] ? base : "en";
  }

  _t(key, values) {
    const strings = STRINGS[this._lang()];
    const text = strings[key] ?? STRINGS.en[key] ?? key;
    return values ? fill(text, values) : text;
  }

  // ------------------------------------------------------------ entities
  _resolve() {
    const hass = this._hass;
    const registry = hass.entities;
    if (this._entities && this._resolvedFrom === registry) return this._entities;
    const found = {};
    this._deviceId = undefined;
    this._entryId = undefined;
    const own = registry && registry[this._config.entity];
    if (own && own.device_id) {
      const wanted = {};
      for (const [role, [domain, key]] of Object.entries(ROLES)) {
        wanted[`${domain}.${key}`] = role;
      }
      for (const entry of Object.values(registry)) {
        if (entry.device_id !== own.device_id || !entry.translation_key) continue;
        if (entry.platform && entry.platform !== PLATFORM) continue;
        const domain = entry.entity_id.split(".")[0];
        const role = wanted[`${domain}.${entry.translation_key}`];
        if (role && !found[role]) found[role] = entry.entity_id;
      }
      const device = hass.devices && hass.devices[own.device_id];
      this._deviceName = device ? device.name_by_user || device.name : undefined;
      this._deviceId = own.device_id;
      this._entryId = device
        ? device.primary_config_entry || (device.config_entries || [])[0]
        : undefined;
    }
    if (!found.session) {
      // No registry (or no translation keys): guess from the entity id.
      const objectId = this._config.entity.split(".")[1];
      const base = objectId.replace(
        /_(session|session_state|phase|elapsed_time|time_remaining|session_started|session_ends|backward_time|belt_speed|instability|partner_alert|weekly_goal_progress|backward_minutes_this_week|pause|resume|program|walker)$/,
        "",
      );
      for (const [role, [domain]] of Object.entries(ROLES)) {
        const guess = `${domain}.${base}_${FALLBACK_SUFFIX[role]}`;
        if (!found[role] && hass.states[guess]) found[role] = guess;
      }
    }
    this._entities = found;
    this._resolvedFrom = registry;
    return found;
  }

  // The walker on the belt: the walker select's state, or undefined.
  _walker() {
    const stateObj = this._state("walker");
    return usable(stateObj) && stateObj.state ? stateObj.state : undefined;
  }

  // The walker's progress sensors: on the walker's device (whose
  // via_device_id is the station's device and whose name is the walker's),
  // else by entity id (sensor.<slug(walker)>_...), else the station's own.
  _resolveWalker() {
    const hass = this._hass;
    const walker = this._walker();
    const key = [walker, hass.entities, hass.devices, this._deviceId];
    if (
      this._walkerKey &&
      key.every((part, index) => part === this._walkerKey[index])
    ) {
      return this._walkerEntities;
    }
    const found = {};
    if (walker !== undefined) {
      const devices = Object.values(hass.devices || {}).filter(
        (device) =>
          this._deviceId !== undefined &&
          device.via_device_id === this._deviceId,
      );
      const device =
        devices.find((d) => d.name === walker) ||
        devices.find((d) => d.name_by_user === walker);
      if (device && hass.entities) {
        const wanted = {};
        for (const [role, [translationKey]] of Object.entries(WALKER_ROLES)) {
          wanted[translationKey] = role;
        }
        for (const entry of Object.values(hass.entities)) {
          if (entry.device_id !== device.id || !entry.translation_key) continue;
          if (entry.platform && entry.platform !== PLATFORM) continue;
          if (!entry.entity_id.startsWith("sensor.")) continue;
          const role = wanted[entry.translation_key];
          if (role && !found[role]) found[role] = entry.entity_id;
        }
      }
      const slug = slugify(walker);
      for (const [role, [, suffix]] of Object.entries(WALKER_ROLES)) {
        const guess = `sensor.${slug}_${suffix}`;
        if (!found[role] && slug && hass.states[guess]) found[role] = guess;
      }
    }
    this._walkerEntities = found;
    this._walkerKey = key;
    return found;
  }

  _state(role) {
    const entityId =
      (this._walkerEntities && this._walkerEntities[role]) ||
      (this._entities && this._entities[role]);
    return entityId ? this._hass.states[entityId] : undefined;
  }

  // ------------------------------------------------------------- building
  _build() {
    const root = this.shadowRoot;
    root.innerHTML = `
      <style>${STYLE}</style>
      <ha-card>
        <div class="warning" id="missing" role="alert" hidden></div>
        <div id="content">
          <div class="header">
            <div class="title" id="title"></div>
            <div class="chip" id="chip" role="status" aria-live="polite"></div>
          </div>
          <div class="walkers" id="walkers" hidden></div>
          <div class="stats">
            <div class="stat wide"><div class="k" id="k-phase"></div><div class="v" id="phase"></div></div>
            <div class="stat"><div class="k" id="k-elapsed"></div><div class="v" id="elapsed"></div></div>
            <div class="stat"><div class="k" id="k-remaining"></div><div class="v" id="remaining"></div></div>
            <div class="stat"><div class="k" id="k-backward"></div><div class="v" id="backward"></div></div>
            <div class="stat"><div class="k" id="k-speed"></div><div class="v" id="speed"></div></div>
          </div>
          <div class="safety" id="safety" role="region" aria-live="assertive"></div>
          <div class="controls">
            <button id="start" data-action="start"><ha-icon icon="${ICONS.start}"></ha-icon><span></span></button>
            <button id="pause" data-action="pause" class="secondary"><ha-icon icon="${ICONS.pause}"></ha-icon><span></span></button>
            <button id="resume" data-action="resume"><ha-icon icon="${ICONS.resume}"></ha-icon><span></span></button>
            <button id="stop" data-action="stop" class="stop"><ha-icon icon="${ICONS.stop}"></ha-icon><span></span></button>
          </div>
          <div class="error" id="error" role="alert" hidden></div>
          <div class="week">
            <div class="ring" id="ring" role="img">
              <svg viewBox="0 0 120 120" aria-hidden="true">
                <circle class="track" cx="60" cy="60" r="${RING_RADIUS}" fill="none" stroke-width="12"></circle>
                <circle class="value" id="ring-value" cx="60" cy="60" r="${RING_RADIUS}" fill="none"
                  stroke-width="12" stroke-linecap="round"
                  stroke-dasharray="${RING_LENGTH}" stroke-dashoffset="${RING_LENGTH}"></circle>
              </svg>
              <div class="label" aria-hidden="true"><span class="pct" id="pct"></span></div>
            </div>
            <div class="week-text">
              <div class="week-title" id="week-title"></div>
              <div class="week-detail" id="week"></div>
              <div class="week-detail" id="goal"></div>
              <div class="week-detail" id="next" hidden></div>
            </div>
          </div>
          <div class="trend" id="trend" hidden>
            <div class="trend-head"><span id="trend-title"></span><span class="goal-key" id="trend-goal" hidden></span></div>
            <div class="plot">
              <svg id="bars" role="img" preserveAspectRatio="none"></svg>
              <div class="trend-note" id="trend-note" hidden></div>
            </div>
            <div class="axis"><span id="axis-first"></span><span id="axis-last"></span></div>
          </div>
        </div>
      </ha-card>
    `;
    root.querySelectorAll("button[data-action]").forEach((button) => {
      button.addEventListener("click", () => this._act(button.dataset.action));
    });
    this._safetyKey = undefined;
    this._pickerKey = undefined;
    this._trendKey = undefined;
  }

  // ---------------------------------------------------------------- timers
  // The station writes durations in tenths of a minute; while the session
  // moves, the card counts the seconds itself from the Session started and
  // Session ends timestamps (the sensors when those are missing).
  _showTimers() {
    const root = this.shadowRoot;
    // Elapsed is wall time since the start (pauses included): counted from
    // Session started whenever a session is under way. Remaining only runs
    // down while the session moves, towards Session ends.
    const started = this._active ? secondsSince(this._state("started")) : NaN;
    const ends = this._running ? -secondsSince(this._state("ends")) : NaN;
    const elapsed = Number.isFinite(started)
      ? started
      : durationSeconds(this._state("elapsed"));
    const remaining = Number.isFinite(ends)
      ? ends
      : durationSeconds(this._state("remaining"));
    root.getElementById("elapsed").textContent = formatSeconds(elapsed);
    root.getElementById("remaining").textContent = formatSeconds(remaining);
    root.getElementById("backward").textContent = formatSeconds(
      durationSeconds(this._state("backward")),
    );
  }

  _tick(on) {
    if (on && this._timer === undefined && this.isConnected) {
      this._timer = setInterval(() => this._showTimers(), 1000);
    } else if (!on && this._timer !== undefined) {
      clearInterval(this._timer);
      this._timer = undefined;
    }
  }

  disconnectedCallback() {
    this._tick(false);
    clearTimeout(this._fetchTimer);
    this._fetchTimer = undefined;
  }

  connectedCallback() {
    if (this._active) this._tick(true);
    if (this._config && this._hass) {
      this._lastKey = undefined;
      this._update();
    }
  }

  // -------------------------------------------------------------- updating
  _update() {
    if (!this._config || !this._hass) return;
    const root = this.shadowRoot;
    const entities = this._resolve();
    const walkerEntities = this._resolveWalker();
    this._watchHistory();
    const ids = [...Object.values(entities), ...Object.values(walkerEntities)];
    const key = [
      this._lang(),
      this._error,
      this._historyVersion,
      this._walker(),
      this._resolvedFrom === undefined ? "" : ids.length,
      ...ids.map((id) => {
        const s = this._hass.states[id];
        return s ? `${s.state}|${s.last_updated}|${s.attributes.options}` : "-";
      }),
    ].join(";");
    if (key === this._lastKey) return;
    this._lastKey = key;

    const missing = root.getElementById("missing");
    const content = root.getElementById("content");
    if (!entities.session && !entities.state) {
      missing.textContent = this._t("missing", { e: this._config.entity });
      missing.hidden = false;
      content.hidden = true;
      return;
    }
    missing.hidden = true;
    content.hidden = false;

    const strings = STRINGS[this._lang()];
    const stateObj = this._state("state");
    const state = stateObj ? stateObj.state : "unknown";
    const running = RUNNING.includes(state);
    const halted = HALTED.includes(state);

    // Header: station name and session state.
    root.getElementById("title").textContent =
      this._config.title || this._deviceName || this._t("station");
    const chip = root.getElementById("chip");
    chip.textContent = strings.states[state] || STRINGS.en.states[state] || state;
    chip.dataset.kind = running
      ? "running"
      : state === "paused_by_safety"
        ? "safety"
        : halted
          ? "paused"
          : "idle";

    // Phase and timers.
    const phaseObj = this._state("phase");
    const phase = usable(phaseObj) ? phaseObj.state : undefined;
    root.getElementById("k-phase").textContent = this._t("phase");
    root.getElementById("phase").textContent = phase
      ? strings.phases[phase] || phase
      : "—";
    for (const role of ["elapsed", "remaining", "backward"]) {
      root.getElementById(`k-${role}`).textContent = this._t(role);
    }
    this._running = running;
    this._active = running || halted;
    this._showTimers();
    this._tick(this._active);
    root.getElementById("k-speed").textContent = this._t("speed");
    const speedObj = this._state("speed");
    const speedEl = root.getElementById("speed");
    if (usable(speedObj) && Number.isFinite(Number(speedObj.state))) {
      speedEl.textContent = Number(speedObj.state).toLocaleString(this._lang(), {
        minimumFractionDigits: 1,
        maximumFractionDigits: 1,
      });
      const unit = document.createElement("small");
      unit.textContent = speedObj.attributes.unit_of_measurement || "";
      speedEl.append(unit);
    } else {
      speedEl.textContent = "—";
    }

    // Who is on the belt.
    this._renderPicker(running || halted);

    // Weekly progress ring.
    const progressObj = this._state("progress");
    const progress = usable(progressObj) ? Number(progressObj.state) : NaN;
    const shown = Number.isFinite(progress) ? Math.round(progress) : undefined;
    const fraction = shown === undefined ? 0 : Math.min(Math.max(progress, 0), 100) / 100;
    const ringValue = root.getElementById("ring-value");
    ringValue.setAttribute("stroke-dashoffset", String(RING_LENGTH * (1 - fraction)));
    ringValue.classList.toggle("done", fraction >= 1);
    root.getElementById("pct").textContent = shown === undefined ? "—" : `${shown}%`;
    root.getElementById("goal").textContent =
      shown === undefined ? "" : this._t("goalDone", { p: shown });
    root.getElementById("week-title").textContent = this._t("week");
    root
      .getElementById("ring")
      .setAttribute("aria-label", this._t("progressLabel", { p: shown ?? "—" }));
    const weekObj = this._state("weekMinutes");
    root.getElementById("week").textContent = usable(weekObj)
      ? this._t("weekMinutes", {
          n: Number(weekObj.state).toLocaleString(this._lang(), {
            maximumFractionDigits: 1,
          }),
        })
      : "—";
    const nextObj = this._state("next");
    const next = root.getElementById("next");
    next.hidden = !usable(nextObj);
    next.textContent = usable(nextObj)
      ? this._t("next", {
          n: Number(nextObj.state).toLocaleString(this._lang(), {
            maximumFractionDigits: 1,
          }),
        })
      : "";
    this._renderTrend();

    // Safety status.
    const statuses = [];
    const alertObj = this._state("partnerAlert");
    if (alertObj && alertObj.state === "on") {
      statuses.push({ id: "partnerAlert", level: "error", pulse: true,
        action: this._entities.acknowledge ? "acknowledge" : undefined });
    }
    if (state === "paused_by_safety") {
      statuses.push({ id: "safetyPause", level: "error" });
    }
    const instabilityObj = this._state("instability");
    if (instabilityObj && instabilityObj.state === "on") {
      statuses.push({ id: "unstable", level: "warning",
        detail: running ? "unstableDetail" : "unstableHaltedDetail" });
    }
    if (statuses.length === 0 && instabilityObj) {
      statuses.push({ id: "steady", level: "ok" });
    }
    this._renderSafety(statuses);

    // Controls: what makes sense now.
    const sessionObj = this._state("session");
    const available = (role) => usable(this._state(role)) || this._state(role)?.state === "unknown";
    this._control("start", !running && !halted, sessionObj && sessionObj.state !== "unavailable");
    this._control("pause", running, available("pause"));
    this._control("resume", halted, available("resume"));
    this._control("stop", running || halted, sessionObj && sessionObj.state !== "unavailable");

    const error = root.getElementById("error");
    error.textContent = this._error;
    error.hidden = !this._error;
  }

  // ---------------------------------------------------------------- walker
  _renderPicker(locked) {
    const root = this.shadowRoot;
    const box = root.getElementById("walkers");
    const stateObj = this._state("walker");
    const options = usable(stateObj) ? stateObj.attributes.options || [] : [];
    const current = this._walker();
    const key = JSON.stringify([this._lang(), options, current, locked]);
    if (key === this._pickerKey) return;
    this._pickerKey = key;
    box.hidden = options.length === 0;
    box.replaceChildren();
    if (options.length === 0) return;
    const label = document.createElement("span");
    label.className = "k";
    label.textContent = this._t("walker");
    box.append(label);
    const lockedTitle = locked ? this._t("walkerLocked") : this._t("walkerLabel");
    box.setAttribute("role", "group");
    box.setAttribute("aria-label", this._t("walkerLabel"));
    if (options.length > PICKER_CHIPS_MAX) {
      const select = document.createElement("select");
      select.setAttribute("aria-label", this._t("walkerLabel"));
      select.title = lockedTitle;
      select.disabled = locked;
      if (current === undefined || !options.includes(current)) {
        const none = document.createElement("option");
        none.value = "";
        none.textContent = "—";
        none.selected = true;
        none.disabled = true;
        select.append(none);
      }
      for (const name of options) {
        const option = document.createElement("option");
        option.value = name;
        option.textContent = name;
        option.selected = name === current;
        select.append(option);
      }
      select.addEventListener("change", () => this._pickWalker(select.value));
      box.append(select);
      return;
    }
    for (const name of options) {
      const chip = document.createElement("button");
      chip.className = "who";
      chip.setAttribute("aria-pressed", String(name === current));
      chip.dataset.walker = name;
      chip.textContent = name;
      chip.title = locked && name !== current ? lockedTitle : name;
      chip.disabled = locked;
      chip.addEventListener("click", () => {
        if (name !== this._walker()) this._pickWalker(name);
      });
      box.append(chip);
    }
  }

  async _pickWalker(name) {
    const entityId = this._entities && this._entities.walker;
    if (!entityId || !name) return;
    try {
      this._error = "";
      await this._hass.callService("select", "select_option", {
        entity_id: entityId,
        option: name,
      });
    } catch (err) {
      this._error = this._t("failed", {
        a: this._t("selectWalkerLabel"),
        m: (err && err.message) || String(err),
      });
      this._pickerKey = undefined; // put the chips back as they were
    }
    this._lastKey = undefined;
    this._update();
  }

  // --------------------------------------------------------------- history
  // When to ask retro_walk.get_history again: a walker not asked for yet, a
  // session that has just finished, a change in the walker's week figure
  // outside a session, or a shown history grown stale. Never more than once a
  // minute, but for a walker not asked for yet and a session just finished.
  _watchHistory() {
    const walker = this._walker();
    if (walker === undefined || !this.isConnected) return;
    const stateObj = this._state("state");
    const state = stateObj ? stateObj.state : "unknown";
    const active = RUNNING.includes(state) || HALTED.includes(state);
    const finished = this._wasActive === true && !active;
    this._wasActive = active;
    const weekObj = this._state("weekMinutes");
    const week = `${walker}|${weekObj ? weekObj.state : ""}`;
    const weekChanged =
      this._lastWeekMinutes !== undefined && week !== this._lastWeekMinutes;
    this._lastWeekMinutes = week;
    const cached = this._history.get(walker);
    if (finished) {
      this._requestHistory(AFTER_SESSION_MS, true);
    } else if (!cached) {
      if (this._fetchingWalker !== walker) this._requestHistory(0, true);
    } else if (
      (weekChanged && !active) ||
      Date.now() - cached.at > HISTORY_STALE_MS
    ) {
      const wait = this._lastFetchAt + FETCH_MIN_INTERVAL_MS - Date.now();
      this._requestHistory(Math.max(wait, 0), false);
    }
  }

  // Fetch the selected walker's history after `delay` ms; `urgent` asks again
  // after a fetch under way rather than dropping the request.
  _requestHistory(delay, urgent) {
    if (this._fetching) {
      if (urgent) this._fetchAgain = true;
      return;
    }
    if (delay <= 0) {
      const walker = this._walker();
      if (walker !== undefined && this.isConnected) this._doFetch(walker);
      return;
    }
    const due = Date.now() + delay;
    if (this._fetchTimer !== undefined && this._fetchDue <= due) return;
    clearTimeout(this._fetchTimer);
    this._fetchDue = due;
    this._fetchTimer = setTimeout(() => {
      this._fetchTimer = undefined;
      this._requestHistory(0, true);
    }, delay);
  }

  async _doFetch(walker) {
    this._fetching = true;
    this._fetchingWalker = walker;
    this._lastFetchAt = Date.now();
    const data = { walker, limit: HISTORY_LIMIT };
    if (this._entryId) data.config_entry_id = this._entryId;
    let entry;
    try {
      // A response-only action: callService(domain, service, data, target,
      // notifyOnError, returnResponse) resolves to {context, response}.
      const result = await this._hass.callService(
        PLATFORM,
        "get_history",
        data,
        undefined,
        false,
        true,
      );
      const sessions = (result && result.response && result.response.sessions) || [];
      entry = {
        sessions: sessions.map((item) => ({
          at: Date.parse(item.started_at),
          minutes: sessionMinutes(item),
        })),
        at: Date.now(),
        failed: false,
      };
    } catch (_err) {
      // Keep what was shown; say so only when there is nothing to show.
      const previous = this._history.get(walker);
      entry = previous
        ? { ...previous, at: Date.now() }
        : { sessions: [], at: Date.now(), failed: true };
    }
    this._history.set(walker, entry);
    this._historyVersion += 1;
    this._fetching = false;
    this._fetchingWalker = undefined;
    if (this._fetchAgain) {
      this._fetchAgain = false;
      this._requestHistory(AFTER_SESSION_MS, true);
    }
    this._lastKey = undefined;
    this._update();
  }

  _timeZone() {
    const hass = this._hass;
    return hass.locale && hass.locale.time_zone === "server" && hass.config
      ? hass.config.time_zone
      : undefined;
  }

  // The goal in minutes: the progress sensor's goal_minutes attribute, else
  // worked out from this week's minutes and progress (both rounded, so only
  // from 10 % on, to the minute), else undefined.
  _goalMinutes() {
    const progressObj = this._state("progress");
    if (!progressObj) return undefined;
    const goal = Number(progressObj.attributes.goal_minutes);
    if (Number.isFinite(goal) && goal > 0) return goal;
    const progress = usable(progressObj) ? Number(progressObj.state) : NaN;
    const weekObj = this._state("weekMinutes");
    const minutes = usable(weekObj) ? Number(weekObj.state) : NaN;
    if (progress >= 10 && minutes > 0) return Math.round((minutes / progress) * 100);
    return undefined;
  }

  _renderTrend() {
    const root = this.shadowRoot;
    const trend = root.getElementById("trend");
    const walker = this._walker();
    const history = walker === undefined ? undefined : this._history.get(walker);
    if (!history) {
      trend.hidden = true;
      return;
    }
    const lang = this._lang();
    const timeZone = this._timeZone();
    const thisWeek = weekStart(new Date(), timeZone);
    const weeks = [];
    for (let i = WEEKS - 1; i >= 0; i -= 1) {
      const day = new Date(thisWeek);
      day.setUTCDate(day.getUTCDate() - 7 * i);
      weeks.push({ day, key: dayKey(day), minutes: 0 });
    }
    const byKey = new Map(weeks.map((week) => [week.key, week]));
    for (const session of history.sessions) {
      if (!Number.isFinite(session.at)) continue;
      const week = byKey.get(dayKey(weekStart(new Date(session.at), timeZone)));
      if (!week) continue;
      week.minutes += session.minutes;
    }
    // This week: the walker's sensor when it has a figure (it moves first).
    const weekObj = this._state("weekMinutes");
    const live = usable(weekObj) ? Number(weekObj.state) : NaN;
    if (Number.isFinite(live)) weeks[WEEKS - 1].minutes = live;
    const goal = this._goalMinutes();

    const key = JSON.stringify([lang, timeZone, weeks.map((w) => [w.key, w.minutes]),
      goal, history.failed]);
    if (key === this._trendKey && !trend.hidden) return;
    this._trendKey = key;
    trend.hidden = false;

    const number = (value) =>
      value.toLocaleString(lang, { maximumFractionDigits: value < 10 ? 1 : 0 });
    const dateLabel = (day) =>
      day.toLocaleDateString(lang, { day: "numeric", month: "short", timeZone: "UTC" });

    root.getElementById("trend-title").textContent = this._t("trend", { w: WEEKS });
    const goalKey = root.getElementById("trend-goal");
    goalKey.hidden = goal === undefined;
    goalKey.textContent = goal === undefined ? "" : this._t("trendGoal", { n: number(goal) });

    // Bars in a 10-unit slot each, 100 units tall; the SVG stretches to the
    // card's width (non-scaling strokes keep the goal line crisp).
    const svgNS = "http://www.w3.org/2000/svg";
    const svg = root.getElementById("bars");
    const width = WEEKS * 10;
    svg.setAttribute("viewBox", `0 0 ${width} 100`);
    // At least SCALE_MIN_MINUTES tall, so that a first short week stays short.
    const peak = Math.max(SCALE_MIN_MINUTES, goal ?? 0, ...weeks.map((w) => w.minutes));
    const scale = 92 / peak;
    svg.replaceChildren();
    weeks.forEach((week, index) => {
      const rect = document.createElementNS(svgNS, "rect");
      const height = week.minutes > 0 ? Math.max(week.minutes * scale, 2.5) : 1.5;
      rect.setAttribute("x", String(index * 10 + 1.75));
      rect.setAttribute("width", "6.5");
      rect.setAttribute("y", String(100 - height));
      rect.setAttribute("height", String(height));
      const classes = ["bar"];
      if (week.minutes <= 0) classes.push("zero");
      else if (goal !== undefined && week.minutes >= goal) classes.push("met");
      rect.setAttribute("class", classes.join(" "));
      const title = document.createElementNS(svgNS, "title");
      title.textContent = this._t("trendWeek", {
        d: dateLabel(week.day),
        n: number(week.minutes),
      });
      rect.append(title);
      svg.append(rect);
    });
    if (goal !== undefined) {
      const y = String(100 - goal * scale);
      const line = document.createElementNS(svgNS, "line");
      line.setAttribute("class", "goal");
      line.setAttribute("x1", "0");
      line.setAttribute("x2", String(width));
      line.setAttribute("y1", y);
      line.setAttribute("y2", y);
      line.setAttribute("vector-effect", "non-scaling-stroke");
      svg.append(line);
    }
    svg.setAttribute(
      "aria-label",
      this._t("trendLabel", {
        w: WEEKS,
        goal: goal === undefined ? "" : this._t("trendLabelGoal", { n: number(goal) }),
        weeks: weeks
          .map((week) =>
            this._t("trendWeek", { d: dateLabel(week.day), n: number(week.minutes) }),
          )
          .join("; "),
      }),
    );
    root.getElementById("axis-first").textContent = dateLabel(weeks[0].day);
    root.getElementById("axis-last").textContent = this._t("thisWeek");
    const note = root.getElementById("trend-note");
    const empty = weeks.every((week) => week.minutes <= 0);
    const noteText = history.failed
      ? this._t("trendFailed")
      : empty
        ? this._t("trendEmpty", { w: WEEKS })
        : "";
    note.hidden = !noteText;
    note.textContent = noteText;
  }

  _renderSafety(statuses) {
    const key = `${this._lang()}|${statuses.map((s) => s.detail || s.id).join(",")}`;
    if (key === this._safetyKey) return;
    this._safetyKey = key;
    const region = this.shadowRoot.getElementById("safety");
    region.setAttribute("aria-label", this._t("safetyRegion"));
    region.replaceChildren();
    for (const status of statuses) {
      const row = document.createElement("div");
      row.className = status.pulse ? "status pulse" : "status";
      row.dataset.level = status.level;
      row.dataset.status = status.id;
      const icon = document.createElement("ha-icon");
      icon.setAttribute("icon", ICONS[status.id]);
      const text = document.createElement("div");
      text.className = "text";
      const title = document.createElement("div");
      title.className = "t";
      title.textContent = this._t(status.id);
      const detail = document.createElement("div");
      detail.className = "d";
      detail.textContent = this._t(status.detail || `${status.id}Detail`);
      text.append(title, detail);
      row.append(icon, text);
      if (status.action) {
        const button = document.createElement("button");
        button.dataset.action = status.action;
        button.setAttribute("aria-label", this._t(`${status.action}Label`));
        const buttonIcon = document.createElement("ha-icon");
        buttonIcon.setAttribute("icon", ICONS[status.action]);
        const label = document.createElement("span");
        label.textContent = this._t(status.action);
        button.append(buttonIcon, label);
        button.addEventListener("click", () => this._act(status.action));
        row.append(button);
      }
      region.append(row);
    }
  }

  _control(action, visible, enabled) {
    const button = this.shadowRoot.getElementById(action);
    button.hidden = !visible;
    button.disabled = !enabled;
    button.querySelector("span").textContent = this._t(action);
    button.setAttribute("aria-label", this._t(`${action}Label`));
    button.title = this._t(`${action}Label`);
  }

  // --------------------------------------------------------------- actions
  async _act(action) {
    const entities = this._entities || {};
    const calls = {
      start: ["switch", "turn_on", entities.session],
      stop: ["switch", "turn_off", entities.session],
      pause: ["button", "press", entities.pause],
      resume: ["button", "press", entities.resume],
      acknowledge: ["button", "press", entities.acknowledge],
    };
    const [domain, service, entityId] = calls[action] || [];
    if (!entityId) return;
    try {
      this._error = "";
      await this._hass.callService(domain, service, { entity_id: entityId });
    } catch (err) {
      this._error = this._t("failed", {
        a: this._t(`${action}Label`).toLowerCase(),
        m: (err && err.message) || String(err),
      });
    }
    this._lastKey = undefined;
    this._update();
  }
}

if (!customElements.get("retro-walk-card")) {
  customElements.define("retro-walk-card", RetroWalkCard);
  window.customCards = window.customCards || [];
  window.customCards.push({
    type: "retro-walk-card",
    name: "Retro Walk",
    description:
      "A retro walking session: phase, timers, belt speed, safety status, controls and weekly progress.",
    preview: true,
    documentationURL: "https://github.com/retro-walk/retro-walk",
  });
  console.info(
    `%c RETRO-WALK-CARD %c ${CARD_VERSION} `,
    "color: white; background: #2e7d32; font-weight: 700;",
    "color: #2e7d32; background: white; font-weight: 700;",
  );
}
