"""The local-first core: state machines over one account's SQLite cache, with no network I/O.

- ``schema``: tables, indexes, FTS5 and migrations (``PRAGMA user_version``).
- ``cache`` (``Cache``), layered on ``cache_base``, ``cache_messages`` and
  ``cache_conversations``: every read a screen makes and every write, idempotent.
- ``records``: the typed rows the cache returns; ``highlight``: search-match highlighting.
- ``outbox_items`` / ``outbox``: the durable queue of user actions; ``outbox_worker``: drains it
  (a window of items in flight over the socket, one at a time over REST).
- ``transport``: what the services implement for the outbox (``Transport``) and for sync
  (``SyncFetcher``).
- ``sync``: applies server events in order, catches up from ``/sync``, resyncs after a 410.
"""
