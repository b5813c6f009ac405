"""Socket.IO event handlers: validate the payload -> call the service -> answer through the ack."""

from server.context import ServerContext


def register_handlers(context: ServerContext) -> None:
    """Attach the connect/disconnect handlers and every client event to ``context.sio``."""
    del context
