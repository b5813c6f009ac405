"""``openchat-server``: run the reference server."""

import argparse
import logging

import uvicorn

from server.app import create_app
from server.config import load_settings


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and serve until interrupted."""
    parser = argparse.ArgumentParser(prog="openchat-server", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--data-dir", default=".data/server", help="where the server keeps files")
    parser.add_argument(
        "--seed-demo",
        action="store_true",
        help="create the demo accounts alice, bob, carol, dave (password demo-pass-123)",
    )
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(message)s")
    settings = load_settings(args.data_dir)
    app = create_app(settings, seed_demo=args.seed_demo)
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        access_log=False,
        ws="websockets-sansio",
    )


if __name__ == "__main__":
    main()
