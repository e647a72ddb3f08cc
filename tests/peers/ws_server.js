#!/usr/bin/env node
// An independent WebSocket and pub/sub peer for the integration tests, built on the npm `ws`
// package: the same endpoints as the WebSocket and channel parts of chaperon-demo, so that one
// test suite can check chaperon's client against two unrelated server implementations.
//
//   node ws_server.js --port 0
//   -> prints "ws-peer listening on http://127.0.0.1:<port>" once it accepts connections.
//
// HTTP:
//   PUT  /channels/<name>   publish the body: 200 {"sequence": n} (the last 100 are retained)
//   GET  /channels/<name>   200 {"sequence": n, "message": "<body>"} of the latest, or 404
//   GET  /stats             {"requests", "by_path", "ws_messages_in", "ws_messages_out", "ws_open"}
//   POST /stats/reset
// WebSocket upgrades:
//   /ws/echo     every message back with its type
//   /ws/headers  one text message {"headers": {...}, "cookie": "..."} of the upgrade, then echo
//   /ws/ping     a ping "chaperon"; its pong yields the text "pong chaperon"; then echo
//   /ws/close    "bye", then close 1000 "done"
//   /ws/drop     echo the first message, then drop the TCP connection without a close frame
//   /ws/silent   never sends anything
//   /channels/<name>  subscriber; {"last_message_sequence": k} replays retained messages > k
//   /ws/reject and any other path: "HTTP/1.1 403 Forbidden", body "rejected"
'use strict';

const http = require('http');
const { WebSocketServer } = require('ws');

const retained_per_channel = 100;
const max_body_bytes = 1 << 20;

function parse_port(argv) {
  let port = 8081;
  for (let i = 2; i < argv.length; ++i) {
    const arg = argv[i];
    let value;
    if (arg === '--port') {
      value = argv[++i];
    } else if (arg.startsWith('--port=')) {
      value = arg.slice('--port='.length);
    } else if (arg === '--help' || arg === '-h') {
      process.stdout.write('usage: node ws_server.js [--port PORT]\n');
      process.exit(0);
    } else {
      process.stderr.write(`unknown argument '${arg}'\n`);
      process.exit(2);
    }
    if (value === undefined || !/^\d+$/.test(value) || Number(value) > 65535) {
      process.stderr.write(`--port expects an integer in 0..65535, got '${value}'\n`);
      process.exit(2);
    }
    port = Number(value);
  }
  return port;
}

// ---- counters ---------------------------------------------------------------------------------

const stats = {
  requests: 0,
  by_path: new Map(),
  ws_messages_in: 0,
  ws_messages_out: 0,
  ws_open: 0,
};

function count_request(path) {
  if (path === '/stats' || path === '/stats/reset') return;
  stats.requests += 1;
  stats.by_path.set(path, (stats.by_path.get(path) || 0) + 1);
}

function stats_json() {
  return {
    requests: stats.requests,
    by_path: Object.fromEntries(stats.by_path),
    ws_messages_in: stats.ws_messages_in,
    ws_messages_out: stats.ws_messages_out,
    ws_open: stats.ws_open,
  };
}

// ---- channels -----------------------------------------------------------------------------------

class channel {
  constructor() {
    this.sequence = 0;
    this.retained = [];  // {sequence, message}, oldest first
    this.subscribers = new Set();
  }

  publish(message) {
    this.sequence += 1;
    const entry = { sequence: this.sequence, message };
    this.retained.push(entry);
    if (this.retained.length > retained_per_channel) this.retained.shift();
    const frame = JSON.stringify(entry);
    for (const ws of this.subscribers) send(ws, frame, false);
    return this.sequence;
  }

  latest() {
    return this.retained.length ? this.retained[this.retained.length - 1] : null;
  }

  replay_after(ws, last) {
    for (const entry of this.retained) {
      if (entry.sequence > last) send(ws, JSON.stringify(entry), false);
    }
  }
}

const channels = new Map();

function channel_named(name) {
  let c = channels.get(name);
  if (!c) {
    c = new channel();
    channels.set(name, c);
  }
  return c;
}

// "/channels/<name>" -> name; null for anything else (including an empty or nested name).
function channel_name(path) {
  const prefix = '/channels/';
  if (!path.startsWith(prefix)) return null;
  const name = path.slice(prefix.length);
  return name.length > 0 && !name.includes('/') ? name : null;
}

// ---- HTTP ---------------------------------------------------------------------------------------

function reply(res, status, body, type) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': type || 'application/json',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

function read_body(req, done) {
  const chunks = [];
  let size = 0;
  let too_large = false;
  req.on('data', (chunk) => {
    size += chunk.length;
    if (size > max_body_bytes) {
      too_large = true;
      return;
    }
    chunks.push(chunk);
  });
  req.on('end', () => done(too_large ? null : Buffer.concat(chunks).toString('utf8')));
}

