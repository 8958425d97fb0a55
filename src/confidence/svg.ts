/** SVG building blocks for the report's figures: scales, axes, lines, bands, legends (strings, no DOM). */

/** Canvas size and the margins around the plot area. */
export interface Layout {
  readonly w: number;
  readonly h: number;
  readonly m: { readonly left: number; readonly right: number; readonly top: number; readonly bottom: number };
}

export const DEFAULT_LAYOUT: Layout = { w: 640, h: 400, m: { left: 64, right: 64, top: 40, bottom: 56 } };
/** A wider canvas whose right margin holds the legend, for figures with many series. */
export const WIDE_LAYOUT: Layout = { w: 940, h: 420, m: { left: 64, right: 320, top: 40, bottom: 56 } };
export const W = DEFAULT_LAYOUT.w;
export const H = DEFAULT_LAYOUT.h;
export const M = DEFAULT_LAYOUT.m;
export const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b'];

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

export function f(x: number): string {
  return Number.isFinite(x) ? (Math.round(x * 100) / 100).toString() : '0';
}

/** "Nice" tick values covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, target = 6): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [];
  if (hi <= lo) return [lo];
  const raw = (hi - lo) / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  const step = (norm >= 5 ? 10 : norm >= 2 ? 5 : norm >= 1 ? 2 : 1) * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return out;
}

export function tickLabel(v: number): string {
  const s = Math.abs(v) >= 1000 || Number.isInteger(v) ? v.toFixed(0) : v.toPrecision(3);
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
}

export interface Scale {
  (v: number): number;
  lo: number;
  hi: number;
}
export function scale(lo: number, hi: number, a: number, b: number): Scale {
  const span = hi - lo || 1;
  const s = ((v: number) => a + ((v - lo) / span) * (b - a)) as Scale;
  s.lo = lo;
  s.hi = hi;
  return s;
}

export function extent(values: Iterable<number>, pad = 0): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (lo === Infinity) return [0, 1];
  if (lo === hi) return [lo - 0.5, hi + 0.5];
  const p = (hi - lo) * pad;
  return [lo - p, hi + p];
}

export function open(title: string, layout: Layout = DEFAULT_LAYOUT): string[] {
  const { w, h } = layout;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="sans-serif" font-size="12">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect x="0" y="0" width="${w}" height="${h}" fill="#ffffff"/>`,
    `<text x="${w / 2}" y="22" text-anchor="middle" font-size="14" font-weight="bold">${escapeXml(title)}</text>`,
  ];
}

export function axes(
  parts: string[],
  x: Scale,
  y: Scale,
  xLabel: string,
  yLabel: string,
  opts: { y2?: Scale; y2Label?: string; xTicks?: number[]; layout?: Layout } = {},
): void {
  const { w: W, h: H, m: M } = opts.layout ?? DEFAULT_LAYOUT;
  const x0 = M.left;
  const x1 = W - M.right;
  const y0 = H - M.bottom;
  const y1 = M.top;
  parts.push('<g class="axes" stroke="#333" fill="none">');
  parts.push(`<line x1="${x0}" y1="${y0}" x2="${x1}" y2="${y0}"/>`);
  parts.push(`<line x1="${x0}" y1="${y0}" x2="${x0}" y2="${y1}"/>`);
  if (opts.y2) parts.push(`<line x1="${x1}" y1="${y0}" x2="${x1}" y2="${y1}"/>`);
  parts.push('</g>');
  parts.push('<g class="ticks" fill="#333">');
  for (const v of opts.xTicks ?? niceTicks(x.lo, x.hi)) {
    const px = x(v);
    parts.push(`<line x1="${f(px)}" y1="${y0}" x2="${f(px)}" y2="${y0 + 5}" stroke="#333"/>`);
    parts.push(`<text x="${f(px)}" y="${y0 + 18}" text-anchor="middle">${escapeXml(tickLabel(v))}</text>`);
  }
  for (const v of niceTicks(y.lo, y.hi)) {
    const py = y(v);
    parts.push(`<line x1="${x0}" y1="${f(py)}" x2="${x1}" y2="${f(py)}" stroke="#eee"/>`);
    parts.push(`<line x1="${x0 - 5}" y1="${f(py)}" x2="${x0}" y2="${f(py)}" stroke="#333"/>`);
    parts.push(`<text x="${x0 - 8}" y="${f(py + 4)}" text-anchor="end">${escapeXml(tickLabel(v))}</text>`);
  }
  if (opts.y2) {
    for (const v of niceTicks(opts.y2.lo, opts.y2.hi)) {
      const py = opts.y2(v);
      parts.push(`<line x1="${x1}" y1="${f(py)}" x2="${x1 + 5}" y2="${f(py)}" stroke="#333"/>`);
      parts.push(`<text x="${x1 + 8}" y="${f(py + 4)}" text-anchor="start">${escapeXml(tickLabel(v))}</text>`);
    }
  }
  parts.push('</g>');
  parts.push(`<text x="${(x0 + x1) / 2}" y="${H - 14}" text-anchor="middle">${escapeXml(xLabel)}</text>`);
  parts.push(
    `<text x="16" y="${(y0 + y1) / 2}" text-anchor="middle" transform="rotate(-90 16 ${(y0 + y1) / 2})">${escapeXml(yLabel)}</text>`,
  );
  if (opts.y2 && opts.y2Label) {
    parts.push(
      `<text x="${W - 14}" y="${(y0 + y1) / 2}" text-anchor="middle" transform="rotate(90 ${W - 14} ${(y0 + y1) / 2})">${escapeXml(opts.y2Label)}</text>`,
    );
  }
}

/** A line through the finite points; `dash` true for a dashed line or an explicit dash pattern. */
export function polyline(xs: readonly number[], ys: readonly number[], x: Scale, y: Scale, color: string, dash: boolean | string = false, cls = 'series'): string {
  const pts: string[] = [];
  for (let i = 0; i < xs.length; i++) if (Number.isFinite(xs[i]) && Number.isFinite(ys[i])) pts.push(`${f(x(xs[i]))},${f(y(ys[i]))}`);
  const d = dash === true ? '6 4' : dash || '';
  return `<polyline class="${cls}" fill="none" stroke="${color}" stroke-width="2"${d ? ` stroke-dasharray="${d}"` : ''} points="${pts.join(' ')}"/>`;
}

