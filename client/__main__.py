"""``openchat``: the app in a desktop window, or ``--web`` served to a browser."""

import argparse
from collections.abc import Sequence
from pathlib import Path

import flet as ft

from client.app import main as app_main

ASSETS_DIR = str(Path(__file__).resolve().parent.parent / "assets")
"""Icons, splash and fonts next to the package (the project's ``assets/``)."""
WEB_HOST = "127.0.0.1"
WEB_PORT = 8550


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the command line and run the app until its window (or server) is closed."""
    parser = argparse.ArgumentParser(prog="openchat", description=__doc__)
    parser.add_argument(
        "--web", action="store_true", help=f"serve to a browser on http://{WEB_HOST}:PORT/"
    )
    parser.add_argument("--port", type=int, default=WEB_PORT, help="web port (with --web)")
    args = parser.parse_args(argv)
    if args.web:
        print(f"OpenChat is at http://{WEB_HOST}:{args.port}/", flush=True)
        ft.run(
            app_main,
            view=ft.AppView.WEB_BROWSER,
            host=WEB_HOST,
            port=args.port,
            no_cdn=True,
            assets_dir=ASSETS_DIR,
        )
    else:
        ft.run(app_main, assets_dir=ASSETS_DIR)


if __name__ == "__main__":
    main()
