#!/usr/bin/env python3
"""Screenshots of the Retro Walk card, taken from the running demo.

Run through ``scripts/screenshots`` (which installs Debian's chromium and the
Python requirements). Needs ``scripts/demo`` running on ``--url``. Steps:

1. stop any session left running, choose the walker (``--walker``, else the
   one selected), start a session (REST, with ``.demo/token``) and wait until
   the walker walks backwards;
2. open the Retro Walk dashboard in headless Chromium, log in with the demo's
   login (demo / retrowalk-demo) and save the card as ``card-session.png``;
3. press ``input_button.demo_stumble``, wait for the session state
   ``paused_by_safety`` and the card's safety status, save
   ``card-instability-pause.png``;
4. stop the session;
5. ask the demo for the walker's clinician's report (``retro_walk.export_report``)
   and save headless Chromium's rendering of its HTML as ``report.png``.

Errors in the browser's console fail the run (after the screenshots).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
import sys
import tempfile
import time
from typing import Any
import urllib.request

from playwright.sync_api import (
    Page,
    TimeoutError as PlaywrightTimeoutError,
    sync_playwright,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "http://127.0.0.1:8123"
DEFAULT_TOKEN_FILE = REPO_ROOT / ".demo" / "token"
DEFAULT_OUT = REPO_ROOT / "docs" / "images"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
USERNAME = "demo"
PASSWORD = "retrowalk-demo"  # noqa: S105 - the documented demo credential

SESSION = "switch.demo_station_session"
WALKER = "select.demo_station_walker"
STATE = "sensor.demo_station_session_state"
PHASE = "sensor.demo_station_phase"
STUMBLE = "input_button.demo_stumble"
DASHBOARD = "/retro-walk/session"
CARD = "retro-walk-card"


class Api:
    """Home Assistant's REST API with a long-lived access token."""

    def __init__(self, url: str, token: str) -> None:
        """Talk to ``url`` with ``token``."""
        self.url = url.rstrip("/")
        self.token = token

    def _request(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.url}{path}",
            data=data,
            method=method,
            headers={
                "Authorization": f"Bearer {self.token}",
                "Content-Type": "application/json",
            },
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"null")

    def state(self, entity_id: str) -> str:
        """The state of an entity."""
        return str(self._request("GET", f"/api/states/{entity_id}")["state"])

    def call(self, domain: str, service: str, entity_id: str, **data: Any) -> None:
        """Call an action on one entity."""
        self._request(
            "POST",
            f"/api/services/{domain}/{service}",
            {"entity_id": entity_id, **data},
        )

    def respond(self, domain: str, service: str, **data: Any) -> Any:
        """Call an action and return its response."""
        answer = self._request(
            "POST", f"/api/services/{domain}/{service}?return_response", data
        )
        return answer["service_response"]

    def wait_for(self, entity_id: str, wanted: set[str], timeout: float) -> str:
        """Wait until the entity's state is one of ``wanted``; return it."""
        deadline = time.monotonic() + timeout
        state = self.state(entity_id)
        while state not in wanted:
            if time.monotonic() > deadline:
                msg = f"{entity_id} is {state!r}, not one of {sorted(wanted)}, after {timeout:.0f} s"
                raise SystemExit(msg)
            time.sleep(0.5)
            state = self.state(entity_id)
        return state


def log(message: str) -> None:
    """Say what happens."""
    print(f"==> {message}", flush=True)


def open_dashboard(page: Page, url: str, timeout_ms: float) -> None:
    """Open the dashboard, logging in with the demo's login, and wait for the card.

    (A long-lived token put into the frontend's ``hassTokens`` in localStorage
    was not taken by this frontend; the login form always works.)
    """
    page.goto(f"{url}{DASHBOARD}")
    for attempt in range(3):
        username = page.locator("input[name='username']")
        username.wait_for(state="visible", timeout=timeout_ms)
        username.fill(USERNAME)
        page.locator("input[name='password']").fill(PASSWORD)
        page.locator("input[name='password']").press("Enter")
        try:
            page.wait_for_url(lambda u: "/auth/authorize" not in u, timeout=10_000)
            break
        except PlaywrightTimeoutError:
            # A submission before the login form was ready is lost: again.
            log(f"login attempt {attempt + 1} did not go through; retrying")
    page.locator(f"{CARD} ha-card").wait_for(state="visible", timeout=timeout_ms)


