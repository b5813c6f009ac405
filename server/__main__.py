"""``openchat-server``: run the reference server (``openchat-server admin --help`` for the
administrator commands)."""

import argparse
import gc
import logging
import sys

import uvicorn

from server.app import create_app
from server.config import load_settings

GIL_SWITCH_SECONDS = 0.0005
"""How long another thread may hold the GIL while the event loop waits for it (Python's default
is 5 ms). The SQLite writer's thread runs Python between its statements; at the default every
send batch could stall the event loop, and all its sockets, for up to 5 ms. In
``bench.realtime`` (SQLite, 500 clients at 500 msg/s) the steady p95 fell from 90–144 ms to
57–68 ms on a busy machine."""

GC_THRESHOLDS = (10_000, 10, 10)
"""Collect the youngest generation after 10,000 net new container objects instead of 700. A
server's request objects live for milliseconds to a send batch's round trips; at 700 the
collector ran every few milliseconds, carried them into the oldest generation and, every few
seconds, walked the whole heap for 200–700 ms while every socket of the process waited. In
``bench.realtime`` (PostgreSQL + Redis, 2 nodes) each node ran ~500 young and 4–5 full
collections per run, the full ones in the measured phases; with this and ``settle_heap`` it
ran ~15 young ones and no full one after start-up."""


def settle_heap() -> None:
    """Move everything built so far (modules, the app) out of the collector's reach
    (``gc.freeze``: it lives as long as the process, and full collections no longer walk it)
    and set ``GC_THRESHOLDS``."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and serve until interrupted (``admin …`` manages administrators:
    see ``server.admin_cli``)."""
    arguments = sys.argv[1:] if argv is None else argv
    if arguments[:1] == ["admin"]:
        from server.admin_cli import main as admin_main

        sys.exit(admin_main(arguments[1:]))
    sys.setswitchinterval(GIL_SWITCH_SECONDS)
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
    args = parser.parse_args(arguments)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(message)s")
    settings = load_settings(args.data_dir)
    app = create_app(settings, seed_demo=args.seed_demo)
    settle_heap()
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
