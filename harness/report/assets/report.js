/* report.js - The script of wsrace's HTML report (index.html). It draws a
 * case's timeline on a canvas when the case is opened, from the case's
 * JSON data block (the script element of type application/json with id
 * "tl-N"): one lane per connection, virtual scrolling (only the lanes in
 * view are drawn), zoom, pan, a hover tip, evidence that focuses the
 * timeline. It also filters the cases, hides the matrix columns that are
 * clean in every row and copies replay commands. document.body.dataset.ready
 * is '1' once it has set the page up (the browser test,
 * harness/tests/test_html.py, waits for it).
 *
 * Built into the wsrace binary (scripts/embed-asset.py, run by meson) and
 * written as it is into the page's inline script element: ES2017, no
 * libraries, no network (the page's CSP is default-src 'none'), and no end
 * tag of the script element or HTML comment opener anywhere, strings and
 * comments included (the build refuses them). */
(function () {
  'use strict';
  var ROW = 18, AXIS = 24, LABEL = 220, MAXH = 440, PAD = 10;
  var COLOR = {
    state: '#2563eb', coord: '#7c3aed', reg: '#ea580c', send: '#16a34a',
    recv: '#0d9488', close: '#374151', fail: '#dc2626', harness: '#6b7280',
    other: '#9aa5b1'
  };
  var STATE = {
    CONNECTING: '#e5e7eb', ACCEPTED: '#dbeafe', AUTHENTICATED: '#bfdbfe',
    SERVICES_READY: '#fde68a', PROCESSING_READY: '#bbf7d0',
    PROCESSING: '#86efac', IDLE: '#d1fae5', CLOSING: '#d1d5db', CLOSED: null
  };
  var tip = null;

  function category(o) {
    var n = String(o.event || '');
    if (o.type === 'fail' || /fail|error|swallow/.test(n)) return 'fail';
    if (n === 'machine.transition') return 'state';
    if (n === 'coordinator.phase') return 'coord';
    if (n.indexOf('registry.') === 0 || n.indexOf('swap.') === 0) return 'reg';
    if (n === 'client.send' || n.indexOf('message.') === 0) return 'send';
    if (n === 'client.recv' || n === 'client.established' ||
        n === 'welcome.sent') return 'recv';
    if (/close/.test(n)) return 'close';
    if (n.indexOf('target.') === 0 || n.indexOf('gateway.') === 0 ||
        n === 'case.end') return 'harness';
    return 'other';
  }

  function fmtTime(ns, step) {
    var a = Math.abs(step || ns);
    if (a >= 1e9) return (ns / 1e9).toFixed(step >= 1e9 ? 0 : 2) + ' s';
    if (a >= 1e6) return (ns / 1e6).toFixed(step >= 1e6 ? 0 : 2) + ' ms';
    if (a >= 1e3) return (ns / 1e3).toFixed(step >= 1e3 ? 0 : 2) + ' \u00b5s';
    return Math.round(ns) + ' ns';
  }

  function niceStep(span, n) {
    var raw = span / n, p = Math.pow(10, Math.floor(Math.log10(raw)));
    var m = raw / p;
    return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
  }

  /* The first index of arr (sorted by t) whose t is >= t. */
  function lower(arr, t) {
    var lo = 0, hi = arr.length;
    while (lo < hi) {
      var mid = (lo + hi) >> 1;
      if (arr[mid].t < t) lo = mid + 1; else hi = mid;
    }
    return lo;
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function showTip(x, y, text) {
    if (!tip) {
      tip = el('div', 'tl-tip');
      document.body.appendChild(tip);
    }
    tip.textContent = text;
    tip.style.display = 'block';
    var w = tip.offsetWidth, h = tip.offsetHeight;
    tip.style.left = Math.max(4, Math.min(x + 14, window.innerWidth - w - 8)) + 'px';
    tip.style.top = (y + 16 + h > window.innerHeight ? Math.max(4, y - h - 10) : y + 16) + 'px';
  }

  function hideTip() {
    if (tip) tip.style.display = 'none';
  }

  function model(data) {
    var lanes = data.lanes.map(function (l) {
      return { kind: l[0], label: l[1], ev: [], states: [], evidence: false };
    });
    var evid = [], tmin = 0, tmax = data.span > 0 ? data.span : 1, i;
    if (data.agg) {
      lanes.push({ kind: 3, label: data.agg.lanes + ' more connections (' +
                   data.agg.events + ' events, counts)', ev: [], states: [],
                   agg: data.agg, evidence: false });
    }
    for (i = 0; i < data.ev.length; i++) {
      var r = data.ev[i], lane = lanes[r[1]];
      if (!lane) continue;
      var ev = { t: r[0], lane: r[1], mask: r[2], o: r[3], c: category(r[3]) };
      lane.ev.push(ev);
      if (ev.mask) { evid.push(ev); lane.evidence = true; }
      if (ev.t < tmin) tmin = ev.t;
      if (ev.t > tmax) tmax = ev.t;
    }
    lanes.forEach(function (l) {
      l.ev.sort(function (a, b) { return a.t - b.t; });
      l.ev.forEach(function (e) {
        if (e.o.event === 'machine.transition' && e.o.to)
          l.states.push({ t: e.t, s: String(e.o.to) });
      });
    });
    evid.sort(function (a, b) { return a.t - b.t; });
    return { lanes: lanes, evid: evid, tmin: tmin, tmax: tmax };
  }

  function Timeline(root, data, checks) {
    var m = model(data), self = this;
    this.m = m;
    this.checks = checks;
    this.root = root;
    this.v0 = m.tmin;
    this.v1 = m.tmax + (m.tmax - m.tmin) * 0.01;
    this.order = m.lanes.map(function (_, i) { return i; });
    this.flash = null;

    root.textContent = '';
    var bar = el('div', 'tl-bar');
    var zin = el('button', '', 'zoom in'), zout = el('button', '', 'zoom out');
    var fit = el('button', '', 'fit');
    var onEv = el('button', '', 'zoom to evidence');
    var evFirst = el('label', 'muted');
    var box = el('input');
    box.type = 'checkbox';
    evFirst.appendChild(box);
    evFirst.appendChild(document.createTextNode(' evidence lanes first'));
    this.range = el('span', 'muted');
    bar.appendChild(zin); bar.appendChild(zout); bar.appendChild(fit);
    if (m.evid.length) bar.appendChild(onEv);
    bar.appendChild(evFirst); bar.appendChild(this.range);
    bar.appendChild(el('span', 'muted tl-help',
      'Scroll: lanes \u00b7 Ctrl+wheel: zoom \u00b7 Shift+wheel or drag: pan \u00b7 hover: event'));
    root.appendChild(bar);

    var h = Math.min(MAXH, AXIS + m.lanes.length * ROW + 4);
    this.h = h;
    var wrap = el('div', 'tl-wrap');
    wrap.style.height = h + 'px';
    this.scroll = el('div', 'tl-scroll');
    this.scroll.style.height = h + 'px';
    var spacer = el('div');
    spacer.style.height = (AXIS + m.lanes.length * ROW + 4) + 'px';
    this.scroll.appendChild(spacer);
    this.canvas = el('canvas', 'tl-canvas');
    wrap.appendChild(this.scroll);
    wrap.appendChild(this.canvas);
    root.appendChild(wrap);

    if (m.evid.length) {
      root.appendChild(el('h4', '', 'Evidence on the timeline (click to focus)'));
      var ul = el('ul', 'tl-evid');
      m.evid.forEach(function (ev) {
        var li = el('li'), b = el('button', 'linkish');
        var names = [];
        checks.forEach(function (c, k) { if (ev.mask & (1 << k)) names.push(c); });
        b.textContent = (ev.t / 1e6).toFixed(3) + ' ms  ' + (ev.o.event || '?') +
          '  [' + m.lanes[ev.lane].label + ']  \u2190 ' + names.join(', ');
        b.addEventListener('click', function () { self.focus(ev); });
        li.appendChild(b);
        ul.appendChild(li);
      });
      root.appendChild(ul);
    }

    var pending = false;
    this.redraw = function () {
      if (pending) return;
      pending = true;
      window.requestAnimationFrame(function () { pending = false; self.draw(); });
    };
    this.scroll.addEventListener('scroll', this.redraw);
    window.addEventListener('resize', this.redraw);
    zin.addEventListener('click', function () { self.zoom(0.5, null); });
    zout.addEventListener('click', function () { self.zoom(2, null); });
    fit.addEventListener('click', function () {
      self.v0 = m.tmin; self.v1 = m.tmax + (m.tmax - m.tmin) * 0.01; self.redraw();
    });
    onEv.addEventListener('click', function () {
      var a = m.evid[0].t, b = m.evid[m.evid.length - 1].t;
      var pad = Math.max(1000, (b - a) * 0.1);
      self.v0 = a - pad; self.v1 = b + pad; self.redraw();
    });
    box.addEventListener('change', function () {
      var rest = [], first = [];
      m.lanes.forEach(function (l, i) {
        (box.checked && (l.evidence || l.kind === 0) ? first : rest).push(i);
      });
      self.order = first.concat(rest);
      self.redraw();
    });
    this.scroll.addEventListener('wheel', function (e) {
      if (!e.ctrlKey && !e.shiftKey) return;
      e.preventDefault();
      var d = e.deltaY || e.deltaX;
      var x = e.clientX - self.scroll.getBoundingClientRect().left;
      if (e.ctrlKey) self.zoom(d > 0 ? 1.25 : 0.8, self.timeAt(x));
      else self.pan(d / 4);
    }, { passive: false });
    var drag = null;
    this.scroll.addEventListener('mousedown', function (e) {
      if (e.clientX - self.scroll.getBoundingClientRect().left > LABEL)
        drag = e.clientX;
    });
    window.addEventListener('mouseup', function () { drag = null; });
    this.scroll.addEventListener('mousemove', function (e) {
      if (drag !== null) {
        self.pan(drag - e.clientX);
        drag = e.clientX;
        hideTip();
        return;
      }
      self.hover(e);
    });
    this.scroll.addEventListener('mouseleave', hideTip);
    this.draw();
  }

  Timeline.prototype.width = function () {
    return Math.max(LABEL + 80, this.scroll.clientWidth);
  };
  Timeline.prototype.xOf = function (t) {
    return LABEL + (t - this.v0) / (this.v1 - this.v0) * (this.width() - LABEL - PAD);
  };
  Timeline.prototype.timeAt = function (x) {
    return this.v0 + (x - LABEL) / (this.width() - LABEL - PAD) * (this.v1 - this.v0);
  };
  Timeline.prototype.zoom = function (f, at) {
    var c = at === null ? (this.v0 + this.v1) / 2 : at;
    var span = Math.max(50, (this.v1 - this.v0) * f);
    var r = (c - this.v0) / (this.v1 - this.v0);
    this.v0 = c - span * r;
    this.v1 = this.v0 + span;
    this.redraw();
  };
  Timeline.prototype.pan = function (px) {
    var dt = px / (this.width() - LABEL - PAD) * (this.v1 - this.v0);
    this.v0 += dt;
    this.v1 += dt;
    this.redraw();
  };
  Timeline.prototype.focus = function (ev) {
    var span = Math.max(2000, (this.m.tmax - this.m.tmin) / 40);
    this.v0 = ev.t - span / 2;
    this.v1 = ev.t + span / 2;
    var row = this.order.indexOf(ev.lane);
    this.scroll.scrollTop = Math.max(0, row * ROW - (this.h - AXIS) / 2);
    this.flash = ev;
    this.redraw();
    this.root.scrollIntoView({ block: 'nearest' });
  };

  Timeline.prototype.hover = function (e) {
    var rect = this.scroll.getBoundingClientRect();
    var y = e.clientY - rect.top, x = e.clientX - rect.left;
    var row = Math.floor((y - AXIS + this.scroll.scrollTop) / ROW);
    if (y < AXIS || row < 0 || row >= this.order.length) { hideTip(); return; }
    var lane = this.m.lanes[this.order[row]];
    if (x < LABEL) { showTip(e.clientX, e.clientY, lane.label); return; }
    if (lane.agg) {
      var b = Math.floor(this.timeAt(x) / lane.agg.bucket);
      var n = lane.agg.counts[b] || 0;
      showTip(e.clientX, e.clientY, n + ' events of aggregated connections in ' +
              fmtTime(b * lane.agg.bucket, 1e3) + ' .. ' +
              fmtTime((b + 1) * lane.agg.bucket, 1e3));
      return;
    }
    var t = this.timeAt(x), i = lower(lane.ev, t), best = null, bd = 6;
    for (var j = Math.max(0, i - 3); j < Math.min(lane.ev.length, i + 3); j++) {
      var d = Math.abs(this.xOf(lane.ev[j].t) - x);
      if (d < bd || (d === bd && lane.ev[j].mask)) { bd = d; best = lane.ev[j]; }
    }
    if (!best) { hideTip(); return; }
    var names = [];
    this.checks.forEach(function (c, k) { if (best.mask & (1 << k)) names.push(c); });
    showTip(e.clientX, e.clientY, 't = ' + fmtTime(best.t, 1) +
            (names.length ? '   EVIDENCE of ' + names.join(', ') : '') + '\n' +
            JSON.stringify(best.o, null, 1));
  };

  function mark(ctx, c, x, y) {
    ctx.fillStyle = COLOR[c];
    switch (c) {
    case 'state': ctx.fillRect(x - 1, y - 5, 3, 10); break;
    case 'coord':
      ctx.beginPath(); ctx.moveTo(x, y - 5); ctx.lineTo(x + 4, y);
      ctx.lineTo(x, y + 5); ctx.lineTo(x - 4, y); ctx.fill(); break;
    case 'reg':
      ctx.beginPath(); ctx.moveTo(x, y - 5); ctx.lineTo(x + 4, y + 4);
      ctx.lineTo(x - 4, y + 4); ctx.fill(); break;
    case 'send':
      ctx.beginPath(); ctx.moveTo(x - 4, y - 4); ctx.lineTo(x + 4, y);
      ctx.lineTo(x - 4, y + 4); ctx.fill(); break;
    case 'recv':
      ctx.beginPath(); ctx.arc(x, y, 3, 0, 6.3); ctx.fill(); break;
    case 'close': ctx.fillRect(x - 1, y - 7, 2, 14); break;
    case 'fail':
      ctx.strokeStyle = COLOR.fail; ctx.lineWidth = 2; ctx.beginPath();
      ctx.moveTo(x - 4, y - 4); ctx.lineTo(x + 4, y + 4);
      ctx.moveTo(x + 4, y - 4); ctx.lineTo(x - 4, y + 4); ctx.stroke(); break;
    case 'harness': ctx.fillRect(x - 3, y - 3, 6, 6); break;
    default: ctx.fillRect(x - 1, y - 2, 3, 4);
    }
  }

  Timeline.prototype.drawLane = function (ctx, li, y, w) {
    var lane = this.m.lanes[li], mid = y + ROW / 2, self = this, i;
    if (lane.agg) {
      var a = lane.agg, max = 1;
      a.counts.forEach(function (n) { if (n > max) max = n; });
      ctx.fillStyle = '#94a3b8';
      for (i = 0; i < a.counts.length; i++) {
        if (!a.counts[i]) continue;
        var x0 = Math.max(LABEL, this.xOf(i * a.bucket));
        var x1 = Math.min(w - PAD, this.xOf((i + 1) * a.bucket));
        var hh = Math.max(1, (ROW - 4) * a.counts[i] / max);
        if (x1 > x0) ctx.fillRect(x0, y + ROW - 2 - hh, Math.max(1, x1 - x0 - 0.5), hh);
      }
      return 0;
    }
    lane.states.forEach(function (s, k) {
      var next = k + 1 < lane.states.length ? lane.states[k + 1].t : self.m.tmax;
      var x0 = Math.max(LABEL, self.xOf(s.t)), x1 = Math.min(w - PAD, self.xOf(next));
      if (x1 <= x0) return;
      if (STATE[s.s] === null) return;
      ctx.fillStyle = STATE[s.s] || '#e5e7eb';
      ctx.fillRect(x0, y + 3, Math.max(1, x1 - x0), ROW - 6);
    });
    var margin = (this.v1 - this.v0) * 8 / (w - LABEL);
    var lastX = -1, lastC = '', drawn = 0;
    for (i = lower(lane.ev, this.v0 - margin); i < lane.ev.length; i++) {
      var ev = lane.ev[i];
      if (ev.t > this.v1 + margin) break;
      var x = Math.round(this.xOf(ev.t));
      if (x === lastX && ev.c === lastC && !ev.mask) continue;
      lastX = x; lastC = ev.c;
      mark(ctx, ev.c, x, mid);
      drawn++;
      if (ev.mask || ev === this.flash) {
        ctx.strokeStyle = ev === this.flash ? '#f59e0b' : '#dc2626';
        ctx.lineWidth = 2;
        ctx.beginPath(); ctx.arc(x, mid, 7, 0, 6.3); ctx.stroke();
      }
    }
    return drawn;
  };

  Timeline.prototype.draw = function () {
    var t0 = performance.now();
    var w = this.width(), h = this.h, dpr = window.devicePixelRatio || 1;
    var c = this.canvas, ctx = c.getContext('2d');
    if (c.width !== Math.round(w * dpr) || c.height !== Math.round(h * dpr)) {
      c.width = Math.round(w * dpr);
      c.height = Math.round(h * dpr);
      c.style.width = w + 'px';
      c.style.height = h + 'px';
    }
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    ctx.font = '11px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
    ctx.textBaseline = 'middle';
    var top = this.scroll.scrollTop, n = this.order.length;
    var first = Math.max(0, Math.floor(top / ROW));
    var last = Math.min(n, Math.ceil((top + h - AXIS) / ROW) + 1);
    var step = niceStep(this.v1 - this.v0, Math.max(2, (w - LABEL) / 110));
    var g, drawn = 0, r;
    ctx.strokeStyle = '#eef0f3';
    ctx.lineWidth = 1;
    for (g = Math.ceil(this.v0 / step) * step; g <= this.v1; g += step) {
      var gx = Math.round(this.xOf(g)) + 0.5;
      ctx.beginPath(); ctx.moveTo(gx, AXIS); ctx.lineTo(gx, h); ctx.stroke();
    }
    for (r = first; r < last; r++) {
      var li = this.order[r], lane = this.m.lanes[li];
      var y = AXIS + r * ROW - top;
      if (lane.evidence) {
        ctx.fillStyle = 'rgba(254,226,226,0.55)';
        ctx.fillRect(LABEL, y, w - LABEL, ROW);
      } else if (r % 2) {
        ctx.fillStyle = 'rgba(241,245,249,0.6)';
        ctx.fillRect(LABEL, y, w - LABEL, ROW);
      }
      drawn += this.drawLane(ctx, li, y, w);
    }
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, LABEL, h);
    for (r = first; r < last; r++) {
      var ln = this.m.lanes[this.order[r]], yy = AXIS + r * ROW - top + ROW / 2;
      var text = ln.label;
      ctx.fillStyle = ln.evidence ? '#b91c1c' : ln.kind === 0 ? '#111827' :
        ln.kind === 3 ? '#64748b' : '#374151';
      while (text.length > 4 && ctx.measureText(text).width > LABEL - 12)
        text = text.slice(0, -2);
      if (text !== ln.label) text += '\u2026';
      ctx.fillText(text, 6, yy);
    }
    ctx.fillStyle = '#f8fafc';
    ctx.fillRect(0, 0, w, AXIS);
    ctx.strokeStyle = '#cbd5e1';
    ctx.beginPath(); ctx.moveTo(0, AXIS - 0.5); ctx.lineTo(w, AXIS - 0.5);
    ctx.moveTo(LABEL - 0.5, 0); ctx.lineTo(LABEL - 0.5, h); ctx.stroke();
    ctx.fillStyle = '#475569';
    ctx.fillText('lane \u2193   time \u2192', 6, AXIS / 2);
    for (g = Math.ceil(this.v0 / step) * step; g <= this.v1; g += step) {
      var tx = this.xOf(g);
      if (tx < LABEL + 2 || tx > w - 30) continue;
      ctx.fillText(fmtTime(g, step), tx + 3, AXIS / 2);
    }
    this.range.textContent = fmtTime(this.v0, this.v1 - this.v0) + ' .. ' +
      fmtTime(this.v1, this.v1 - this.v0) + '  \u00b7  ' + n + ' lanes';
    var ds = this.root.dataset;
    ds.drawn = '1';
    ds.lanes = String(n);
    ds.events = String(drawn);
    ds.visible = String(last - first);
    ds.drawMs = String(Math.round(performance.now() - t0));
    ds.draws = String((+ds.draws || 0) + 1);
  };

  function openCase(d) {
    var box = d.querySelector('.tl');
    if (!box || box.dataset.state) return;
    var src = document.getElementById(box.dataset.src || '');
    box.dataset.state = 'loading';
    if (!src) {
      box.dataset.state = 'none';
      return;
    }
    try {
      var data = JSON.parse(src.textContent);
      box.timeline = new Timeline(box, data, data.checks || []);
      box.dataset.state = 'ready';
    } catch (err) {
      box.dataset.state = 'error';
      box.textContent = 'The timeline could not be drawn: ' + err;
    }
  }

  function filterCases() {
    var onlyBad = document.getElementById('only-unexpected');
    var onlyFail = document.getElementById('only-fail');
    var all = document.querySelectorAll('details.case'), shown = 0;
    Array.prototype.forEach.call(all, function (d) {
      var hide = (onlyBad && onlyBad.checked && d.dataset.unexpected !== '1') ||
        (onlyFail && onlyFail.checked && d.dataset.fail !== '1');
      d.classList.toggle('hidden', !!hide);
      if (!hide) shown++;
    });
    var count = document.getElementById('case-count');
    if (count) count.textContent = shown + ' of ' + all.length + ' cases shown';
  }

  function matrixColumns() {
    var box = document.getElementById('mx-hide-clean');
    var table = document.querySelector('table.mx');
    if (!box || !table) return;
    table.classList.toggle('hide-clean', box.checked);
    Array.prototype.forEach.call(table.querySelectorAll('th.sc'), function (th) {
      var n = +th.dataset.cols - (box.checked ? +th.dataset.clean : 0);
      th.colSpan = Math.max(1, n);
      th.classList.toggle('hidden', n === 0);
    });
  }

  function copy(btn) {
    var code = btn.parentNode.querySelector('code');
    if (!code) return;
    var text = code.textContent, done = function () {
      btn.textContent = 'copied';
      setTimeout(function () { btn.textContent = 'copy'; }, 1200);
    };
    var sel = window.getSelection(), range = document.createRange();
    range.selectNodeContents(code);
    sel.removeAllRanges();
    sel.addRange(range);
    var legacy = function () {
      try {
        if (document.execCommand('copy')) done();
      } catch (e) { /* the text stays selected: Ctrl+C */ }
    };
    if (navigator.clipboard && navigator.clipboard.writeText)
      navigator.clipboard.writeText(text).then(done, legacy);
    else
      legacy();
  }

  document.addEventListener('DOMContentLoaded', function () {
    Array.prototype.forEach.call(document.querySelectorAll('details.case'), function (d) {
      d.addEventListener('toggle', function () { if (d.open) openCase(d); });
      if (d.open) openCase(d);
    });
    Array.prototype.forEach.call(document.querySelectorAll('button.copy'), function (b) {
      b.addEventListener('click', function () { copy(b); });
    });
    Array.prototype.forEach.call(document.querySelectorAll('tr.ev'), function (tr) {
      tr.addEventListener('click', function () {
        var d = tr.closest('details.case'), box = d && d.querySelector('.tl');
        if (!box) return;
        openCase(d);
        var tl = box.timeline, t = +tr.dataset.t;
        if (!tl) return;
        var best = null;
        tl.m.evid.forEach(function (ev) {
          if (ev.t === t && (!best || ev.mask)) best = ev;
        });
        if (best) tl.focus(best);
      });
    });
    ['only-unexpected', 'only-fail'].forEach(function (id) {
      var b = document.getElementById(id);
      if (b) b.addEventListener('change', filterCases);
    });
    var mx = document.getElementById('mx-hide-clean');
    if (mx) mx.addEventListener('change', matrixColumns);
    matrixColumns();
    filterCases();
    try {
      var target = location.hash &&
        document.getElementById(decodeURIComponent(location.hash.slice(1)));
      if (target && target.tagName === 'DETAILS') target.open = true;
    } catch (e) { /* a malformed #fragment: nothing to open */ }
    document.body.dataset.ready = '1';
  });
})();
