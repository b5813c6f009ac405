"""Numeric limits of the protocol, shared by server validation and client pre-checks."""

from typing import Final

MAX_TEXT_LENGTH: Final = 4000
"""Longest message text, in characters, after sanitising."""

MIN_PASSWORD_LENGTH: Final = 8
MAX_PASSWORD_LENGTH: Final = 256
USERNAME_PATTERN: Final = r"^[a-z0-9_][a-z0-9_.]{2,31}$"
"""Usernames: 3–32 characters, lower-case letters, digits, dot and underscore."""
MAX_DISPLAY_NAME_LENGTH: Final = 64
MAX_GROUP_TITLE_LENGTH: Final = 100
MAX_GROUP_MEMBERS: Final = 256

DEFAULT_PAGE_SIZE: Final = 30
MAX_PAGE_SIZE: Final = 100
DEFAULT_SYNC_PAGE_SIZE: Final = 200
MAX_SYNC_PAGE_SIZE: Final = 1000

MESSAGES_PER_MINUTE: Final = 30
"""Messages one user may send per rolling minute (REST and socket together)."""
AUTH_ATTEMPTS_PER_WINDOW: Final = 10
AUTH_WINDOW_SECONDS: Final = 15 * 60
UPLOADS_PER_MINUTE: Final = 5

ACCESS_TOKEN_TTL_SECONDS: Final = 15 * 60
REFRESH_TOKEN_TTL_SECONDS: Final = 7 * 24 * 60 * 60

TYPING_TTL_SECONDS: Final = 3.0
"""A typing indicator expires this long after the last typing_start."""
TYPING_START_INTERVAL_SECONDS: Final = 2.0
"""Clients send typing_start at most this often while the user types."""
TYPING_IDLE_SECONDS: Final = 2.0
"""Clients send typing_stop after this long without a keystroke."""
PRESENCE_THROTTLE_SECONDS: Final = 5.0
"""At most one presence_update per user per this many seconds."""

MAX_FORWARD_TARGETS: Final = 5
MAX_FORWARD_MESSAGES: Final = 20
MAX_EDIT_HISTORY: Final = 50

MAX_VOICE_BYTES: Final = 10 * 1024 * 1024
MAX_IMAGE_BYTES: Final = 25 * 1024 * 1024
MAX_VIDEO_BYTES: Final = 100 * 1024 * 1024