function handle_channel(req, res, name) {
  if (req.method === 'PUT') {
    read_body(req, (body) => {
      if (body === null) return reply(res, 413, { error: 'body too large' });
      reply(res, 200, { sequence: channel_named(name).publish(body) });
    });
    return;
  }
  if (req.method === 'GET' || req.method === 'HEAD') {
    const c = channels.get(name);
    const latest = c && c.latest();
    if (!latest) return reply(res, 404, { error: 'no message' });
    return reply(res, 200, latest);
  }
  res.setHeader('Allow', 'GET, HEAD, PUT');
  reply(res, 405, { error: 'method not allowed' });
}

function handle_request(req, res) {
  const path = new URL(req.url, 'http://127.0.0.1').pathname;
  count_request(path);
  // Drain any body so that keep-alive connections stay usable.
  if (req.method !== 'PUT') req.resume();
  if (path === '/stats') return reply(res, 200, stats_json());
  if (path === '/stats/reset' && req.method === 'POST') {
    stats.requests = 0;
    stats.by_path.clear();
    return reply(res, 200, { reset: true });
  }
  if (path === '/') return reply(res, 200, 'chaperon ws peer', 'text/plain');
  const name = channel_name(path);
  if (name !== null) return handle_channel(req, res, name);
  reply(res, 404, { error: 'not found' });
}

// ---- WebSocket ----------------------------------------------------------------------------------

function send(ws, data, binary, done) {
  if (ws.readyState !== ws.OPEN) return;
  stats.ws_messages_out += 1;
  ws.send(data, { binary }, done);
}

function echo(ws, data, binary) {
  send(ws, data, binary);
}

const behaviours = {
  '/ws/echo': (ws) => {
    ws.on('message', (data, binary) => echo(ws, data, binary));
  },
  '/ws/headers': (ws, req) => {
    // Node has already lower-cased the names and joined repeated fields.
    send(ws, JSON.stringify({ headers: req.headers, cookie: req.headers.cookie || '' }), false);
    ws.on('message', (data, binary) => echo(ws, data, binary));
  },
  '/ws/ping': (ws) => {
    const payload = 'chaperon';
    let answered = false;
    // Only a pong counts: a client that answers with a ping fires 'ping', not 'pong'.
    ws.on('pong', (data) => {
      if (answered || data.toString('utf8') !== payload) return;
      answered = true;
      send(ws, 'pong chaperon', false);
    });
    ws.on('message', (data, binary) => echo(ws, data, binary));
    ws.ping(payload);
  },
  '/ws/close': (ws) => {
    send(ws, 'bye', false);
    ws.close(1000, 'done');
  },
  '/ws/drop': (ws) => {
    ws.once('message', (data, binary) => {
      // Dropped only once the echo has left, so that the client sees it before the end.
      send(ws, data, binary, () => ws.terminate());
    });
  },
  '/ws/silent': () => {},
};

function subscribe(ws, name) {
  const c = channel_named(name);
  c.subscribers.add(ws);
  ws.on('close', () => c.subscribers.delete(ws));
  ws.on('message', (data, binary) => {
    if (binary) return;
    let request;
    try {
      request = JSON.parse(data.toString('utf8'));
    } catch {
      return;
    }
    const last = request && request.last_message_sequence;
    if (Number.isInteger(last)) c.replay_after(ws, last);
  });
}

function reject_upgrade(socket) {
  const body = 'rejected';
  socket.end(
    'HTTP/1.1 403 Forbidden\r\n' +
      'Content-Type: text/plain\r\n' +
      `Content-Length: ${body.length}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
}

function start(port) {
  const server = http.createServer(handle_request);
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });

  server.on('upgrade', (req, socket, head) => {
    // A client that vanishes mid-handshake must not take the server down.
    socket.on('error', () => {});
    const path = new URL(req.url, 'http://127.0.0.1').pathname;
    count_request(path);
    const behaviour = behaviours[path];
    const name = channel_name(path);
    if (!behaviour && name === null) return reject_upgrade(socket);
    wss.handleUpgrade(req, socket, head, (ws) => {
      stats.ws_open += 1;
      ws.on('error', () => {});
      ws.on('close', () => {
        stats.ws_open -= 1;
      });
      ws.on('message', () => {
        stats.ws_messages_in += 1;
      });
      if (behaviour) behaviour(ws, req);
      else subscribe(ws, name);
    });
  });

  server.on('clientError', (err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });

  server.listen(port, '127.0.0.1', () => {
    process.stdout.write(`ws-peer listening on http://127.0.0.1:${server.address().port}\n`);
  });
  server.on('error', (err) => {
    process.stderr.write(`ws-peer: ${err.message}\n`);
    process.exit(1);
  });
}

start(parse_port(process.argv));