/** A shaded band between lo and hi over xs (an interval around a curve). */
export function band(xs: readonly number[], lo: readonly number[], hi: readonly number[], x: Scale, y: Scale, color: string, cls = 'band'): string {
  const top: string[] = [];
  const bottom: string[] = [];
  for (let i = 0; i < xs.length; i++) {
    if (!Number.isFinite(xs[i]) || !Number.isFinite(lo[i]) || !Number.isFinite(hi[i])) continue;
    top.push(`${f(x(xs[i]))},${f(y(hi[i]))}`);
    bottom.unshift(`${f(x(xs[i]))},${f(y(lo[i]))}`);
  }
  return `<polygon class="${cls}" fill="${color}" fill-opacity="0.18" stroke="none" points="${[...top, ...bottom].join(' ')}"/>`;
}

export type MarkerShape = 'circle' | 'square' | 'triangle' | 'diamond' | 'ring';

/** One marker centred at (px, py) in pixels; an optional tooltip. */
export function marker(shape: MarkerShape, px: number, py: number, color: string, r = 4, tooltip?: string, cls = 'marker'): string {
  const t = tooltip ? `<title>${escapeXml(tooltip)}</title>` : '';
  const close = (tag: string) => (t ? `>${t}</${tag}>` : '/>');
  switch (shape) {
    case 'circle':
      return `<circle class="${cls}" cx="${f(px)}" cy="${f(py)}" r="${r}" fill="${color}"${close('circle')}`;
    case 'ring':
      return `<circle class="${cls}" cx="${f(px)}" cy="${f(py)}" r="${r + 3}" fill="none" stroke="${color}" stroke-width="2"${close('circle')}`;
    case 'square':
      return `<rect class="${cls}" x="${f(px - r)}" y="${f(py - r)}" width="${f(2 * r)}" height="${f(2 * r)}" fill="none" stroke="${color}" stroke-width="1.5"${close('rect')}`;
    case 'triangle':
      return `<path class="${cls}" d="M ${f(px)} ${f(py - r - 2)} l ${f(r + 2)} ${f(2 * r + 3)} l ${f(-2 * r - 4)} 0 z" fill="${color}"${close('path')}`;
    case 'diamond':
      return `<path class="${cls}" d="M ${f(px)} ${f(py - r - 2)} l ${f(r + 2)} ${f(r + 2)} l ${f(-r - 2)} ${f(r + 2)} l ${f(-r - 2)} ${f(-r - 2)} z" fill="${color}"${close('path')}`;
  }
}

export interface LegendItem {
  readonly label: string;
  readonly color: string;
  readonly dash?: boolean | string;
  readonly marker?: boolean | MarkerShape;
  readonly band?: boolean;
}

/** A legend box: one row per item (line, band or marker, then the label). */
export function legend(parts: string[], items: readonly LegendItem[], x = M.left + 12, y = M.top + 8): void {
  parts.push('<g class="legend">');
  const widest = Math.max(0, ...items.map((it) => it.label.length));
  parts.push(`<rect x="${x - 6}" y="${y - 11}" width="${f(44 + widest * 6.2)}" height="${items.length * 18 + 4}" fill="#ffffff" fill-opacity="0.85" stroke="#ddd"/>`);
  items.forEach((it, i) => {
    const yy = y + i * 18;
    if (it.band) parts.push(`<rect x="${x}" y="${yy - 6}" width="24" height="12" fill="${it.color}" fill-opacity="0.18"/>`);
    else if (it.marker) parts.push(marker(it.marker === true ? 'circle' : it.marker, x + 12, yy, it.color));
    else {
      const d = it.dash === true ? '6 4' : it.dash || '';
      parts.push(`<line x1="${x}" y1="${yy}" x2="${x + 24}" y2="${yy}" stroke="${it.color}" stroke-width="2"${d ? ` stroke-dasharray="${d}"` : ''}/>`);
    }
    parts.push(`<text x="${x + 30}" y="${yy + 4}">${escapeXml(it.label)}</text>`);
  });
  parts.push('</g>');
}
