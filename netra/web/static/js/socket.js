// The page's WebSocket to /ws (docs/websocket.md): its first frame is {action: "auth", data: {token}}
// (never a token in the URL), then JSON frames {action, data} out, messages {type, data, metadata} in.
// A dropped connection is retried with exponential backoff (0.5 s, 1 s, 2 s ... at most 10 s), the
// token sent again first; frames sent while it is down wait and go out once it is up;
// a ping every 20 s (or a third of the server's `timeout_s`) keeps its idle timeout away. A refused
// token (close 4401/4403: refused, expired or signed out) signs out.

import { workspace } from "./api.js";

const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 10000;
const PING_MS = 20000;
const REFUSED = new Set([4401, 4403]);

export class LiveSocket {
  constructor(app) {
    this.app = app;
    this.attempts = 0;
    this.queue = [];
    this.stopped = true;
  }

  open(token) {
    this.close();
    this.stopped = false;
    this.token = token;
    this.connect();
  }

  connect() {
    if (this.stopped) return;
    const ws = new WebSocket(socketUrl());
    ws.onopen = () => ws.send(frame("auth", { token: this.token }));
    ws.onmessage = (event) => this.receive(JSON.parse(event.data));
    ws.onclose = (event) => this.closed(ws, event);
    this.ws = ws;
  }

  receive(message) {
    if (message.type === "connection_established") this.established(message.data);
    this.app.live.receive(message);
  }

  // Pings keep the connection within the server's idle timeout (`timeout_s`): every 20 s, or a third of it.
  established(data) {
    this.attempts = 0;
    this.app.connection("connected");
    this.startPings(Math.min(PING_MS, ((data && data.timeout_s) || 60) * 1000 / 3));
    this.queue.splice(0).forEach((text) => this.ws.send(text));
    this.app.live.ready();
  }

  startPings(every) {
    clearInterval(this.pinger);
    this.pinger = setInterval(() => this.isOpen() && this.ws.send(frame("ping", {})), every);
  }

  closed(ws, event) {
    if (ws !== this.ws || this.stopped) return;
    clearInterval(this.pinger);
    if (REFUSED.has(event.code)) return this.app.unauthorized();
    this.app.connection("reconnecting");
    setTimeout(() => this.connect(), this.nextDelay());
  }

  nextDelay() {
    const delay = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** this.attempts);
    this.attempts += 1;
    return delay;
  }

  send(action, data) {
    if (this.isOpen()) this.ws.send(frame(action, data));
    else this.queue.push(frame(action, data));
  }

  isOpen() {
    return Boolean(this.ws) && this.ws.readyState === WebSocket.OPEN;
  }

  close() {
    this.stopped = true;
    this.queue = [];
    clearInterval(this.pinger);
    if (this.ws) this.ws.close(1000, "signed out");
    this.ws = null;
  }
}

function socketUrl() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const named = workspace ? `?workspace=${encodeURIComponent(workspace)}` : "";
  return `${scheme}://${location.host}/ws${named}`;
}

function frame(action, data) {
  return JSON.stringify({ action, data });
}
