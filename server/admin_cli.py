"""``openchat-server admin grant|revoke USERNAME``: make or unmake a server administrator.

It uses the same database settings as the server (``--data-dir`` and ``OPENCHAT_DATABASE_URL``),
so it works on SQLite and PostgreSQL alike, with the server running or not.
"""

import argparse
import asyncio
import sys

from sqlalchemy import update

from server.config import load_settings
from server.db.migrate import upgrade_to_head
from server.db.models import User
from server.db.session import create_engine


async def set_admin(database_url: str, username: str, is_admin: bool) -> bool:
    """Set ``username``'s administrator flag; False when there is no such user."""
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            result = await connection.execute(
                update(User).where(User.username == username.lower()).values(is_admin=is_admin)
            )
        return result.rowcount == 1
    finally:
        await engine.dispose()


def main(argv: list[str]) -> int:
    """Run ``admin grant|revoke USERNAME [--data-dir DIR]``; the exit status (1: no such user)."""
    parser = argparse.ArgumentParser(
        prog="openchat-server admin", description="Make or unmake a server administrator."
    )
    parser.add_argument("action", choices=["grant", "revoke"])
    parser.add_argument("username")
    parser.add_argument("--data-dir", default=".data/server", help="the server's data directory")
    args = parser.parse_args(argv)
    settings = load_settings(args.data_dir)
    upgrade_to_head(settings.database_url)
    granted = args.action == "grant"
    if not asyncio.run(set_admin(settings.database_url, args.username, granted)):
        print(f"openchat-server admin: no user named {args.username!r}", file=sys.stderr)
        return 1
    role = "now an administrator" if granted else "no longer an administrator"
    print(f"{args.username.lower()} is {role}")
    return 0
