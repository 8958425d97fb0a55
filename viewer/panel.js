// One live stream's panel: the event image the network sees, the running sample's shown confidence
// per step (the calibrated probability that its class is right; c_t under --confidence paper)
// against θ (the stopping step marked), the class probabilities of the current step, and the
// decisions as they come (answers, and uncertain ones apart). Messages only update state; the
// page's animation frame calls render(), so a burst of messages costs one paint.

import { paintEvents } from './event-image.js';

/** Most decisions kept per list (older ones scroll away). */
const KEEP = 100;

/** Whether a confidence reaches θ under the model's stop rule: calibrated q ≥ θ, the paper's c_t > θ. */
function passes(c, model) {
  return model.stopRule === 'paper' ? c > model.theta : c >= model.theta;
}

const CHART_WIDTH = 352;
const CHART_HEIGHT = 130;

export class Panel {
  /**
   * @param {string} streamId
   * @param {{ classes: string[], theta: number, maxSteps: number, inputWidth: number, inputHeight: number }} model
   */
  constructor(streamId, model) {
    this.streamId = streamId;
    this.model = model;
    const T = model.maxSteps;
    this.root = document.getElementById('panel-template').content.firstElementChild.cloneNode(true);
    this.root.dataset.stream = streamId;
    this.$ = (sel) => this.root.querySelector(sel);
    this.$('.stream-id').textContent = streamId;

    this.canvas = this.$('.event-image');
    this.canvas.width = model.inputWidth;
    this.canvas.height = model.inputHeight;
    // The image keeps the input's aspect ratio at 160 px across, scaled up crisply (CSS: pixelated).
    this.canvas.style.height = `${Math.round((160 * model.inputHeight) / model.inputWidth)}px`;
    this.ctx = this.canvas.getContext('2d');
    this.image = this.ctx.createImageData(model.inputWidth, model.inputHeight);

    this.bars = model.classes.map((name) => {
      const li = document.createElement('li');
      li.innerHTML = '<span class="name"></span><span class="track"><span class="fill"></span></span><span class="val"></span>';
      li.querySelector('.name').textContent = name;
      li.title = name;
      this.$('.bars').append(li);
      return { li, fill: li.querySelector('.fill'), val: li.querySelector('.val') };
    });

    // x = step 1…T; the running sample's c_t; the last decided sample's c_t (dimmed) and its stop; θ.
    const xs = Array.from({ length: T }, (_, i) => i + 1);
    this.data = [xs, new Array(T).fill(null), new Array(T).fill(null), new Array(T).fill(null), new Array(T).fill(model.theta)];
    this.chart = new uPlot(
      {
        width: CHART_WIDTH,
        height: CHART_HEIGHT,
        legend: { show: false },
        cursor: { show: false },
        scales: { x: { time: false, range: [1, T] }, y: { range: [0, 1] } },
        axes: [
          { stroke: '#8b98a9', grid: { stroke: '#1f2a37', width: 1 }, ticks: { show: false }, size: 24, font: '11px system-ui', incrs: [1, 2, 4, 8, 16, 32] },
          { stroke: '#8b98a9', grid: { stroke: '#1f2a37', width: 1 }, ticks: { show: false }, size: 34, font: '11px system-ui', values: (u, vals) => vals.map((v) => v.toFixed(1)) },
        ],
        series: [
          {},
          { label: 'c_t', stroke: '#e5e7eb', width: 2, points: { show: true, size: 5, fill: '#e5e7eb' } },
          { label: 'decided', stroke: () => this.stopColour(0.55), width: 1.5, points: { show: true, size: 4, fill: () => this.stopColour(0.55) } },
          // The stop: green where c_t crossed θ, amber for an uncertain decision.
          { label: 'stop', stroke: () => this.stopColour(1), width: 2, paths: () => null, points: { show: true, size: 13, width: 2, fill: () => this.stopColour(0.35) } },
          { label: 'θ', stroke: '#ef4444', width: 1, dash: [6, 4], points: { show: false } },
        ],
      },
      this.data,
      this.$('.chart'),
    );

    this.sampleId = null;
    this.steps = 0;
    this.frame = null;
    this.trace = null;
    this.stop = null;
    this.pending = [];
    this.tally = { answers: 0, right: 0, labelled: 0, uncertain: 0 };
    this.dirty = { frame: false, chart: false, bars: false };
    this.leftAt = null;
  }

  /** A frame of the preview feed. */
  onFrame(f) {
    if (f.width !== this.model.inputWidth || f.height !== this.model.inputHeight) return;
    this.frame = f;
    this.dirty.frame = true;
  }

  /** A step trace: c_t and the class probabilities of `t.step` of sample `t.sampleId`. */
  onTrace(t) {
    if (t.sampleId !== this.sampleId) this.newSample(t.sampleId);
    if (t.step >= 0 && t.step < this.model.maxSteps) {
      this.data[1][t.step] = t.confidence;
      this.steps = Math.max(this.steps, t.step + 1);
    }
    this.trace = t;
    this.dirty.chart = this.dirty.bars = true;
  }

  /** A decision; the chart keeps the decided sample's curve and its stop until the next decision. */
  onDecision(d) {
    if (d.sampleId === this.sampleId) {
      this.stop = d;
      const [, running, decided, stop] = this.data;
      for (let i = 0; i < running.length; i++) decided[i] = running[i];
      stop.fill(null);
      if (d.steps >= 1 && d.steps <= this.model.maxSteps) stop[d.steps - 1] = d.confidence;
      this.dirty.chart = true;
    }
    this.pending.push(d);
    if (this.pending.length > KEEP) this.pending.shift();
  }

