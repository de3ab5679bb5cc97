#!/usr/bin/env python3
"""Prepare a Home Assistant config dir for the Retro Walk demo, offline.

Without a running Home Assistant, this:

* copies ``config/configuration.yaml`` into the config dir (with the HTTP port
  given by ``--port``) and links ``custom_components`` and ``custom_sentences``
  (Assist's sentences) to the repository's and ``dashboards`` to
  ``config/dashboards`` (the YAML dashboards it names);
* completes onboarding (``.storage/onboarding``: every step done);
* creates the owner user ``demo`` / ``retrowalk-demo`` ("Demo walker",
  administrators group) and a long-lived access token, written to
  ``--token-file`` with mode 600;
* adds the ``retro_walk`` config entry "Demo station" to
  ``.storage/core.config_entries``, so the integration is set up at first start;
  its options switch on the Sensor Logger webhook (local only) that the demo's
  simulated walker (``scripts/demo_walker.py``) streams to, with a secret
  webhook id written to ``--webhook-id-file`` (mode 600), and name
  ``notify.persistent_notification`` as the partner, so partner alerts show in
  the browser's notifications. An entry stored by an older version without
  these options is upgraded in place (options it already has are kept);
* gives the station a few weeks of Ana's and Luis's past sessions when it has
  no history yet (``scripts/demo_history.py seed``; once, never over sessions).

Every step is skipped when already done, so a second run changes nothing and
returns in a fraction of a second (Home Assistant is not even imported). Run it
with the virtual environment's Python (Home Assistant 2025.4.4), never while
Home Assistant runs on the config dir.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import json
import logging
import os
from pathlib import Path
import re
import secrets
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from homeassistant.auth.models import User
    from homeassistant.core import HomeAssistant

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = REPO_ROOT / "config"
DEFAULT_CONFIG_DIR = REPO_ROOT / ".demo" / "config"
DEFAULT_TOKEN_FILE = REPO_ROOT / ".demo" / "token"
WEBHOOK_ID_FILE_NAME = "webhook_id"  # next to the token file unless given
DEFAULT_PORT = 8123

USERNAME = "demo"
PASSWORD = "retrowalk-demo"  # noqa: S105 - a documented demo credential
USER_FULL_NAME = "Demo walker"
CLIENT_NAME = "Retro Walk demo"
TOKEN_LIFETIME_DAYS = 3650

ONBOARDING_STEPS = ("user", "core_config", "analytics", "integration")
ONBOARDING_VERSION = 4  # homeassistant.components.onboarding.STORAGE_VERSION

ENTRY_DOMAIN = "retro_walk"
ENTRY_TITLE = "Demo station"
# A fixed random-looking id, as the config flow gives stations without a
# Bluetooth machine (config entry 1.2): not the name, so nothing migrates it.
ENTRY_UNIQUE_ID = "d3e0c5a1f2b44c6e9a7b8c9d0e1f2a3b"
# What demo dirs made before 1.2 used (migrated to a random id at their
# first start since): such an entry is recognised by its name instead.
LEGACY_UNIQUE_ID = "demo_station"
ENTRY_DATA: dict[str, Any] = {
    "name": "Demo station",
    "treadmill_type": "simulated",
}
# Config entry 1.3: walkers are subentries. The demo's two walkers, with
# fixed ids (the demo's history and dashboards name them).
ENTRY_MINOR_VERSION = 3
WALKER_FIELDS = ("body_mass", "experience", "weekly_goal")
DEMO_WALKERS: list[dict[str, Any]] = [
    {
        "data": {"body_mass": 62.0, "experience": "beginner", "weekly_goal": 45},
        "subentry_id": "01JRWDEMOWALKERANA00000000",
        "subentry_type": "walker",
        "title": "Ana",
        "unique_id": None,
    },
    {
        "data": {"body_mass": 84.0, "experience": "intermediate", "weekly_goal": 90},
        "subentry_id": "01JRWDEMOWALKERLUIS0000000",
        "subentry_type": "walker",
        "title": "Luis",
        "unique_id": None,
    },
]
ENTRY_OPTIONS: dict[str, Any] = {
    "warm_up_minutes": 0.5,
    "cool_down_minutes": 0.5,
    "forward_speed": 3.0,
}
# Motion and safety options of the demo (custom_components/retro_walk/const.py).
# The webhook id (option "webhook_id") is generated once and kept.
WEBHOOK_ENABLED = "webhook_enabled"
WEBHOOK_LOCAL_ONLY = "webhook_local_only"
WEBHOOK_ID = "webhook_id"
PARTNER_TARGETS = "partner_targets"
# notify.persistent_notification (Home Assistant's notify integration, loaded
# here by mobile_app) turns each partner notification into a persistent
# notification: a newcomer sees it in the browser.
DEMO_PARTNERS = ["notify.persistent_notification"]
_WEBHOOK_ID_RE = re.compile(r"^[0-9a-f]{64}$")

HOST = "127.0.0.1"


# --------------------------------------------------------------------------
# Config dir (no Home Assistant needed)
# --------------------------------------------------------------------------
def prepare_config_dir(config_dir: Path, source: Path) -> None:
    """Copy configuration.yaml; link custom_components/sentences, dashboards.

    The HTTP server's address is not in it: see ``_ensure_http``.
    """
    config_dir.mkdir(parents=True, exist_ok=True)
    text = (source / "configuration.yaml").read_text(encoding="utf-8")
    target = config_dir / "configuration.yaml"
    if not target.exists() or target.read_text(encoding="utf-8") != text:
        target.write_text(text, encoding="utf-8")

    _link(config_dir / "custom_components", REPO_ROOT / "custom_components")
    # Assist's sentences for the Retro Walk intents (custom_sentences/<language>/).
    _link(config_dir / "custom_sentences", REPO_ROOT / "custom_sentences")
    # The YAML dashboards that configuration.yaml names (lovelace: dashboards:).
    if (source / "dashboards").is_dir():
        _link(config_dir / "dashboards", source / "dashboards")


def _link(link: Path, wanted: Path) -> None:
    """Make ``link`` a symlink to the directory ``wanted`` (if it is not one)."""
    if link.is_symlink() and link.readlink() == wanted:
        return
    if link.is_symlink() or link.is_file():
        link.unlink()
    elif link.exists():
        msg = f"{link} is a real directory; remove it (or run scripts/demo --reset)"
        raise SystemExit(msg)
    link.symlink_to(wanted, target_is_directory=True)


def _read_storage(config_dir: Path, key: str) -> dict[str, Any] | None:
    """Return the ``data`` of a ``.storage`` file, or None."""
    try:
        content = json.loads((config_dir / ".storage" / key).read_text("utf-8"))
    except OSError, ValueError:
        return None
    data = content.get("data") if isinstance(content, dict) else None
    return data if isinstance(data, dict) else None


def _token_refresh_id(token: str) -> str | None:
    """Return the refresh token id (``iss``) inside an access token (a JWT)."""
    try:
        payload = token.split(".")[1]
        payload += "=" * (-len(payload) % 4)
        claims = json.loads(base64.urlsafe_b64decode(payload))
    except IndexError, ValueError, binascii.Error:
        return None
    issuer = claims.get("iss") if isinstance(claims, dict) else None
    return issuer if isinstance(issuer, str) else None


def onboarding_done(config_dir: Path) -> bool:
    """Return whether every onboarding step is marked done."""
    data = _read_storage(config_dir, "onboarding")
    return data is not None and set(ONBOARDING_STEPS) <= set(data.get("done", []))


def user_exists(config_dir: Path) -> bool:
    """Return whether the demo login exists."""
    data = _read_storage(config_dir, "auth_provider.homeassistant")
    users = data.get("users", []) if data else []
    return any(user.get("username") == USERNAME for user in users)


def token_valid(config_dir: Path, token_file: Path) -> bool:
    """Return whether the token file holds a token of a stored refresh token."""
    try:
        token = token_file.read_text(encoding="utf-8").strip()
    except OSError:
        return False
    refresh_id = _token_refresh_id(token)
    data = _read_storage(config_dir, "auth")
    tokens = data.get("refresh_tokens", []) if data else []
    return refresh_id is not None and any(t.get("id") == refresh_id for t in tokens)


def _is_demo_entry(entry: Any) -> bool:
    if not isinstance(entry, dict) or entry.get("domain") != ENTRY_DOMAIN:
        return False
    data = entry.get("data")
    return entry.get("unique_id") in (ENTRY_UNIQUE_ID, LEGACY_UNIQUE_ID) or (
        isinstance(data, dict) and data.get("name") == ENTRY_TITLE
    )


def stored_entry(config_dir: Path) -> dict[str, Any] | None:
    """Return the stored demo config entry (a dict), or None."""
    data = _read_storage(config_dir, "core.config_entries")
    entries = data.get("entries", []) if data else []
    return next((entry for entry in entries if _is_demo_entry(entry)), None)


def entry_exists(config_dir: Path) -> bool:
    """Return whether the demo config entry is stored."""
    return stored_entry(config_dir) is not None


def _valid_webhook_id(value: Any) -> bool:
    return isinstance(value, str) and _WEBHOOK_ID_RE.match(value) is not None


def motion_options(options: dict[str, Any], webhook_id: str) -> dict[str, Any]:
    """The demo entry's options with the webhook on and the demo partner.

    The webhook is always switched on (the simulated walker needs it); an id,
    a local-only choice or partners the entry already has are kept.
    """
    merged = dict(options)
    merged[WEBHOOK_ENABLED] = True
    merged.setdefault(WEBHOOK_LOCAL_ONLY, True)
    if not _valid_webhook_id(merged.get(WEBHOOK_ID)):
        merged[WEBHOOK_ID] = webhook_id
    merged.setdefault(PARTNER_TARGETS, list(DEMO_PARTNERS))
    return merged


def with_demo_walkers(entry: dict[str, Any]) -> dict[str, Any]:
    """The stored demo entry as 1.3 with Ana and Luis among its walkers.

    A demo dir from before walker profiles (1.2) keeps its sessions: they go
    to the first walker, Ana, when the station loads. Walkers the user added
    are kept.
    """
    upgraded = dict(entry)
    data = entry.get("data")
    upgraded["data"] = {
        key: value
        for key, value in (data if isinstance(data, dict) else ENTRY_DATA).items()
        if key not in WALKER_FIELDS
    }
    upgraded["minor_version"] = max(
        int(entry.get("minor_version") or 1), ENTRY_MINOR_VERSION
    )
    subentries = entry.get("subentries")
    subentries = list(subentries) if isinstance(subentries, list) else []
    known = {item.get("subentry_id") for item in subentries if isinstance(item, dict)}
    for walker in DEMO_WALKERS:
        if walker["subentry_id"] not in known:
            subentries.append(dict(walker))
    # Ana and Luis first: Ana is the walker selected until someone chooses.
    order = [walker["subentry_id"] for walker in DEMO_WALKERS]
    subentries.sort(
        key=lambda item: (
            order.index(item.get("subentry_id"))
            if isinstance(item, dict) and item.get("subentry_id") in order
            else len(order)
        )
    )
    upgraded["subentries"] = subentries
    return upgraded


def entry_upgraded(config_dir: Path) -> bool:
    """Whether the stored demo entry has the demo's walkers and motion options."""
    entry = stored_entry(config_dir)
    if entry is None:
        return False
    options = entry.get("options")
    if not isinstance(options, dict):
        return False
    return options == motion_options(options, "") and entry == with_demo_walkers(entry)


