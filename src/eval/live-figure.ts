/**
 * The live evaluation's figure: one lane per stream over sensor time, its label windows as bands
 * and every decision as a tick at the time it was given — right answer, wrong answer, answer
 * outside every window, uncertain — with a thin line back to its sample's start.
 */
import { escapeXml, f, niceTicks, tickLabel } from '../confidence/svg';
import { windowsAt, type LiveStreamResult } from './live-score';

export const LIVE_COLORS = { right: '#2ca02c', wrong: '#d62728', outside: '#ff7f0e', uncertain: '#9a9a9a', window: '#1f77b4' } as const;

/** How a decision is scored: an answer right or wrong inside a window, an answer outside every window, or uncertain. */
export function decisionKind(d: LiveStreamResult['decisions'][number], windows: LiveStreamResult['windows']): keyof typeof LIVE_COLORS {
  if (!d.confident) return 'uncertain';
  const ws = windowsAt(windows, d.eventTimeUs);
  if (ws.length === 0) return 'outside';
  return ws.some((w) => w.label === d.label) ? 'right' : 'wrong';
}

/** The timeline of (at most `maxStreams`) streams; `classes` names the windows' labels. */
export function plotLiveTimeline(streams: readonly LiveStreamResult[], classes: readonly string[], o: { title?: string; maxStreams?: number } = {}): string {
  const shown = streams.slice(0, o.maxStreams ?? 6);
  const lane = 58;
  const left = 150;
  const right = 24;
  const top = 64;
  const w = 1100;
  const h = top + shown.length * lane + 50;
  let tMax = 1;
  for (const s of shown) {
    for (const win of s.windows) tMax = Math.max(tMax, win.tEnd / 1e6);
    for (const d of s.decisions) tMax = Math.max(tMax, d.eventTimeUs / 1e6);
  }
  const x = (sec: number) => left + (sec / tMax) * (w - left - right);
  const title = o.title ?? 'Live decisions against the label windows';
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="sans-serif" font-size="11">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect x="0" y="0" width="${w}" height="${h}" fill="#ffffff"/>`,
    `<text x="${w / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${escapeXml(title)}</text>`,
  ];
  const legendItems: [keyof typeof LIVE_COLORS, string][] = [
    ['window', 'gesture window'],
    ['right', 'answer, right'],
    ['wrong', 'answer, wrong'],
    ['outside', 'answer outside every window'],
    ['uncertain', 'uncertain (not an answer)'],
  ];
  let lx = left;
  legendItems.forEach(([k, label]) => {
    parts.push(
      k === 'window'
        ? `<rect x="${lx}" y="32" width="18" height="10" fill="${LIVE_COLORS.window}" fill-opacity="0.15" stroke="${LIVE_COLORS.window}"/>`
        : `<line x1="${lx + 9}" y1="30" x2="${lx + 9}" y2="44" stroke="${LIVE_COLORS[k]}" stroke-width="2.5"/>`,
      `<text x="${lx + 24}" y="41">${escapeXml(label)}</text>`,
    );
    lx += 48 + label.length * 6.2;
  });
  shown.forEach((s, i) => {
    const y0 = top + i * lane;
    const mid = y0 + lane / 2;
    parts.push(`<text x="${left - 8}" y="${mid + 4}" text-anchor="end">${escapeXml(s.streamId)}</text>`);
    parts.push(`<line x1="${left}" y1="${mid + 14}" x2="${w - right}" y2="${mid + 14}" stroke="#ddd"/>`);
    for (const win of s.windows) {
      const name = win.label !== undefined ? (classes[win.label] ?? String(win.label)) : '';
      parts.push(
        `<rect x="${f(x(win.tStart / 1e6))}" y="${y0 + 6}" width="${f(x(win.tEnd / 1e6) - x(win.tStart / 1e6))}" height="${lane - 20}" fill="${LIVE_COLORS.window}" fill-opacity="0.12" stroke="${LIVE_COLORS.window}" stroke-opacity="0.5"><title>${escapeXml(name)}</title></rect>`,
        `<text x="${f(x(win.tStart / 1e6) + 2)}" y="${y0 + 16}" font-size="9" fill="#555">${escapeXml(name.slice(0, 14))}</text>`,
      );
    }
    for (const d of s.decisions) {
      const kind = decisionKind(d, s.windows);
      const px = x(d.eventTimeUs / 1e6);
      const tip = `${d.className} conf ${d.confidence.toFixed(3)} steps ${d.steps}/${d.maxSteps} at ${(d.eventTimeUs / 1e6).toFixed(2)} s (${kind})`;
      parts.push(
        `<line x1="${f(x(d.sampleStartUs / 1e6))}" y1="${mid + 14}" x2="${f(px)}" y2="${mid + 14}" stroke="${LIVE_COLORS[kind]}" stroke-opacity="0.5"/>`,
        `<line class="decision ${kind}" x1="${f(px)}" y1="${mid - 6}" x2="${f(px)}" y2="${mid + 18}" stroke="${LIVE_COLORS[kind]}" stroke-width="2"><title>${escapeXml(tip)}</title></line>`,
      );
    }
  });
  const yAxis = top + shown.length * lane + 4;
  for (const v of niceTicks(0, tMax, 12)) {
    parts.push(`<line x1="${f(x(v))}" y1="${yAxis}" x2="${f(x(v))}" y2="${yAxis + 5}" stroke="#333"/>`, `<text x="${f(x(v))}" y="${yAxis + 17}" text-anchor="middle">${escapeXml(tickLabel(v))}</text>`);
  }
  parts.push(`<text x="${(left + w - right) / 2}" y="${yAxis + 34}" text-anchor="middle">sensor time (s)</text>`, '</svg>');
  return parts.join('\n') + '\n';
}
