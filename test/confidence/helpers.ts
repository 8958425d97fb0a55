/** Seeded PRNG (mulberry32, from src/prng) and small generators shared by the confidence tests. */
export { mulberry32 } from '../../src/prng';

/** Standard normal by Box–Muller. */
export function gaussian(rand: () => number): number {
  const u = Math.max(rand(), 1e-12);
  const v = rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Index drawn from a categorical distribution. */
export function sampleCategorical(probs: ArrayLike<number>, rand: () => number): number {
  let r = rand();
  for (let k = 0; k < probs.length; k++) {
    r -= probs[k];
    if (r < 0) return k;
  }
  return probs.length - 1;
}

/** Very small XML well-formedness check: balanced, properly nested tags; returns element names seen. */
export function checkXml(s: string): { ok: boolean; error?: string; elements: Map<string, number> } {
  const elements = new Map<string, number>();
  const stack: string[] = [];
  const re = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|<([^>]*)>/g;
  let m: RegExpExecArray | null;
  let last = 0;
  while ((m = re.exec(s)) !== null) {
    const between = s.slice(last, m.index);
    if (/[<>]/.test(between)) return { ok: false, error: `stray angle bracket before ${m.index}`, elements };
    if (/&(?!(amp|lt|gt|quot|apos|#\d+);)/.test(between)) return { ok: false, error: `bad entity near ${m.index}`, elements };
    last = re.lastIndex;
    if (m[5] !== undefined) return { ok: false, error: `malformed tag <${m[5]}>`, elements };
    const [, close, name, , selfClose] = m;
    if (close) {
      const top = stack.pop();
      if (top !== name) return { ok: false, error: `</${name}> closes <${top}>`, elements };
    } else {
      elements.set(name, (elements.get(name) ?? 0) + 1);
      if (!selfClose) stack.push(name);
    }
  }
  if (/[<>]/.test(s.slice(last))) return { ok: false, error: 'stray angle bracket at end', elements };
  if (stack.length > 0) return { ok: false, error: `unclosed <${stack.join('>, <')}>`, elements };
  return { ok: true, elements };
}
