// The live viewer: reads the model (viewer/config.json), opens the two feeds — decisions with
// per-step traces (/decisions?trace=1, JSON) and frames (/preview, binary) — polls the service's
// figures (viewer/figures.json, the registry behind /metrics) once a second, and keeps one panel
// per live stream. The page's own query: ?token= (passed to every data request), ?stream=<id>
// (one stream only), ?linger=<s> (how long a disconnected stream's panel stays, default 15),
// ?fps=<n> (most redraws a second, default 20).

import { Feed } from './feed.js';
import { decodePreview } from './event-image.js';
import { installFileDrop } from './file-player.js';
import { Panel } from './panel.js';

const query = new URLSearchParams(location.search);
const token = query.get('token');
const onlyStream = query.get('stream');
const lingerMs = 1000 * (Number(query.get('linger')) || 15);
const drawFps = Math.min(60, Number(query.get('fps')) || 20);
const FIGURES_EVERY_MS = 1000;

const $ = (id) => document.getElementById(id);
/** Counters a test or a benchmark reads (window.spikestreamViewer.stats). */
const stats = { draws: 0, drawLateMs: 0, framesReceived: 0, framesPainted: 0, traces: 0, decisions: 0, reconnects: 0 };
const panels = new Map();
let model = null;
let configText = '';
let lastFigures = null;

function dataUrl(path, extra = {}) {
  const u = new URL(path, location.href);
  if (token) u.searchParams.set('token', token);
  for (const [k, v] of Object.entries(extra)) if (v !== null && v !== undefined) u.searchParams.set(k, v);
  return u;
}

function socketUrl(path, extra) {
  const u = dataUrl(path, extra);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  return u.href;
}

function setStatus(state, text) {
  const el = $('status');
  el.dataset.state = state;
  el.textContent = text;
}

// ------------------------------------------------------------------ the model and the panels

/** Loads the model; true when it changed (a restarted service may run another one). */
async function loadConfig() {
  const res = await fetch(dataUrl('viewer/config.json'), { cache: 'no-store' });
  if (res.status === 401) throw Object.assign(new Error('unauthorized'), { unauthorized: true });
  if (!res.ok) throw new Error(`viewer/config.json: HTTP ${res.status}`);
  const text = await res.text();
  const changed = text !== configText;
  configText = text;
  model = JSON.parse(text).model;
  const m = model;
  const bin = m.binUs !== undefined ? `${m.binUs / 1000} ms bins` : `${m.eventsPerBin} events per bin`;
  $('model').textContent = `${m.name} (${m.mode}) · ${m.thetaLabel ?? `θ = ${m.theta}`} · T = ${m.maxSteps} · ${bin} · input ${m.inputWidth}×${m.inputHeight} (blue: ${m.channels[0]}, orange: ${m.channels[1]})`;
  return changed;
}

function panelFor(streamId) {
  if (onlyStream !== null && streamId !== onlyStream) return null;
  let p = panels.get(streamId);
  if (!p && model) {
    p = new Panel(streamId, model);
    panels.set(streamId, p);
    // Panels stay in stream-id order.
    const after = [...panels.keys()].sort().find((id) => id > streamId);
    $('panels').insertBefore(p.root, after ? panels.get(after).root : null);
    visibility.observe(p.root);
    $('empty').hidden = true;
  }
  return p ?? null;
}

function removePanel(id) {
  const p = panels.get(id);
  if (p) {
    visibility.unobserve(p.root);
    onScreen.delete(p);
    p.dispose();
  }
  panels.delete(id);
  $('empty').hidden = panels.size > 0 || document.querySelector('.panel.file') !== null;
}

function clearPanels() {
  for (const id of [...panels.keys()]) removePanel(id);
}

// ------------------------------------------------------------------ the feeds

function onDecisionMessage(text) {
  const msg = JSON.parse(text);
  const p = panelFor(msg.streamId);
  if (!p) return;
  if (msg.type === 'trace') {
    stats.traces++;
    p.onTrace(msg);
  } else if (msg.type === 'decision') {
    stats.decisions++;
    p.onDecision(msg);
  }
  if (onScreen.has(p)) requestDraw();
}

function onPreviewMessage(buffer) {
  const f = decodePreview(buffer);
  if (!f) return;
  stats.framesReceived++;
  const p = panelFor(f.streamId);
  if (!p) return;
  p.onFrame(f);
  if (onScreen.has(p)) requestDraw();
}

const filter = onlyStream !== null ? { stream: onlyStream } : {};
const feeds = {
  decisions: new Feed(socketUrl('decisions', { trace: '1', ...filter }), { onMessage: onDecisionMessage, onState: feedsChanged }),
  preview: new Feed(socketUrl('preview', filter), { binary: true, onMessage: onPreviewMessage, onState: feedsChanged }),
};
let wasLost = false;

