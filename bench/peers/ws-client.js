// ws-client.js - The Node.js peer of scripts/bench: the load a team would
// write with the `ws` package instead of wsrace, on the same workload.
//
//   node ws-client.js --url ws://127.0.0.1:PORT/ws --secret S --connections N
//
// Opens N connections at once, each with its own HS256 JWT in
// `Authorization: Bearer` and its own session id; on each it waits for the
// welcome (connection_established), sends one user_message, and waits for
// its agent_completed. Every connection stays open until all are done (or
// 60 s have passed); then all are closed. Prints one JSON object: handshakes
// (connect started -> welcome received) per second with p50/p99, messages
// received per second, and errors.
'use strict';
const crypto = require('node:crypto');
const WebSocket = require('ws');

function arg(name, dflt) {
  const i = process.argv.indexOf(name);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : dflt;
}

const url = arg('--url');
const secret = arg('--secret', 'wsrace-development-secret');
const total = Number(arg('--connections', '1000'));
const LIMIT_MS = 60000;

const b64url = (buf) => Buffer.from(buf).toString('base64url');

function token(user) {
  const head = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const body = b64url(JSON.stringify({
    sub: user, exp: Math.floor(Date.now() / 1000) + 3600,
  }));
  const mac = crypto.createHmac('sha256', secret)
    .update(`${head}.${body}`).digest('base64url');
  return `${head}.${body}.${mac}`;
}

const now = () => Number(process.hrtime.bigint()) / 1e6; // ms
const sockets = [];
const latencies = [];
let first = Infinity, lastWelcome = 0, lastFrame = 0;
let frames = 0, done = 0, errors = 0, finished = false;

function settle() {
  if (finished || done + errors < total) return;
  finished = true;
  clearTimeout(limit);
  let open = 0;
  for (const ws of sockets) {
    if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) {
      open++;
      ws.once('close', () => { if (--open === 0) report(); });
      ws.close();
    }
  }
  if (open === 0) report();
  setTimeout(report, 5000).unref();
}

let reported = false;
function report() {
  if (reported) return;
  reported = true;
  latencies.sort((a, b) => a - b);
  const n = latencies.length;
  const pick = (q) => (n ? latencies[Math.min(n - 1, Math.floor(n * q))] : 0);
  console.log(JSON.stringify({
    tool: 'node-ws', connections: total, welcomed: n, completed: done, errors,
    handshakes_per_s: n && lastWelcome > first ? n / ((lastWelcome - first) / 1000) : 0,
    handshake_p50_ms: pick(0.5), handshake_p99_ms: pick(0.99),
    messages: frames,
    messages_per_s: lastFrame > first ? frames / ((lastFrame - first) / 1000) : 0,
  }));
  process.exit(n === total && done === total ? 0 : 1);
}

const limit = setTimeout(() => { errors = total - done; settle(); }, LIMIT_MS);

for (let i = 0; i < total; i++) {
  const t0 = now();
  first = Math.min(first, t0);
  const cid = `c${i}`;
  let welcomed = false, failed = false;
  const ws = new WebSocket(url, {
    headers: { Authorization: `Bearer ${token(`u${i}`)}`, 'X-Session-Id': `s${i}` },
  });
  sockets.push(ws);
  const fail = () => {
    if (failed || finished) return;
    failed = true;
    errors++;
    settle();
  };
  ws.on('message', (data) => {
    const t = now();
    frames++;
    lastFrame = t;
    let m;
    try { m = JSON.parse(data); } catch { return; }
    if (!welcomed && m.type === 'connection_established') {
      welcomed = true;
      latencies.push(t - t0);
      lastWelcome = Math.max(lastWelcome, t);
      ws.send(JSON.stringify({
        type: 'user_message', data: { content: 'hi' }, correlation_id: cid,
      }));
    } else if (m.type === 'agent_completed' && m.correlation_id === cid) {
      done++;
      settle();
    }
  });
  ws.on('error', fail);
  ws.on('close', () => { if (!finished) fail(); });
}