def shoot(page: Page, path: Path) -> None:
    """Save the card (with a little margin) as a PNG."""
    path.parent.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(800)  # let the ring and the last push settle
    page.locator(CARD).screenshot(path=str(path), animations="disabled")
    log(
        f"saved {path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path}"
    )


def take_shots(api: Api, args: argparse.Namespace) -> None:
    """Open the dashboard, shoot the session, stumble, shoot the safety pause."""
    with (
        tempfile.TemporaryDirectory(prefix="retro-walk-shots-") as profile,
        sync_playwright() as playwright,
    ):
        # A new, empty profile every time (the flags exclude --user-data-dir:
        # Playwright passes the profile itself).
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1280, "height": 1000},
            device_scale_factor=2,
            color_scheme=args.color_scheme,
            locale=args.language,
        )
        errors: list[str] = []
        try:
            page = context.pages[0] if context.pages else context.new_page()
            page.on(
                "console",
                lambda message: (
                    errors.append(f"console: {message.text}")
                    if message.type == "error"
                    else None
                ),
            )
            page.on("pageerror", lambda error: errors.append(f"page: {error}"))
            open_dashboard(page, api.url, 30_000)
            shoot(page, args.out / f"card-session{args.suffix}.png")

            log("pressing Demo: stumble")
            api.call("input_button", "press", STUMBLE)
            api.wait_for(STATE, {"paused_by_safety"}, 30)
            page.locator(f"{CARD} .status[data-status='safetyPause']").wait_for(
                state="visible", timeout=15_000
            )
            shoot(page, args.out / f"card-instability-pause{args.suffix}.png")
        finally:
            context.close()
    if errors:
        msg = "errors in the browser's console:\n" + "\n".join(errors)
        raise SystemExit(msg)
    log("the browser's console has no errors")


def shoot_report(api: Api, args: argparse.Namespace) -> None:
    """Render the walker's report (written by the demo) and save it."""
    walker = api.state(WALKER)
    report = api.respond("retro_walk", "export_report", walker=walker)
    html = Path(report["html"])
    log(f"rendering {walker}'s report {html.name}")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS
        )
        try:
            page = browser.new_page(
                viewport={"width": 900, "height": 900},
                device_scale_factor=1,
                color_scheme=args.color_scheme,
            )
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(html.as_uri())
            path = args.out / f"report{args.suffix}.png"
            page.screenshot(path=str(path), full_page=True)
        finally:
            browser.close()
    if errors:
        msg = "errors in the report's page:\n" + "\n".join(errors)
        raise SystemExit(msg)
    log(
        f"saved {path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path}"
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--token-file", type=Path, default=DEFAULT_TOKEN_FILE)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--color-scheme", choices=["light", "dark"], default="light")
    parser.add_argument("--language", default="en", help="the browser's language")
    parser.add_argument(
        "--suffix", default="", help="added to the file names, e.g. --suffix=-dark"
    )
    parser.add_argument(
        "--walker", help="the walker to put on the belt (default: the one selected)"
    )
    parser.add_argument(
        "--backward-timeout",
        type=float,
        default=60,
        help="seconds to wait for the backward phase before the first shot",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run from the command line."""
    args = parse_args(argv)
    try:
        token = args.token_file.read_text(encoding="utf-8").strip()
    except OSError as err:
        msg = f"no token in {args.token_file} ({err}): run scripts/demo first"
        raise SystemExit(msg) from err
    api = Api(args.url, token)
    try:
        state = api.state(STATE)
    except OSError as err:  # urllib.error.URLError is an OSError
        msg = f"the demo does not answer on {api.url} ({err}): start scripts/demo first"
        raise SystemExit(msg) from err

    if state not in {"idle", "finished", "unknown"}:
        log("stopping the session left running")
        api.call("switch", "turn_off", SESSION)
        api.wait_for(STATE, {"idle", "finished"}, 30)
    if args.walker:
        log(f"choosing {args.walker}")
        api.call("select", "select_option", WALKER, option=args.walker)
        api.wait_for(WALKER, {args.walker}, 10)
    log("starting a session")
    api.call("switch", "turn_on", SESSION)
    try:
        api.wait_for(STATE, {"warm_up", "forward", "backward", "cool_down"}, 30)
        log("waiting for the backward phase")
        api.wait_for(PHASE, {"backward"}, args.backward_timeout)
        time.sleep(3)
        take_shots(api, args)
    finally:
        log("stopping the session")
        api.call("switch", "turn_off", SESSION)
    api.wait_for(STATE, {"idle", "finished"}, 30)
    shoot_report(api, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
