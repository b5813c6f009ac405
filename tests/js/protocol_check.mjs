// Drives an OpenChat server with the official socket.io-client and prints what happened as JSON.
//
//   node protocol_check.mjs '{"url": "...", "senderToken": "...", "receiverToken": "...",
//                             "conversationId": "...", "clientId": "...", "text": "..."}'
//
// The sender connects with the client's default transports (HTTP long-polling, then the upgrade to
// WebSocket); the receiver with WebSocket only. The sender emits send_message with an ack, the
// receiver waits for the matching message_new; then a malformed send_message (error ack) and a
// handshake with a bad token (connect_error). Exit status 0 with the JSON on stdout, or 1 with
// {"error": ...} when any step fails or the whole run takes longer than TIMEOUT_MS.
import { io } from "socket.io-client";

const TIMEOUT_MS = 20000;
const ACK_TIMEOUT_MS = 10000;

const config = JSON.parse(process.argv[2]);
const sockets = [];

function finish(status, body) {
  for (const socket of sockets) socket.disconnect();
  process.stdout.write(JSON.stringify(body) + "\n");
  process.exit(status);
}

setTimeout(() => finish(1, { error: `timed out after ${TIMEOUT_MS} ms` }), TIMEOUT_MS).unref();

function open(token, options = {}) {
  const socket = io(config.url, { auth: { token }, reconnection: false, ...options });
  sockets.push(socket);
  return socket;
}

// Resolves with the transport the connection opened on (before any upgrade).
function connected(socket) {
  return new Promise((resolve, reject) => {
    let first = null;
    socket.io.once("open", () => {
      first = socket.io.engine.transport.name;
    });
    socket.once("connect", () => resolve(first));
    socket.once("connect_error", (err) => reject(new Error(`connect_error: ${err.message}`)));
  });
}

function refused(socket) {
  return new Promise((resolve, reject) => {
    socket.once("connect", () => reject(new Error("a bad token was accepted")));
    socket.once("connect_error", (err) => resolve({ message: err.message, data: err.data ?? null }));
  });
}

async function main() {
  const receiver = open(config.receiverToken, { transports: ["websocket"] });
  const sender = open(config.senderToken);
  const delivered = new Promise((resolve) => {
    receiver.on("message_new", (payload) => {
      if (payload.clientId === config.clientId) resolve(payload);
    });
  });
  const [receiverTransport, senderTransport] = await Promise.all([
    connected(receiver),
    connected(sender),
  ]);

  const ack = await sender.timeout(ACK_TIMEOUT_MS).emitWithAck("send_message", {
    conversationId: config.conversationId,
    text: config.text,
    clientId: config.clientId,
  });
  const received = await delivered;
  const invalidAck = await sender
    .timeout(ACK_TIMEOUT_MS)
    .emitWithAck("send_message", { conversationId: config.conversationId });
  const refusal = await refused(open("not-a-valid-token", { transports: ["websocket"] }));

  finish(0, {
    senderTransport,
    receiverTransport,
    ack,
    received,
    invalidAck,
    refusal,
    stillConnected: sender.connected && receiver.connected,
  });
}

main().catch((err) => finish(1, { error: String(err && err.stack ? err.stack : err) }));
