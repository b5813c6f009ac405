"""Core ``Table`` handles of the models the hot paths write with SQLAlchemy Core (the send
batch, the seq update and message insert of a single store): no ORM unit-of-work bookkeeping."""

from typing import cast

from sqlalchemy import Table

from server.db import models

CONVERSATIONS = cast(Table, models.Conversation.__table__)
MESSAGES = cast(Table, models.Message.__table__)
EVENTS = cast(Table, models.Event.__table__)
