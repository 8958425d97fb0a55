/**
 * What the viewer tests read from the page, in the page: plain JavaScript installed before the
 * page's own scripts (`installProbes`), called as `__probe.<name>(…)`. Kept as source text because
 * the tests compile without the DOM's types. They read the DOM, not the page's state, so that
 * what is checked is what a user sees.
 */
import type { Page } from 'puppeteer-core';

const SOURCE = String.raw`
window.__probe = {
  /** Every text the header's events/s showed (recorded by a MutationObserver from the start). */
  eventsShown: [],
  panel(id) {
    return document.querySelector('.panel[data-stream="' + CSS.escape(id) + '"]');
  },
  /** The decisions a panel lists, from their data attributes and marks. */
  listed(id) {
    const p = this.panel(id);
    if (!p) return [];
    return [...p.querySelectorAll('.decisions li')].map((li) => ({
      sampleId: li.dataset.sampleId,
      label: Number(li.dataset.label),
      steps: Number(li.dataset.steps),
      confident: li.dataset.confident === 'true',
      early: li.dataset.early === 'true',
      trueLabel: li.dataset.trueLabel ? Number(li.dataset.trueLabel) : null,
      list: li.parentElement.classList.contains('answers') ? 'answers' : 'uncertain',
      mark: li.querySelector('.mark').textContent,
    }));
  },
  /** The event image: size, how it is scaled, its lit (non-background) pixels and a hash of them. */
  eventImage(id) {
    const c = this.panel(id)?.querySelector('canvas.event-image');
    if (!c) return { width: 0, cssWidth: 0, rendering: '', lit: 0, hash: 0 };
    // A copy read once, so that Chrome does not warn about repeated readbacks of the page's canvas.
    const copy = new OffscreenCanvas(c.width, c.height).getContext('2d', { willReadFrequently: true });
    copy.drawImage(c, 0, 0);
    const d = copy.getImageData(0, 0, c.width, c.height).data;
    let lit = 0;
    let hash = 0;
    for (let i = 0; i < d.length; i += 4) {
      if (d[i + 3] === 255 && (d[i] !== 11 || d[i + 1] !== 15 || d[i + 2] !== 20)) lit++;
      hash = (Math.imul(hash, 31) + d[i] + 7 * d[i + 1] + 13 * d[i + 2]) >>> 0;
    }
    return { width: c.width, cssWidth: c.getBoundingClientRect().width, rendering: getComputedStyle(c).imageRendering, lit, hash };
  },
  /** What the confidence chart shows (its data attributes) and how many canvases it drew on. */
  chart(id) {
    const el = this.panel(id)?.querySelector('.chart');
    const d = el?.dataset ?? {};
    return {
      sampleId: d.sampleId || '',
      points: Number(d.points || 0),
      decidedSampleId: d.decidedSampleId || '',
      decidedPoints: Number(d.decidedPoints || 0),
      stopStep: d.stopStep || '',
      canvases: el ? el.querySelectorAll('canvas').length : 0,
    };
  },
  /** Samples one panel's image and chart every everyMs in the page (no round trip per sample) until stopRecording(). */
  recording: [],
  record(id, everyMs) {
    const timer = setInterval(() => this.recording.push({ image: this.eventImage(id), chart: this.chart(id) }), everyMs);
    this.stopRecording = () => {
      clearInterval(timer);
      return this.recording;
    };
  },
  /** What the running-stream checks sample, in one call: the image, the chart, events/s shown, decisions listed. */
  snapshot(id) {
    return { image: this.eventImage(id), chart: this.chart(id), listed: this.panel(id)?.querySelectorAll('.decisions li').length ?? 0, eventsPerSecond: document.getElementById('f-events').textContent };
  },
  texts(selector) {
    return [...document.querySelectorAll(selector)].map((el) => el.textContent);
  },
  status() {
    const el = document.getElementById('status');
    return { state: el.dataset.state, text: el.textContent };
  },
};
document.addEventListener('DOMContentLoaded', () => {
  const el = document.getElementById('f-events');
  new MutationObserver(() => __probe.eventsShown.push(el.textContent)).observe(el, { childList: true, characterData: true, subtree: true });
});
`;

export interface ListedDecision {
  sampleId: string;
  label: number;
  steps: number;
  confident: boolean;
  early: boolean;
  trueLabel: number | null;
  list: 'answers' | 'uncertain';
  mark: string;
}

export interface EventImageState {
  width: number;
  cssWidth: number;
  rendering: string;
  lit: number;
  hash: number;
}

export interface ChartState {
  /** The running sample and its c_t points. */
  sampleId: string;
  points: number;
  /** The last decided sample, its c_t points and the step it stopped at ('' before any decision). */
  decidedSampleId: string;
  decidedPoints: number;
  stopStep: string;
  canvases: number;
}

export interface Snapshot {
  image: EventImageState;
  chart: ChartState;
  listed: number;
  /** The header's events/s ('–' before two figures readings). */
  eventsPerSecond: string;
}

export async function installProbes(page: Page): Promise<void> {
  await page.evaluateOnNewDocument(SOURCE);
}

function call<T>(page: Page, name: string, ...args: unknown[]): Promise<T> {
  return page.evaluate(`__probe.${name}(${args.map((a) => JSON.stringify(a)).join(', ')})`) as Promise<T>;
}

export const probe = {
  listed: (page: Page, streamId: string) => call<ListedDecision[]>(page, 'listed', streamId),
  eventImage: (page: Page, streamId: string) => call<EventImageState>(page, 'eventImage', streamId),
  chart: (page: Page, streamId: string) => call<ChartState>(page, 'chart', streamId),
  snapshot: (page: Page, streamId: string) => call<Snapshot>(page, 'snapshot', streamId),
  record: (page: Page, streamId: string, everyMs: number) => call<void>(page, 'record', streamId, everyMs),
  stopRecording: (page: Page) => call<{ image: EventImageState; chart: ChartState }[]>(page, 'stopRecording'),
  texts: (page: Page, selector: string) => call<string[]>(page, 'texts', selector),
  text: async (page: Page, selector: string) => (await call<string[]>(page, 'texts', selector))[0] ?? '',
  eventsPerSecondShown: (page: Page) => page.evaluate('__probe.eventsShown') as Promise<string[]>,
  status: (page: Page) => call<{ state: string; text: string }>(page, 'status'),
};
