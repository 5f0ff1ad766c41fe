// artillery-processor.js - The function step of bench/peers/artillery.yml:
// wait for the welcome, send one user_message, wait for its
// agent_completed. Counts `bench.welcomed` and `bench.completed`.
'use strict';
const crypto = require('node:crypto');

const prefix = crypto.randomBytes(4).toString('hex');
let next = 0;

function exchange(context, events, done) {
  const ws = context.ws;
  const cid = `c-${prefix}-${next++}`;
  let welcomed = false, finished = false;
  const finish = (err) => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    done(err);
  };
  const timer = setTimeout(() => finish(new Error('no agent_completed')), 60000);
  ws.on('message', (data) => {
    let m;
    try { m = JSON.parse(data); } catch { return; }
    if (!welcomed && m.type === 'connection_established') {
      welcomed = true;
      events.emit('counter', 'bench.welcomed', 1);
      ws.send(JSON.stringify({
        type: 'user_message', data: { content: 'hi' }, correlation_id: cid,
      }));
    } else if (m.type === 'agent_completed' && m.correlation_id === cid) {
      events.emit('counter', 'bench.completed', 1);
      finish();
    }
  });
  ws.on('close', () => finish(new Error('closed before agent_completed')));
}

module.exports = { exchange };
