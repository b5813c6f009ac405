"""The Socket.IO side of the server (same port as REST, path ``/socket.io``).

Handshake: ``auth: {token: <access token>}`` or the header ``Authorization: Bearer <token>``.
Refusals arrive as ``connect_error`` with ``{"message": CODE, "data": {"code", "message"}}``:
``UNAUTHORIZED`` (no token), ``INVALID_TOKEN`` (bad, expired, or its user is gone),
``INTERNAL``. On connect the socket joins ``user:<id>`` and ``conv:<id>`` of every conversation of
the user, and is moved in and out of conversation rooms as memberships change (on every node).

Every client event takes one JSON object (the ``protocol.socket`` model of the event; unknown
fields refused) and is answered through the ack: the result, or
``{"error": {"code", "message"[, "retryAfter"]}}`` — also for a malformed payload
(``VALIDATION_ERROR``), an unknown event, or a server failure (``INTERNAL``). A socket's events run
one at a time in arrival order. Modules: ``connections`` (lifecycle, the ack guard around each
event), ``handlers`` (the event table), ``message_events`` (events backed by services),
``typing``, ``presence``, ``registry`` (sockets per user across nodes), ``publisher`` (the unit
of work's post-commit delivery), ``emitter`` (emits that never fail their caller).
"""
