"""The wire contract shared by the OpenChat client and server.

REST bodies use snake_case (``protocol.rest``); Socket.IO payloads use the seeds' camelCase
(``protocol.socket``). Both are built from the same field definitions so they cannot drift.
"""