function feedsChanged() {
  const all = Object.values(feeds);
  if (all.every((f) => f.open)) {
    const back = wasLost;
    wasLost = false;
    setStatus('connected', back ? 'reconnected' : 'live');
    if (back) {
      stats.reconnects++;
      // A restarted service may serve another model: the panels are rebuilt when it changed.
      loadConfig().then((changed) => changed && clearPanels(), () => {});
      setTimeout(() => $('status').dataset.state === 'connected' && setStatus('connected', 'live'), 3000);
    }
    return;
  }
  if (all.some((f) => f.state.everOpened && !f.open)) wasLost = true;
  const retrying = all.find((f) => f.state.name === 'retrying');
  if (retrying) {
    const s = retrying.state;
    setStatus('reconnecting', `connection lost: reconnecting in ${(s.delayMs / 1000).toFixed(1)} s (attempt ${s.attempt})`);
  } else setStatus(wasLost ? 'reconnecting' : 'connecting', wasLost ? 'connection lost: reconnecting…' : 'connecting…');
}

// ------------------------------------------------------------------ the figures

function compact(n) {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(1)} k`;
  return String(Math.round(n));
}

function showFigures(f) {
  const prev = lastFigures;
  lastFigures = f;
  $('f-streams').textContent = String(f.activeStreams);
  $('f-saved').textContent = f.decisionSteps + f.stepsSaved > 0 ? `${(100 * f.stepsSavedShare).toFixed(0)} %` : '–';
  $('f-dropped').textContent = compact(f.eventsDropped);
  $('f-dropped').title = `events dropped before the pipeline: ${f.eventsDropped}; messages dropped for slow subscribers: ${f.subscriberDrops}; preview frames dropped for slow pages: ${f.previewDrops}`;
  // Rates from two successive readings; a restarted service starts its counters again.
  const dt = prev ? (f.atMs - prev.atMs) / 1000 : 0;
  if (prev && dt > 0 && f.eventsIn >= prev.eventsIn) {
    $('f-events').textContent = compact((f.eventsIn - prev.eventsIn) / dt);
    const decided = (x) => x.decisions + x.uncertain;
    $('f-decisions').textContent = ((decided(f) - decided(prev)) / dt).toFixed(1);
  }
  const now = performance.now();
  const live = new Set(f.streams.map((s) => s.id));
  for (const id of live) panelFor(id)?.setPresent(true, now);
  for (const [id, p] of panels) {
    if (live.has(id)) continue;
    p.setPresent(false, now);
    if (now - p.leftAt > lingerMs) removePanel(id);
  }
}

async function pollFigures() {
  // While the feeds are down the service is away: no request until they are back.
  if (feeds.decisions.open) {
    try {
      const res = await fetch(dataUrl('viewer/figures.json'), { cache: 'no-store' });
      if (res.ok) showFigures(await res.json());
    } catch {
      // The service went away between two readings: the feeds report it.
    }
  }
  setTimeout(pollFigures, FIGURES_EVERY_MS);
}

// ------------------------------------------------------------------ start

// Only the panels on screen are drawn: the others keep their latest state (and their pending
// decisions) and draw it when they scroll into view, so that 64 streams cost what the ~8
// visible ones do.
const onScreen = new Set();
const visibility = new IntersectionObserver((entries) => {
  for (const e of entries) {
    const p = panels.get(e.target.dataset.stream);
    if (!p) continue;
    if (e.isIntersecting) onScreen.add(p);
    else onScreen.delete(p);
  }
  requestDraw();
});

// Drawing is on demand: a message for a panel on screen asks for a draw, and the updates that
// came meanwhile are drawn together in the next animation frame, at most `?fps=` times a second
// (default 20, the preview's rate): every drawn frame costs the browser a paint and a composite.
// An idle page asks for no frame at all. `drawLateMs` sums how much later than planned the
// frames came (a busy main thread).
let lastDraw = -Infinity;
let drawAsked = false;

function requestDraw() {
  if (drawAsked) return;
  drawAsked = true;
  const wait = Math.max(0, lastDraw + 1000 / drawFps - performance.now());
  const due = performance.now() + wait;
  setTimeout(() => requestAnimationFrame((now) => draw(now, due)), wait);
}

function draw(now, due) {
  drawAsked = false;
  lastDraw = now;
  stats.draws++;
  stats.drawLateMs += Math.max(0, now - due);
  for (const p of onScreen) if (p.render()) stats.framesPainted++;
}

async function start() {
  for (let attempt = 0; ; attempt++) {
    try {
      await loadConfig();
      break;
    } catch (err) {
      if (err.unauthorized) {
        setStatus('unauthorized', token ? 'the token was refused' : 'this service needs a token: open the page with ?token=…');
        return;
      }
      const delay = Math.min(8000, 500 * 2 ** attempt);
      setStatus('connecting', `service unreachable: retrying in ${(delay / 1000).toFixed(1)} s`);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
  feeds.decisions.start();
  feeds.preview.start();
  pollFigures();
}

/** The event file opened in the page, if any (see file-player.js). */
const file = {};
installFileDrop(file);
window.spikestreamViewer = { stats, panels, feeds, file };
start();