def read_webhook_id(webhook_file: Path) -> str | None:
    """Return the webhook id in ``webhook_file`` when it holds a valid one."""
    try:
        value = webhook_file.read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return value if _valid_webhook_id(value) else None


def webhook_file_current(config_dir: Path, webhook_file: Path) -> bool:
    """Return whether ``webhook_file`` holds the stored entry's webhook id (600)."""
    entry = stored_entry(config_dir)
    options = entry.get("options") if entry else None
    stored = options.get(WEBHOOK_ID) if isinstance(options, dict) else None
    try:
        private = webhook_file.stat().st_mode & 0o077 == 0
    except OSError:
        return False
    return private and stored is not None and read_webhook_id(webhook_file) == stored


def write_webhook_id(webhook_file: Path, webhook_id: str) -> None:
    """Write the webhook id to ``webhook_file`` with mode 600."""
    webhook_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(webhook_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(webhook_id + "\n")
    webhook_file.chmod(0o600)
    print(f"wrote the demo station's webhook id to {webhook_file}")


def http_configured(config_dir: Path, port: int) -> bool:
    """Whether the HTTP server's confirmed settings are 127.0.0.1:``port``."""
    data = _read_storage(config_dir, "http")
    if not data or data.get("pending") is not None:
        return False
    stable = data.get("stable") or {}
    return (
        bool(data.get("yaml_migration_done"))
        and stable.get("server_host") == [HOST]
        and stable.get("server_port") == port
    )


def is_complete(config_dir: Path, token_file: Path, port: int) -> bool:
    """Return whether nothing is left to do in Home Assistant's storage."""
    return (
        http_configured(config_dir, port)
        and onboarding_done(config_dir)
        and user_exists(config_dir)
        and token_valid(config_dir, token_file)
        and entry_upgraded(config_dir)
    )


# --------------------------------------------------------------------------
# The slow path: a Home Assistant instance that is never started
# --------------------------------------------------------------------------
async def _ensure_user(hass: HomeAssistant) -> User:
    """Create the owner user with its login, or return the existing one."""
    from homeassistant.auth.const import GROUP_ID_ADMIN
    from homeassistant.auth.providers.homeassistant import (
        HassAuthProvider,
    )

    provider = hass.auth.auth_providers[0]
    if not isinstance(provider, HassAuthProvider):
        msg = "the homeassistant auth provider is not configured"
        raise TypeError(msg)
    await provider.async_initialize()
    credentials = await provider.async_get_or_create_credentials({"username": USERNAME})
    if not credentials.is_new:
        user = await hass.auth.async_get_user_by_credentials(credentials)
        if user is not None:
            return user
    user = await hass.auth.async_create_user(USER_FULL_NAME, group_ids=[GROUP_ID_ADMIN])
    if not user.is_owner:
        print(f"warning: another owner exists; {USERNAME!r} is an administrator only")
    if provider.data is None:
        msg = "auth provider data not loaded"
        raise RuntimeError(msg)
    if not any(u["username"] == USERNAME for u in provider.data.users):
        await provider.async_add_auth(USERNAME, PASSWORD)
    if credentials.is_new:
        await hass.auth.async_link_user(user, credentials)
    print(f"created owner user {USERNAME!r} ({USER_FULL_NAME})")
    return user


async def _ensure_token(hass: HomeAssistant, user: User, token_file: Path) -> None:
    """Create a long-lived access token and write it to ``token_file``."""
    from datetime import timedelta

    from homeassistant.auth.models import (
        TOKEN_TYPE_LONG_LIVED_ACCESS_TOKEN,
    )

    for old in list(user.refresh_tokens.values()):
        if old.client_name == CLIENT_NAME:
            hass.auth.async_remove_refresh_token(old)
    refresh = await hass.auth.async_create_refresh_token(
        user,
        client_name=CLIENT_NAME,
        token_type=TOKEN_TYPE_LONG_LIVED_ACCESS_TOKEN,
        access_token_expiration=timedelta(days=TOKEN_LIFETIME_DAYS),
    )
    token = hass.auth.async_create_access_token(refresh)
    token_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(token + "\n")
    token_file.chmod(0o600)  # noqa: ASYNC240 - a one-shot script; nothing else runs on this loop
    print(f"wrote a long-lived access token to {token_file}")


async def _ensure_onboarding(hass: HomeAssistant) -> None:
    """Mark every onboarding step done."""
    from homeassistant.helpers.storage import Store

    store: Store[dict[str, list[str]]] = Store(
        hass, ONBOARDING_VERSION, "onboarding", private=True
    )
    data = await store.async_load() or {"done": []}
    done = list(data.get("done", []))
    done += [step for step in ONBOARDING_STEPS if step not in done]
    await store.async_save({"done": done})
    print("onboarding complete")


async def _ensure_entry(hass: HomeAssistant, webhook_id: str) -> None:
    """Add the demo station's config entry, or give it the motion options."""
    from types import MappingProxyType

    from homeassistant.config_entries import (
        SOURCE_USER,
        ConfigEntry,
        ConfigEntryStore,
    )
    from homeassistant.util import dt as dt_util

    store = ConfigEntryStore(hass)
    data = await store.async_load() or {"entries": []}
    entries = list(data.get("entries", []))
    for stored in entries:
        if not _is_demo_entry(stored):
            continue
        options = stored.get("options")
        options = options if isinstance(options, dict) else {}
        upgraded = with_demo_walkers(
            {**stored, "options": motion_options(options, webhook_id)}
        )
        if upgraded != stored:
            stored.clear()
            stored.update(upgraded, modified_at=dt_util.utcnow().isoformat())
            await store.async_save({"entries": entries})
            print(
                f"gave config entry {ENTRY_TITLE!r} the demo's walkers (Ana, Luis) "
                "and motion options (Sensor Logger webhook, partner notification)"
            )
        return
    entry = ConfigEntry(
        data=ENTRY_DATA,
        discovery_keys=MappingProxyType({}),
        domain=ENTRY_DOMAIN,
        minor_version=ENTRY_MINOR_VERSION,
        options=motion_options(ENTRY_OPTIONS, webhook_id),
        source=SOURCE_USER,
        subentries_data=[dict(walker) for walker in DEMO_WALKERS],
        title=ENTRY_TITLE,
        unique_id=ENTRY_UNIQUE_ID,
        version=1,
    )
    entries.append(entry.as_dict())
    await store.async_save({"entries": entries})
    print(f"added config entry {ENTRY_TITLE!r} ({ENTRY_DOMAIN}, {entry.entry_id})")


async def _ensure_http(hass: HomeAssistant, port: int) -> None:
    """Serve on 127.0.0.1:``port`` only, as a confirmed (stable) setting.

    Home Assistant 2026.10 keeps the HTTP server's settings in .storage/http
    (YAML ``http:`` is deprecated): a new setting is a five-minute trial that
    reverts to the stable one (all interfaces, 8123) and restarts Home
    Assistant unless confirmed. Stage ours and confirm it, as the UI does.
    """
    from homeassistant.components.http.config import HTTPConfigStore

    store = HTTPConfigStore(hass)
    await store.async_migrate_yaml({"server_host": [HOST], "server_port": port})
    if store.pending is not None:
        await store.async_promote_pending()
    print(f"HTTP server: {HOST}:{port} (confirmed)")


async def _onboard(
    config_dir: Path, token_file: Path, webhook_id: str, port: int
) -> None:
    from homeassistant.auth import auth_manager_from_config
    from homeassistant.core import HomeAssistant
    from homeassistant.helpers import (
        device_registry as dr,
        entity_registry as er,
    )

    hass = HomeAssistant(str(config_dir))
    try:
        # The auth manager looks permissions up in the device and entity
        # registries: they must exist, but nothing here reads or changes them,
        # so they are not loaded (loading the entity registry would wait for
        # config entries since 2026.11). Since 2026.10 the device registry is
        # created explicitly.
        if hasattr(dr, "async_setup"):
            dr.async_setup(hass)
        dr.async_get(hass)
        er.async_get(hass)
        hass.auth = await auth_manager_from_config(
            hass, [{"type": "homeassistant"}], []
        )
        user = await _ensure_user(hass)
        if not token_valid(config_dir, token_file) or not any(
            t.client_name == CLIENT_NAME for t in user.refresh_tokens.values()
        ):
            await _ensure_token(hass, user, token_file)
        if not http_configured(config_dir, port):
            await _ensure_http(hass, port)
        if not onboarding_done(config_dir):
            await _ensure_onboarding(hass)
        await _ensure_entry(hass, webhook_id)
    finally:
        # The auth store saves with a delay: stopping runs the final write.
        logging.getLogger("homeassistant.core").setLevel(logging.WARNING)
        await hass.async_stop(force=True)


def onboard(config_dir: Path, token_file: Path, webhook_file: Path, port: int) -> bool:
    """Do whatever is missing; return whether anything had to be done."""
    done = False
    if not is_complete(config_dir, token_file, port):
        # A new entry keeps the id of an earlier webhook file (a config dir
        # made again), else gets a new secret; a stored id is never replaced.
        webhook_id = read_webhook_id(webhook_file) or secrets.token_hex(32)
        from homeassistant import runner

        # Home Assistant's own event loop (HassEventLoopPolicy is gone since
        # 2026.x; the runner now hands out a loop factory).
        with asyncio.Runner(
            loop_factory=lambda: runner.create_event_loop(debug=False)
        ) as loop_runner:
            loop_runner.run(_onboard(config_dir, token_file, webhook_id, port))
        if not is_complete(config_dir, token_file, port):
            msg = f"onboarding of {config_dir} did not complete"
            raise SystemExit(msg)
        done = True
    if not webhook_file_current(config_dir, webhook_file):
        entry = stored_entry(config_dir)
        assert entry is not None  # noqa: S101 - is_complete checked it
        write_webhook_id(webhook_file, entry["options"][WEBHOOK_ID])
        done = True
    return done


def main(argv: list[str] | None = None) -> int:
    """Run from the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config-dir", type=Path, default=DEFAULT_CONFIG_DIR)
    parser.add_argument("--token-file", type=Path, default=DEFAULT_TOKEN_FILE)
    parser.add_argument(
        "--webhook-id-file",
        type=Path,
        default=None,
        help=f"where to write the demo station's webhook id "
        f"(default: {WEBHOOK_ID_FILE_NAME} next to the token file)",
    )
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument(
        "--source",
        type=Path,
        default=DEFAULT_SOURCE,
        help="directory holding the configuration.yaml to use",
    )
    args = parser.parse_args(argv)
    config_dir: Path = args.config_dir.resolve()
    token_file: Path = args.token_file.resolve()
    webhook_file: Path = (
        args.webhook_id_file or token_file.parent / WEBHOOK_ID_FILE_NAME
    ).resolve()

    prepare_config_dir(config_dir, args.source.resolve())
    if onboard(config_dir, token_file, webhook_file, args.port):
        print(f"onboarded {config_dir}")
    else:
        print(f"{config_dir} already onboarded")
    # A few weeks of Ana's and Luis's past sessions, once, into a station
    # without history (scripts/demo_history.py; it never touches sessions).
    from demo_history import seed  # scripts/, next to this script

    if count := seed(config_dir):
        print(f"seeded the Demo station's history with {count} past sessions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
