"""Motion samples for a station: Sensor Logger over a webhook or MQTT.

Every message goes through the same path: size check, JSON, validation
(``detection.parse_message``), the stream's owner, the station's detector.
Bad input is answered with a 4xx and a rate-limited log line; it never raises
into the event loop.

One phone per session: the first device (Sensor Logger ``deviceId``) heard
during a session owns its stream until the session ends. Messages from any
other device are refused (409 ``other_device``), counted and logged at most
once a minute; they neither feed the detector nor keep the stream watchdog
quiet. The owner's app restarting its recording (a new ``sessionId`` from the
same device) is taken, and recalibrates the detector: the phone may have been
put back on the walker another way.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
import logging
import time
from typing import TYPE_CHECKING, Any

from aiohttp import ClientPayloadError, web
from aiohttp.hdrs import METH_HEAD, METH_POST
import numpy as np

from homeassistant.components import webhook
from homeassistant.components.webhook import SUPPORTED_METHODS
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_WEBHOOK_ID
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.util.aiohttp import MockRequest
from homeassistant.util.json import json_loads

from .const import (
    CONF_MQTT_TOPIC,
    CONF_WEBHOOK_ENABLED,
    CONF_WEBHOOK_LOCAL_ONLY,
    DOMAIN,
    MAX_WEBHOOK_BODY,
)
from .detection import Detection, Detector, MessageError, parse_message
from .detection.detector import FloatArray, IntArray

if TYPE_CHECKING:
    from homeassistant.components.mqtt import ReceiveMessage

_LOGGER = logging.getLogger(__name__)

# A rejected message is logged at most this often per reason.
LOG_INTERVAL = 60.0
# The detector runs once this many admitted samples are pending (one 200 ms
# push at 100 Hz), or once MAX_HELD pushes are, or FLUSH_AFTER seconds after a
# push that is still waiting: a decision is delayed by at most one push.
MIN_RUN_SAMPLES = 20
MAX_HELD = 2
FLUSH_AFTER = 0.15
# How long a push may take to arrive in full. A phone on Wi-Fi sends a message
# in several TCP segments; a client that announces more than it sends (or
# stalls) is cut off after this, without holding the station up meanwhile.
BODY_TIMEOUT = 10.0


class _BodyTooLargeError(Exception):
    """The body is larger than MAX_WEBHOOK_BODY."""


async def _async_read_body(request: web.Request | MockRequest) -> bytes:
    """The whole body, however many segments it arrives in, up to the limit.

    ``request.content.read(n)`` returns what has arrived so far, not n bytes:
    read until the end of the stream instead. Requests relayed by Home
    Assistant Cloud or the websocket API are ``MockRequest``s whose body is
    already in memory and which have no ``content_length``.
    """
    if isinstance(request, MockRequest):
        body = await request.content.read()
    else:
        if (request.content_length or 0) > MAX_WEBHOOK_BODY:
            raise _BodyTooLargeError
        received = bytearray()
        async with asyncio.timeout(BODY_TIMEOUT):
            async for chunk in request.content.iter_any():
                received += chunk
                if len(received) > MAX_WEBHOOK_BODY:
                    raise _BodyTooLargeError
        body = bytes(received)
    if len(body) > MAX_WEBHOOK_BODY:
        raise _BodyTooLargeError
    return body


@dataclass(kw_only=True)
class MotionStats:
    """What the motion input has seen (for diagnostics)."""

    messages: int = 0
    samples: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    # The owner's app started a new recording mid-session (detector reset).
    restarts: int = 0


class MotionInput:
    """Receives one station's motion stream and runs its detector."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry[Any],
        *,
        on_detection: Callable[[Detection], None],
        on_samples: Callable[[], None],
    ) -> None:
        """Set up (nothing is registered until ``async_start``)."""
        self._hass = hass
        self._entry = entry
        self._on_detection = on_detection
        self._on_samples = on_samples
        self.detector = Detector()
        self.stats = MotionStats()
        self.active = False
        self._unsubscribe: list[CALLBACK_TYPE] = []
        self._last_log: dict[str, float] = {}
        self._webhook_id: str | None = None
        self._session_id: str | None = None
        self._moving = False
        # The stream's owner in this session: (deviceId, sessionId).
        self._owner: tuple[str, str] | None = None
        # Admitted samples waiting for the detector (see _async_run_detector).
        self._pending: list[tuple[IntArray, FloatArray]] = []
        self._pending_samples = 0
        self._flush: asyncio.TimerHandle | None = None

    @property
    def enabled(self) -> bool:
        """Whether the station expects a motion stream."""
        options = self._entry.options
        return bool(options.get(CONF_WEBHOOK_ENABLED) or options.get(CONF_MQTT_TOPIC))

    async def async_start(self) -> None:
        """Register the webhook and subscribe to the MQTT topic, as configured."""
        options = self._entry.options
        if options.get(CONF_WEBHOOK_ENABLED) and (
            webhook_id := options.get(CONF_WEBHOOK_ID)
        ):
            self._webhook_id = webhook_id
            webhook.async_register(
                self._hass,
                DOMAIN,
                f"Retro Walk {self._entry.title}",
                webhook_id,
                self._async_handle_webhook,
                local_only=options.get(CONF_WEBHOOK_LOCAL_ONLY, True),
                # Every method but HEAD (which Home Assistant answers itself):
                # see _async_handle_webhook.
                allowed_methods=sorted(set(SUPPORTED_METHODS) - {METH_HEAD}),
            )
        if topic := options.get(CONF_MQTT_TOPIC):
            await self._async_subscribe_mqtt(topic)

    async def _async_subscribe_mqtt(self, topic: str) -> None:
        # Imported here: stations without MQTT never load the MQTT client.
        from homeassistant.components import mqtt

        if not await mqtt.async_wait_for_mqtt_client(self._hass):
            _LOGGER.error(
                "MQTT is not available: %s receives no motion on %s",
                self._entry.title,
                topic,
            )
            return
        self._unsubscribe.append(
            await mqtt.async_subscribe(
                self._hass, topic, self._async_mqtt_message, qos=0, encoding=None
            )
        )

    @callback
    def async_stop(self) -> None:
        """Unregister everything."""
        if self._webhook_id is not None:
            webhook.async_unregister(self._hass, self._webhook_id)
            self._webhook_id = None
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []
        self._async_drop_pending()

    @callback
    def async_set_session(self, session_id: str | None, *, moving: bool) -> None:
        """Run the detector only during a session; a new session recalibrates.

        A new session (or none) frees the stream for the next phone. When a
        halted session walks on (``moving``: a pause or an interruption
        ended), the detector is rearmed: a pause's refractory must not leave
        the resumed belt unprotected.
        """
        if session_id != self._session_id:
            self._owner = None
            self._async_drop_pending()
            if session_id is not None:
                self.detector.reset()
        elif moving and not self._moving:
            self.detector.rearm()
        self._session_id = session_id
        self._moving = moving and session_id is not None
        self.active = session_id is not None

    # Input -------------------------------------------------------------------

    async def _async_handle_webhook(
        self, hass: HomeAssistant, webhook_id: str, request: web.Request | MockRequest
    ) -> web.Response:
        """Take one Sensor Logger HTTP push (or one relayed by HA Cloud/websocket)."""
        if request.method != METH_POST:
            # Registered for every method so that Home Assistant's webhook
            # component never logs the secret id for a stray GET or PUT.
            return self._reject(HTTPStatus.METHOD_NOT_ALLOWED, "method_not_allowed")
        try:
            body = await _async_read_body(request)
        except _BodyTooLargeError:
            return self._reject(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "too_large")
        except TimeoutError:
            return self._reject(HTTPStatus.REQUEST_TIMEOUT, "incomplete_body")
        except (ClientPayloadError, ConnectionError) as err:
            _LOGGER.debug("%s: motion body cut short: %r", self._entry.title, err)
            return self._reject(HTTPStatus.BAD_REQUEST, "incomplete_body")
        status, reason = self.async_ingest(body)
        if status is not HTTPStatus.OK:
            return self._reject(status, reason)
        return web.json_response({"accepted": True, "active": self.active})

    @callback
    def _async_mqtt_message(self, message: ReceiveMessage) -> None:
        payload = message.payload
        raw = payload.encode() if isinstance(payload, str) else bytes(payload)
        if len(raw) > MAX_WEBHOOK_BODY:
            self._log_rejected("too_large")
            return
        status, reason = self.async_ingest(raw)
        if status is not HTTPStatus.OK:
            self._log_rejected(reason)

    @callback
    def async_ingest(self, raw: bytes) -> tuple[HTTPStatus, str]:
        """Validate one message and run the detector on it; never raises."""
        try:
            # orjson: a C parser with a nesting limit (1024), so a body nested
            # 100,000 deep is an error here, not a RecursionError.
            data: Any = json_loads(raw)
        except ValueError, UnicodeDecodeError, RecursionError:
            return HTTPStatus.BAD_REQUEST, "invalid_json"
        try:
            batch = parse_message(data)
        except MessageError as err:
            return HTTPStatus.UNPROCESSABLE_ENTITY, err.reason
        if not self._owns_stream(batch.device_id, batch.session_id):
            return HTTPStatus.CONFLICT, "other_device"
        stats = self.stats
        stats.messages += 1
        stats.samples += len(batch)
        if not self.active:
            self._on_samples()
            return HTTPStatus.OK, "ok"
        # When it arrived, for the detector's check of the phone's clock.
        times, rows = self.detector.admit(batch, received_ns=time.time_ns())
        if times.shape[0]:
            # Only samples the detector can use keep the stream watchdog
            # quiet: a phone whose clock went wrong (every sample dropped)
            # must look like a lost stream, not like a healthy one.
            self._on_samples()
            self._pending.append((times, rows))
            self._pending_samples += int(times.shape[0])
        if (
            len(batch) >= MIN_RUN_SAMPLES  # a push of its own size: no reason to wait
            or self._pending_samples >= MIN_RUN_SAMPLES
            or len(self._pending) >= MAX_HELD
        ):
            self._async_run_detector()
        elif self._pending and self._flush is None:
            self._flush = self._hass.loop.call_later(
                FLUSH_AFTER, self._async_run_detector
            )
        return HTTPStatus.OK, "ok"

    @callback
    def _async_run_detector(self) -> None:
        """Analyse what is pending, in one numpy pass.

        The detector's cost per call is mostly fixed (numpy's per-call
        overhead): small pushes (10 samples every 100 ms) are run in pairs, so
        the cost per sample no longer depends on how small the phone's batches
        are. A decision waits at most one more push (or FLUSH_AFTER): a tier-1
        pause stays well within its budget.
        """
        if self._flush is not None:
            self._flush.cancel()
            self._flush = None
        if not self._pending:
            return
        pending, self._pending, self._pending_samples = self._pending, [], 0
        if len(pending) == 1:
            times, rows = pending[0]
        else:
            times = np.concatenate([item[0] for item in pending])
            rows = np.concatenate([item[1] for item in pending])
        for detection in self.detector.run(times, rows):
            self._on_detection(detection)

    @callback
    def _async_drop_pending(self) -> None:
        if self._flush is not None:
            self._flush.cancel()
            self._flush = None
        self._pending, self._pending_samples = [], 0

    def _owns_stream(self, device_id: str, session_id: str) -> bool:
        """Whether a message of this phone's recording belongs to the stream.

        Only a session pins an owner: between sessions any phone is counted.
        """
        if not self.active:
            return True
        owner = self._owner
        if owner is not None and owner[0] != device_id:
            return False
        if owner is not None and owner[1] != session_id:
            _LOGGER.info(
                "%s: the phone started a new recording; recalibrating",
                self._entry.title,
            )
            self.stats.restarts += 1
            self._async_drop_pending()
            self.detector.reset()
        self._owner = (device_id, session_id)
        return True

    def _reject(self, status: HTTPStatus, reason: str) -> web.Response:
        self._log_rejected(reason)
        return web.json_response(
            {"accepted": False, "error": reason}, status=int(status)
        )

    def _log_rejected(self, reason: str) -> None:
        """Count a rejected message; log it at most once a minute per reason."""
        self.stats.rejected[reason] += 1
        now = time.monotonic()
        last = self._last_log.get(reason)
        if last is None or now - last >= LOG_INTERVAL:
            self._last_log[reason] = now
            _LOGGER.warning(
                "%s: rejected a motion message (%s); %d so far",
                self._entry.title,
                reason,
                self.stats.rejected[reason],
            )