  newSample(sampleId) {
    this.sampleId = sampleId;
    this.steps = 0;
    this.data[1].fill(null);
  }

  /** Presence as the service's stream list says: live, or gone since `now`. */
  setPresent(present, now) {
    if (present) this.leftAt = null;
    else this.leftAt ??= now;
    this.root.classList.toggle('left', !present);
    this.$('.presence').textContent = present ? 'live' : 'disconnected';
  }

  /** Paints what changed since the last call; true when a new event image was painted. */
  render() {
    const d = this.dirty;
    const painted = d.frame && this.frame !== null;
    if (painted) {
      paintEvents(this.image, this.frame.counts);
      this.ctx.putImageData(this.image, 0, 0);
      this.$('.frame-caption').textContent = `${this.frame.sampleId} · step ${this.frame.step + 1}/${this.model.maxSteps} · ${this.frame.eventCount} events`;
    }
    if (d.chart) {
      this.chart.setData(this.data);
      // What the chart shows, for tests and tools: the running sample and its c_t points, the decided one and its stop.
      const count = (xs) => String(xs.filter((v) => v !== null).length);
      Object.assign(this.$('.chart').dataset, {
        sampleId: this.sampleId ?? '',
        points: count(this.data[1]),
        decidedSampleId: this.stop?.sampleId ?? '',
        decidedPoints: count(this.data[2]),
        stopStep: this.stop ? String(this.stop.steps) : '',
      });
      this.$('.chart-caption').textContent = this.chartCaption();
    }
    if (d.bars && this.trace?.probabilities) this.renderBars(this.trace);
    if (this.pending.length > 0) this.renderDecisions();
    d.frame = d.chart = d.bars = false;
    return painted;
  }

  stopColour(alpha) {
    return this.stop && !this.stop.confident ? `rgba(245,158,11,${alpha})` : `rgba(34,197,94,${alpha})`;
  }

  chartCaption() {
    const T = this.model.maxSteps;
    const parts = [];
    if (this.sampleId && this.sampleId !== this.stop?.sampleId) parts.push(`${this.sampleId}: step ${this.steps} of ${T}`);
    const s = this.stop;
    if (s) parts.push(`${s.sampleId} stopped at ${s.steps}/${T}, ${s.confident ? (s.early ? 'early: c_t > θ' : 'c_t > θ') : `uncertain (${s.stoppedBy})`}`);
    return parts.join(' · ');
  }

  renderBars(t) {
    const p = t.probabilities;
    for (let k = 0; k < this.bars.length; k++) {
      const b = this.bars[k];
      const v = p[k] ?? 0;
      b.fill.style.transform = `scaleX(${v.toFixed(3)})`;
      b.val.textContent = `${Math.round(100 * v)}%`;
      b.li.classList.toggle('top', k === t.predicted);
      b.li.classList.toggle('above', k === t.predicted && passes(t.confidence, this.model));
    }
  }

  renderDecisions() {
    for (const d of this.pending) {
      const list = this.$(d.confident ? '.answers' : '.uncertain');
      list.prepend(this.decisionItem(d));
      while (list.children.length > KEEP) list.lastElementChild.remove();
      if (d.confident) {
        this.tally.answers++;
        if (d.trueLabel !== undefined) {
          this.tally.labelled++;
          if (d.trueLabel === d.label) this.tally.right++;
        }
      } else this.tally.uncertain++;
    }
    this.pending = [];
    const t = this.tally;
    this.$('.tally').textContent = `${t.answers} answers${t.labelled ? ` (${t.right}/${t.labelled} ✓)` : ''} · ${t.uncertain} uncertain`;
  }

  decisionItem(d) {
    const classes = this.model.classes;
    const li = document.createElement('li');
    li.className = 'decision';
    const known = d.trueLabel !== undefined && d.trueLabel !== null;
    const right = known && d.trueLabel === d.label;
    if (d.confident && known) li.classList.add(right ? 'right' : 'wrong');
    if (d.early) li.classList.add('early');
    Object.assign(li.dataset, {
      sampleId: d.sampleId,
      label: String(d.label),
      steps: String(d.steps),
      confident: String(d.confident),
      early: String(d.early),
      trueLabel: known ? String(d.trueLabel) : '',
    });
    const mark = !d.confident ? '?' : known ? (right ? '✓' : '✗') : '·';
    const cells = [mark, d.className ?? classes[d.label] ?? `class ${d.label}`, `${Math.round(100 * d.confidence)}%`, `${d.steps}/${d.maxSteps}`, d.early ? 'early' : d.stoppedBy];
    for (const [i, text] of cells.entries()) {
      const span = document.createElement('span');
      span.className = ['mark', 'cls', 'conf', 'steps', 'tag'][i];
      span.textContent = text;
      li.append(span);
    }
    // trueLabel −1: given during no gesture (the live scoring rule, src/eval/live-score.ts): wrong.
    const truth = known ? (d.trueLabel < 0 ? 'no gesture' : classes[d.trueLabel] ?? d.trueLabel) : '';
    li.title = `${d.sampleId}: ${d.className}, ${(100 * d.confidence).toFixed(1)}% likely right, ${d.steps} of ${d.maxSteps} steps (${d.stoppedBy})` + (known ? `; true class: ${truth}` : '');
    return li;
  }

  dispose() {
    this.chart.destroy();
    this.root.remove();
  }
}
