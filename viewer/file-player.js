// An event file dropped on the page (or chosen with "open an event file"): decoded here, in the
// page, by aedat-parser-ts's browser build as its bytes stream in, then played through the same
// event image as the live panels (event-image.js: counts H×W×2, channel 0 = OFF, 1 = ON).
// Nothing is sent to the service. Any format the package reads: AEDAT 2.0 / 3.1 / 4.0, EVT 2.0 /
// 3.0, Prophesee DAT, N-MNIST .bin, CSV.

import { DETECT_HEAD_BYTES, attachFile, createDecoder, detectFormat } from './vendor/aedat-parser-ts.js';
import { paintEvents } from './event-image.js';

/** Frames a short recording is cut into at least; long recordings get FRAME_MAX_US frames. */
const MIN_FRAMES = 60;
const FRAME_MIN_US = 1_000;
const FRAME_MAX_US = 50_000;
/** Frames shown per second of wall time: 50 ms frames play in real time. */
const PLAY_FPS = 20;

/**
 * Decodes `file` chunk by chunk. Resolves to the batches, their total, the format and the sensor
 * size (the header's, else the events' bounding box). A FormatError rejects with its one line.
 */
export async function decodeEventFile(file) {
  try {
    return await decodeChunks(file);
  } catch (err) {
    throw attachFile(err, file.name);
  }
}

async function decodeChunks(file) {
  const head = new Uint8Array(await file.slice(0, DETECT_HEAD_BYTES).arrayBuffer());
  const format = detectFormat(head, file.name, file.size);
  const decoder = createDecoder(format);
  const batches = [];
  let events = 0;
  const keep = (b) => {
    if (b.length > 0) batches.push(b);
    events += b.length;
  };
  const reader = file.stream().getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    keep(decoder.push(value));
  }
  keep(decoder.end());
  return { name: file.name, format, events, batches, geometry: decoder.geometry ?? boundingBox(batches) };
}

function boundingBox(batches) {
  let w = 1;
  let h = 1;
  for (const b of batches) {
    for (let i = 0; i < b.length; i++) {
      if (b.x[i] >= w) w = b.x[i] + 1;
      if (b.y[i] >= h) h = b.y[i] + 1;
    }
  }
  return { width: w, height: h };
}

/** Plays a decoded file in `view` (the file panel's canvas and caption), one frame per 1/PLAY_FPS s; returns a stop function. */
export function playEventFile(decoded, view, onFrame) {
  const { width, height } = decoded.geometry;
  view.canvas.width = width;
  view.canvas.height = height;
  view.canvas.style.height = `${Math.round((320 * height) / width)}px`;
  const ctx = view.canvas.getContext('2d');
  const image = ctx.createImageData(width, height);
  const first = decoded.batches[0]?.t[0] ?? 0;
  const last = decoded.batches.at(-1)?.t.at(-1) ?? first;
  const frameUs = Math.min(FRAME_MAX_US, Math.max(FRAME_MIN_US, (last - first) / MIN_FRAMES));
  const frames = Math.max(1, Math.ceil((last - first + 1) / frameUs));
  const speed = +((frameUs * PLAY_FPS) / 1e6).toPrecision(2);
  const counts = new Uint8Array(width * height * 2);
  const cursor = { batch: 0, index: 0 };
  let frame = 0;
  const timer = setInterval(() => {
    counts.fill(0);
    const end = first + (frame + 1) * frameUs;
    const inFrame = binUntil(decoded.batches, cursor, end, counts, width, height);
    paintEvents(image, counts);
    ctx.putImageData(image, 0, 0);
    view.caption.textContent = `t = ${((end - first) / 1000).toFixed(1)} of ${((last - first) / 1000).toFixed(1)} ms · ${inFrame} events in ${(frameUs / 1000).toFixed(1)} ms · ${speed}× real time`;
    onFrame(frame, frames);
    if (++frame >= frames) clearInterval(timer);
  }, 1000 / PLAY_FPS);
  return () => clearInterval(timer);
}

