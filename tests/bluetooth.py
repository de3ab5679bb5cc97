"""Feed advertisements to Home Assistant's bluetooth integration in tests.

Usage: request pytest-homeassistant-custom-component's ``enable_bluetooth``
fixture (it is in its pytest plugin, no import needed). It sets up the
``bluetooth`` integration with a mocked Linux adapter hci0
(00:00:00:00:00:01) whose BleakScanner never starts, so nothing is ever
discovered on its own; this module puts advertisements into habluetooth's
running ``BluetoothManager``, the one ``homeassistant.components.bluetooth``'s
API functions read::

    async def test_something(hass: HomeAssistant, enable_bluetooth: None) -> None:
        machine = FakeTreadmill()
        await async_inject_bluetooth_service_info(hass, machine.service_info())
        assert bluetooth.async_ble_device_from_address(hass, machine.address)
        ...
        await async_make_unavailable(hass, machine.address)

A fixture for the integration's tests could combine both::

    @pytest.fixture
    async def treadmill(hass: HomeAssistant, enable_bluetooth: None) -> ...:
        machine = FakeTreadmill()
        inject_bluetooth_service_info(hass, machine.service_info())
        with patch_ftms(machine):
            yield machine

Injected devices are not reported by any scanner, which matters for
availability: see :func:`async_make_unavailable`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING
from unittest.mock import patch

from bleak.backends.client import BaseBleakClient
from bluetooth_data_tools import monotonic_time_coarse
from habluetooth import (
    BaseHaRemoteScanner,
    BluetoothServiceInfoBleak,
    HaBluetoothConnector,
    get_manager,
)
from habluetooth.const import FALLBACK_MAXIMUM_STALE_ADVERTISEMENT_SECONDS
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from homeassistant.components import bluetooth
from homeassistant.components.bluetooth.const import UNAVAILABLE_TRACK_SECONDS
from homeassistant.core import CALLBACK_TYPE, HomeAssistant
from homeassistant.util import dt as dt_util

if TYPE_CHECKING:
    from habluetooth import BluetoothManager

__all__ = [
    "FakeProxyScanner",
    "async_add_proxy_scanner",
    "async_inject_bluetooth_service_info",
    "async_make_unavailable",
    "inject_bluetooth_service_info",
]


def _manager(hass: HomeAssistant) -> BluetoothManager:
    """The running bluetooth manager (it outlives a test, so check first)."""
    if "bluetooth" not in hass.config.components:
        raise RuntimeError(
            "The bluetooth integration is not set up: request the"
            " enable_bluetooth fixture"
        )
    return get_manager()


def inject_bluetooth_service_info(
    hass: HomeAssistant, info: BluetoothServiceInfoBleak
) -> None:
    """Hand ``info`` to the manager as if a scanner had just received it.

    Goes through ``BluetoothManager.scanner_adv_received``, the entry point
    every scanner uses, so the histories, the advertisement interval tracker,
    discovery of integrations by their manifest matchers and registered
    ``bluetooth.async_register_callback`` callbacks all run as in production.
    The manager ignores an advertisement identical to the last one from the
    same source (no callbacks), unless the device had become unavailable.
    Give the info a fresh ``time`` (``FakeTreadmill.service_info()`` does) so
    it never looks stale next to an older one from another source.
    """
    _manager(hass).scanner_adv_received(info)


async def async_inject_bluetooth_service_info(
    hass: HomeAssistant, info: BluetoothServiceInfoBleak
) -> None:
    """Inject ``info``, then wait for everything it started (discovery flows)."""
    inject_bluetooth_service_info(hass, info)
    await hass.async_block_till_done(wait_background_tasks=True)


async def async_make_unavailable(
    hass: HomeAssistant,
    address: str,
    *,
    fire_time_changed: bool = True,
) -> None:
    """Make ``address`` disappear so ``async_track_unavailable`` callbacks fire.

    How habluetooth 3.37.0 decides (``BluetoothManager._async_check_unavailable``,
    run by a ``loop.call_at`` timer every ``UNAVAILABLE_TRACK_SECONDS`` = 300 s):

    - connectable: an address in the connectable history that no connectable
      scanner lists in ``discovered_addresses`` is unavailable at once, however
      recent its last advertisement; it leaves the connectable history and the
      ``connectable=True`` callbacks (Home Assistant's default) get its last
      ``BluetoothServiceInfoBleak``. Injected addresses are listed by no
      scanner, so the first check after injection drops them all: a test that
      lets more than 5 minutes pass (``async_fire_time_changed``) loses its
      injected devices unless it injects them again.
    - all (connectable=False): the address also needs no advertisement for
      longer than its learned interval, or 15 minutes
      (``FALLBACK_MAXIMUM_STALE_ADVERTISEMENT_SECONDS``) without one; then the
      ``connectable=False`` callbacks fire and ``async_address_present(...,
      connectable=False)`` turns False.

    So this helper runs one check with habluetooth's monotonic clock moved
    past the 15 minutes: by default through the real timer, with
    ``async_fire_time_changed`` 300 s ahead (this also fires every other timer
    of Home Assistant due within those 300 s); with
    ``fire_time_changed=False`` by calling the check directly and touching no
    other timer. Every injected address disappears, not only ``address``;
    inject the others again afterwards if needed. Injecting ``address`` again
    makes it available again (and runs discovery once more).
    """
    manager = _manager(hass)
    for scanner in manager.async_current_scanners():
        if address in scanner.discovered_addresses:
            raise AssertionError(
                f"{address} is still listed by scanner {scanner.source}:"
                " it would not become unavailable"
            )
    later = monotonic_time_coarse() + FALLBACK_MAXIMUM_STALE_ADVERTISEMENT_SECONDS + 1
    with patch("habluetooth.manager.monotonic_time_coarse", return_value=later):
        if fire_time_changed:
            async_fire_time_changed(
                hass, dt_util.utcnow() + timedelta(seconds=UNAVAILABLE_TRACK_SECONDS)
            )
        else:
            # The check schedules the next one itself: drop the pending timer
            # first, or it would linger after the test.
            if (timer := manager._cancel_unavailable_tracking) is not None:
                timer.cancel()
            manager._async_check_unavailable()
    await hass.async_block_till_done()
    if manager.async_address_present(address, connectable=True):
        raise AssertionError(f"{address} is still present")


class FakeProxyScanner(BaseHaRemoteScanner):
    """A connectable remote scanner, like an ESPHome Bluetooth proxy.

    Unlike :func:`inject_bluetooth_service_info`, what it hears is listed in
    its ``discovered_addresses``, so Home Assistant's unavailable check keeps
    the device until :meth:`forget` (the machine went silent).
    """

    def advertise(self, info: BluetoothServiceInfoBleak) -> None:
        """Hear an advertisement now."""
        self._async_on_advertisement(
            info.address,
            info.rssi,
            info.name,
            list(info.service_uuids),
            dict(info.service_data),
            dict(info.manufacturer_data),
            info.tx_power,
            {},
            monotonic_time_coarse(),
        )

    def forget(self, address: str) -> None:
        """Stop listing ``address`` (no more advertisements from it)."""
        self._previous_service_info.pop(address, None)


def async_add_proxy_scanner(
    hass: HomeAssistant,
) -> tuple[FakeProxyScanner, CALLBACK_TYPE]:
    """Register a :class:`FakeProxyScanner`; returns it and its unregister function."""
    _manager(hass)
    source = "AA:BB:CC:00:00:99"
    # habluetooth 7 wants a bleak backend class here (bleak 3's BleakClient
    # is a front end); tests connect through patch_ftms, never through it.
    connector = HaBluetoothConnector(
        client=BaseBleakClient, source=source, can_connect=lambda: True
    )
    scanner = FakeProxyScanner(source, "Test proxy", connector, connectable=True)
    unsetup = scanner.async_setup()
    unregister = bluetooth.async_register_scanner(hass, scanner)

    def remove() -> None:
        unregister()
        unsetup()

    return scanner, remove
