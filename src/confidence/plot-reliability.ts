/**
 * The reliability diagram of a shown confidence: per bin, the accuracy of the pairs (with its Wilson
 * 95 % interval) against their mean confidence, the diagonal of perfect calibration, and each bin's
 * share of the pairs as a bar along the bottom (up to a fifth of the height). Several confidences share one plot (e.g. the
 * calibrated probability and the paper's c_t); each series' legend gives its ECE with its interval.
 */
import type { ReliabilityDiagram } from './reliability';
import type { Interval } from './stats';
import { wilson } from './stats';
import { axes, COLORS, escapeXml, f, H, legend, M, marker, open, polyline, scale, W, type LegendItem } from './svg';

export interface ReliabilitySeries {
  readonly label: string;
  readonly diagram: ReliabilityDiagram;
  /** ECE with its bootstrap interval (shown in the legend). */
  readonly ece?: Interval;
}

/** One SVG; series drawn in COLORS order, their bins' shares as thin bars. */
export function plotReliability(series: readonly ReliabilitySeries[], title: string): string {
  const parts = open(title);
  const x = scale(0, 1, M.left, W - M.right);
  const y = scale(0, 1, H - M.bottom, M.top);
  axes(parts, x, y, 'shown confidence (bin mean)', 'accuracy in the bin');
  parts.push(polyline([0, 1], [0, 1], x, y, '#999', '3 3', 'diagonal'));
  const items: LegendItem[] = [{ label: 'perfectly calibrated', color: '#999', dash: '3 3' }];
  series.forEach((s, k) => {
    const color = COLORS[k % COLORS.length];
    const d = s.diagram;
    const bins = d.count.length;
    for (let b = 0; b < bins; b++) {
      const count = d.count[b];
      const c = d.confidence[b];
      const a = d.accuracy[b];
      // The bin's share of the pairs, as a bar of up to a fifth of the plot's height.
      const share = d.n > 0 ? count / d.n : 0;
      const bw = (x(1) - x(0)) / bins / (series.length + 1);
      const bx = x(b / bins) + bw * (k + 0.5);
      parts.push(`<rect class="share" x="${f(bx)}" y="${f(y(0.2 * share))}" width="${f(bw)}" height="${f(y(0) - y(0.2 * share))}" fill="${color}" fill-opacity="0.25"><title>${escapeXml(`${s.label}: ${count} of ${d.n} in (${(b / bins).toFixed(1)}, ${((b + 1) / bins).toFixed(1)}]`)}</title></rect>`);
      if (c === null || a === null || count === 0) continue;
      const w = wilson(Math.round(a * count), count);
      parts.push(`<line class="interval" x1="${f(x(c))}" y1="${f(y(w.lo))}" x2="${f(x(c))}" y2="${f(y(w.hi))}" stroke="${color}" stroke-width="1.5"/>`);
      parts.push(marker('circle', x(c), y(a), color, 3.5, `${s.label}: ${count} pairs, confidence ${c.toFixed(3)}, accuracy ${a.toFixed(3)} [${w.lo.toFixed(3)}, ${w.hi.toFixed(3)}]`));
    }
    const ece = s.ece ? `ECE ${s.ece.value.toFixed(3)} [${s.ece.lo.toFixed(3)}, ${s.ece.hi.toFixed(3)}]` : `ECE ${d.ece.toFixed(3)}`;
    items.push({ label: `${s.label} (n = ${d.n}): ${ece}`, color, marker: true });
  });
  // Bottom right: the empty corner of a reliability diagram (low accuracy at high confidence).
  const widest = Math.max(...items.map((it) => it.label.length));
  legend(parts, items, W - M.right - 50 - widest * 6.2, H - M.bottom - 18 * items.length - 30);
  parts.push('</svg>');
  return parts.join('\n');
}
