"""``openchat``: the app in a desktop window, or ``--web`` served to a browser.

Where no desktop window can open — a Linux box without a display, or Flet's desktop client
neither cached nor downloadable (it comes from GitHub releases on first use, not from PyPI) —
the app is served to the browser instead, and says so.

``openchat demo`` also starts the reference server with its demo accounts (the ``server`` extra
must be installed) and points the app at it.
"""

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import flet as ft
import httpx

from client.app import main as app_main
from client.config import ASSETS_DIR, load_settings

WEB_HOST = "127.0.0.1"
WEB_PORT = 8550
DEMO_SERVER_PORT = 8000
DEMO_SIGN_IN = (
    "Sign in as alice, bob, carol or dave with the password demo-pass-123 "
    "(open a second browser window or profile to be a second person)."
)
"""The demo accounts ``openchat-server --seed-demo`` creates (server/seed.py)."""


def desktop_window_possible() -> bool:
    """Whether a desktop window can open here: a display, and Flet's desktop client at hand
    (fetched into its cache the first time, which needs GitHub to be reachable)."""
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        return False
    try:
        import flet_desktop

        flet_desktop.ensure_client_cached()
    except Exception as exc:  # no package, no network, a broken archive: all mean "no window"
        print(f"No desktop window ({type(exc).__name__}: {exc}).", flush=True)
        return False
    return True


def run_app(web: bool, port: int) -> None:
    """Run the app until its window closes (or, with ``web`` or where no window can open,
    serve it to a browser until interrupted)."""
    if not web and not desktop_window_possible():
        print("Serving the app to your browser instead.", flush=True)
        web = True
    if web:
        print(f"OpenChat is at http://{WEB_HOST}:{port}/", flush=True)
        ft.run(
            app_main,
            view=ft.AppView.WEB_BROWSER,
            host=WEB_HOST,
            port=port,
            no_cdn=True,
            assets_dir=str(ASSETS_DIR),
        )
    else:
        ft.run(app_main, assets_dir=str(ASSETS_DIR))


@contextmanager
def demo_server(port: int, data_dir: Path, timeout: float = 60.0) -> Iterator[str]:
    """Run ``openchat-server --seed-demo`` on 127.0.0.1:``port``; yields its URL."""
    url = f"http://127.0.0.1:{port}"
    data_dir.mkdir(parents=True, exist_ok=True)
    log = (data_dir / "server.log").open("ab")
    command = [
        sys.executable, "-m", "server", "--seed-demo", "--port", str(port),
        "--data-dir", str(data_dir), "--log-level", "warning",
    ]  # fmt: skip
    process = subprocess.Popen(
        command,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise SystemExit(
                    f"the demo server stopped; see {data_dir / 'server.log'} "
                    "(is the `server` extra installed? `uv sync --extra server`)"
                )
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"the demo server did not start in {timeout:.0f} s")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the command line and run the app (and, for ``demo``, the server)."""
    parser = argparse.ArgumentParser(prog="openchat", description=__doc__)
    parser.add_argument("command", nargs="?", choices=["demo"], help="demo: server + app")
    parser.add_argument(
        "--web", action="store_true", help=f"serve to a browser on http://{WEB_HOST}:PORT/"
    )
    parser.add_argument("--port", type=int, default=WEB_PORT, help="web port (with --web)")
    parser.add_argument(
        "--server-port", type=int, default=DEMO_SERVER_PORT, help="demo server port"
    )
    args = parser.parse_args(argv)
    if args.command != "demo":
        run_app(args.web, args.port)
        return
    demo_dir = load_settings().data_dir / "demo"
    with demo_server(args.server_port, demo_dir / "server") as url:
        os.environ["OPENCHAT_SERVER_URL"] = url
        os.environ["OPENCHAT_DATA_DIR"] = str(demo_dir / "clients")
        print(f"Demo server at {url}. {DEMO_SIGN_IN}", flush=True)
        run_app(args.web, args.port)


if __name__ == "__main__":
    main()