/** Adds the events before `end` (from `cursor` on) to `counts`, clipped to 255; returns how many. */
function binUntil(batches, cursor, end, counts, width, height) {
  let n = 0;
  for (; cursor.batch < batches.length; cursor.batch++, cursor.index = 0) {
    const b = batches[cursor.batch];
    for (; cursor.index < b.length; cursor.index++) {
      if (b.t[cursor.index] >= end) return n;
      const x = b.x[cursor.index];
      const y = b.y[cursor.index];
      if (x >= width || y >= height) continue;
      const k = (y * width + x) * 2 + b.p[cursor.index];
      if (counts[k] < 255) counts[k]++;
      n++;
    }
  }
  return n;
}

/**
 * Makes the page open event files: dropped anywhere on it, or chosen with the header's file
 * input. Each file replaces the previous one in the file panel (first in the grid). What it
 * decoded is in `state` (window.spikestreamViewer.file) and on the panel's data attributes.
 */
export function installFileDrop(state) {
  const $ = (id) => document.getElementById(id);
  let stop = () => {};
  let opened = 0;
  async function open(file) {
    stop();
    const mine = ++opened;
    const panel = filePanel();
    Object.assign(state, { name: file.name, format: null, events: 0, width: 0, height: 0, frames: 0, framesPainted: 0, error: null });
    for (const key of ['format', 'events', 'width', 'height', 'framesPainted']) delete panel.root.dataset[key];
    panel.root.dataset.file = file.name;
    panel.title.textContent = file.name;
    panel.tally.textContent = 'decoding…';
    panel.error.hidden = true;
    try {
      const t0 = performance.now();
      const decoded = await decodeEventFile(file);
      const ms = performance.now() - t0;
      if (mine !== opened) return; // another file was dropped while this one was decoding
      Object.assign(state, { format: decoded.format, events: decoded.events, width: decoded.geometry.width, height: decoded.geometry.height });
      Object.assign(panel.root.dataset, { format: decoded.format, events: String(decoded.events), width: String(decoded.geometry.width), height: String(decoded.geometry.height) });
      panel.tally.textContent = `${decoded.format} · ${decoded.events.toLocaleString('en')} events · ${decoded.geometry.width}×${decoded.geometry.height} · decoded in ${ms.toFixed(0)} ms`;
      stop = playEventFile(decoded, panel, (frame, frames) => {
        state.frames = frames;
        state.framesPainted = frame + 1;
        panel.root.dataset.framesPainted = String(frame + 1);
      });
    } catch (err) {
      if (mine !== opened) return;
      // A FormatError's message is one line naming the file, the format, the offset and the reason.
      state.error = err instanceof Error ? err.message : String(err);
      panel.tally.textContent = 'not decoded';
      panel.error.textContent = state.error;
      panel.error.hidden = false;
    }
  }
  function filePanel() {
    let root = document.querySelector('.panel.file');
    if (!root) {
      root = $('file-template').content.firstElementChild.cloneNode(true);
      $('panels').prepend(root);
      $('empty').hidden = true;
    }
    const q = (sel) => root.querySelector(sel);
    return { root, title: q('.file-name'), tally: q('.tally'), canvas: q('canvas.event-image'), caption: q('.frame-caption'), error: q('.file-error') };
  }
  document.addEventListener('dragover', (e) => {
    e.preventDefault();
    document.body.classList.add('dropping');
  });
  document.addEventListener('dragleave', () => document.body.classList.remove('dropping'));
  document.addEventListener('drop', (e) => {
    e.preventDefault();
    document.body.classList.remove('dropping');
    const file = e.dataTransfer?.files[0];
    if (file) open(file);
  });
  $('open-file').addEventListener('change', (e) => {
    const file = e.target.files[0];
    if (file) open(file);
    e.target.value = '';
  });
}
