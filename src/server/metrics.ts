/**
 * A tiny Prometheus registry (text exposition format 0.0.4), no dependency: counters, gauges
 * and histograms, each with optional labels. `registry.expose()` renders
 *
 *   # HELP <name> <help, with \ and newline escaped>
 *   # TYPE <name> counter|gauge|histogram
 *   <name>{label="value",…} <number>
 *
 * Label values escape `\`, `"` and newline. Histograms render cumulative `_bucket{le="…"}`
 * lines (ending with `le="+Inf"`), then `_sum` and `_count`.
 */

const NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export type Labels = Readonly<Record<string, string | number>>;

export function escapeHelp(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

export function escapeLabelValue(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

abstract class Metric {
  abstract readonly type: 'counter' | 'gauge' | 'histogram';
  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
  ) {
    if (!NAME_RE.test(name)) throw new RangeError(`metric name '${name}' is not valid`);
    for (const l of labelNames) {
      if (!LABEL_RE.test(l) || l.startsWith('__')) throw new RangeError(`label name '${l}' of ${name} is not valid`);
    }
  }

  /** Canonical key and rendered `{…}` text of a label set (validated against labelNames). */
  protected key(labels: Labels | undefined): string {
    const names = this.labelNames;
    if (names.length === 0) {
      if (labels && Object.keys(labels).length > 0) throw new RangeError(`${this.name} has no labels`);
      return '';
    }
    if (!labels) throw new RangeError(`${this.name} needs labels ${names.join(', ')}`);
    const given = Object.keys(labels);
    if (given.length !== names.length || given.some((k) => !names.includes(k))) {
      throw new RangeError(`${this.name} takes labels {${names.join(', ')}}, got {${given.join(', ')}}`);
    }
    return names.map((n) => `${n}="${escapeLabelValue(String(labels[n]))}"`).join(',');
  }

  abstract render(): string[];

  expose(): string {
    return [`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} ${this.type}`, ...this.render()].join('\n');
  }
}

export class Counter extends Metric {
  readonly type = 'counter' as const;
  private readonly values = new Map<string, number>();

  constructor(name: string, help: string, labelNames: readonly string[] = []) {
    super(name, help, labelNames);
    if (labelNames.length === 0) this.values.set('', 0);
  }

  inc(labelsOrBy?: Labels | number, by?: number): void {
    const labels = typeof labelsOrBy === 'object' ? labelsOrBy : undefined;
    const amount = typeof labelsOrBy === 'number' ? labelsOrBy : (by ?? 1);
    if (!(amount >= 0)) throw new RangeError(`${this.name}: a counter only goes up (got ${amount})`);
    const k = this.key(labels);
    this.values.set(k, (this.values.get(k) ?? 0) + amount);
  }

  get(labels?: Labels): number {
    return this.values.get(this.key(labels)) ?? 0;
  }

  render(): string[] {
    return [...this.values].map(([k, v]) => `${this.name}${k ? `{${k}}` : ''} ${formatValue(v)}`);
  }
}

export class Gauge extends Metric {
  readonly type = 'gauge' as const;
  private readonly values = new Map<string, number>();

  constructor(name: string, help: string, labelNames: readonly string[] = []) {
    super(name, help, labelNames);
    if (labelNames.length === 0) this.values.set('', 0);
  }

  set(labelsOrValue: Labels | number, value?: number): void {
    const labels = typeof labelsOrValue === 'object' ? labelsOrValue : undefined;
    const v = typeof labelsOrValue === 'number' ? labelsOrValue : value!;
    this.values.set(this.key(labels), v);
  }

  inc(labelsOrBy?: Labels | number, by?: number): void {
    const labels = typeof labelsOrBy === 'object' ? labelsOrBy : undefined;
    const amount = typeof labelsOrBy === 'number' ? labelsOrBy : (by ?? 1);
    const k = this.key(labels);
    this.values.set(k, (this.values.get(k) ?? 0) + amount);
  }

  dec(labelsOrBy?: Labels | number, by?: number): void {
    if (typeof labelsOrBy === 'object') this.inc(labelsOrBy, -(by ?? 1));
    else this.inc(-(labelsOrBy ?? 1));
  }

  get(labels?: Labels): number {
    return this.values.get(this.key(labels)) ?? 0;
  }

  render(): string[] {
    return [...this.values].map(([k, v]) => `${this.name}${k ? `{${k}}` : ''} ${formatValue(v)}`);
  }
}

interface HistogramSeries {
  counts: number[];
  sum: number;
  count: number;
}

export class Histogram extends Metric {
  readonly type = 'histogram' as const;
  readonly buckets: readonly number[];
  private readonly series = new Map<string, HistogramSeries>();

  constructor(name: string, help: string, buckets: readonly number[], labelNames: readonly string[] = []) {
    super(name, help, labelNames);
    if (labelNames.includes('le')) throw new RangeError(`${name}: 'le' is reserved for histogram buckets`);
    const b = buckets.filter((x) => x !== Infinity);
    if (b.length === 0 || b.some((x, i) => !Number.isFinite(x) || (i > 0 && x <= b[i - 1]))) {
      throw new RangeError(`${name}: buckets must be finite and strictly increasing`);
    }
    this.buckets = b;
    if (labelNames.length === 0) this.series.set('', this.fresh());
  }

  private fresh(): HistogramSeries {
    return { counts: new Array(this.buckets.length).fill(0), sum: 0, count: 0 };
  }

  observe(labelsOrValue: Labels | number, value?: number): void {
    const labels = typeof labelsOrValue === 'object' ? labelsOrValue : undefined;
    const v = typeof labelsOrValue === 'number' ? labelsOrValue : value!;
    const k = this.key(labels);
    let s = this.series.get(k);
    if (!s) this.series.set(k, (s = this.fresh()));
    const b = this.buckets;
    for (let i = 0; i < b.length; i++) {
      if (v <= b[i]) {
        s.counts[i]++;
        break;
      }
    }
    s.sum += v;
    s.count++;
  }

  get(labels?: Labels): { count: number; sum: number; buckets: { le: number; count: number }[] } | undefined {
    const s = this.series.get(this.key(labels));
    if (!s) return undefined;
    let acc = 0;
    return { count: s.count, sum: s.sum, buckets: this.buckets.map((le, i) => ({ le, count: (acc += s.counts[i]) })) };
  }

  render(): string[] {
    const lines: string[] = [];
    for (const [k, s] of this.series) {
      const pre = k ? `${k},` : '';
      let acc = 0;
      for (let i = 0; i < this.buckets.length; i++) {
        acc += s.counts[i];
        lines.push(`${this.name}_bucket{${pre}le="${formatValue(this.buckets[i])}"} ${acc}`);
      }
      lines.push(`${this.name}_bucket{${pre}le="+Inf"} ${s.count}`);
      const lab = k ? `{${k}}` : '';
      lines.push(`${this.name}_sum${lab} ${formatValue(s.sum)}`);
      lines.push(`${this.name}_count${lab} ${s.count}`);
    }
    return lines;
  }
}

export class Registry {
  private readonly metrics = new Map<string, Metric>();

  register<M extends Metric>(m: M): M {
    if (this.metrics.has(m.name)) throw new RangeError(`metric ${m.name} is already registered`);
    this.metrics.set(m.name, m);
    return m;
  }

  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return this.register(new Counter(name, help, labelNames));
  }

  gauge(name: string, help: string, labelNames: readonly string[] = []): Gauge {
    return this.register(new Gauge(name, help, labelNames));
  }

  histogram(name: string, help: string, buckets: readonly number[], labelNames: readonly string[] = []): Histogram {
    return this.register(new Histogram(name, help, buckets, labelNames));
  }

  /** The whole registry in Prometheus text format (ends with a newline). */
  expose(): string {
    return [...this.metrics.values()].map((m) => m.expose()).join('\n') + '\n';
  }
}

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Step latency buckets (seconds): 0.5 ms … 5 s. */
export const STEP_LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export type DropReason = 'rate_limit' | 'queue_overflow' | 'discarded' | 'shutdown';

/** The service's metrics, predefined (names are the public contract; see the README table). */
export class ServiceMetrics {
  readonly registry = new Registry();
  readonly eventsIn = this.registry.counter('spikestream_events_in_total', 'DVS events accepted from ingest connections (after rate limiting).');
  readonly bytesIn = this.registry.counter('spikestream_ingest_bytes_total', 'Bytes of ingest messages received.');
  readonly eventsDropped = this.registry.counter('spikestream_events_dropped_total', 'DVS events dropped before the pipeline, by reason (rate_limit, queue_overflow, discarded: unconsumed when the consumer unsubscribed, shutdown: unconsumed at shutdown).', ['reason']);
  readonly ingestRejected = this.registry.counter(
    'spikestream_ingest_rejected_total',
    'Ingest connections refused or closed by the server, by reason (auth, busy, conflict, bad_request, malformed, too_big, rate_limit, policy).',
    ['reason'],
  );
  readonly activeStreams = this.registry.gauge('spikestream_active_streams', 'Open ingest (sensor) connections.');
  readonly activeSlots = this.registry.gauge('spikestream_active_slots', 'SNN batch slots in use (live samples).');
  readonly decisions = this.registry.counter('spikestream_decisions_total', 'Decisions published.');
  readonly earlyDecisions = this.registry.counter('spikestream_early_decisions_total', 'Decisions taken before maxSteps (confidence crossed the threshold).');
  readonly stepsSaved = this.registry.counter('spikestream_steps_saved_total', 'SNN steps not run thanks to early decisions (sum of maxSteps - steps).');
  readonly stepLatency = this.registry.histogram('spikestream_step_latency_seconds', 'Wall time of one batched SNN step.', STEP_LATENCY_BUCKETS);
  readonly subscribers = this.registry.gauge('spikestream_subscribers', 'Connected decision subscribers.');
  readonly subscriberDrops = this.registry.counter('spikestream_subscriber_drops_total', 'Messages not sent to a subscriber because its backlog was over the limit.');

  constructor() {
    for (const reason of ['rate_limit', 'queue_overflow', 'discarded', 'shutdown'] as const) this.eventsDropped.inc({ reason }, 0);
  }

  /** Counts a published decision (total, early, steps saved). */
  recordDecision(d: { steps: number; maxSteps: number; early: boolean }): void {
    this.decisions.inc();
    if (d.early) this.earlyDecisions.inc();
    if (d.maxSteps > d.steps) this.stepsSaved.inc(d.maxSteps - d.steps);
  }

  dropped(reason: DropReason, events: number): void {
    if (events > 0) this.eventsDropped.inc({ reason }, events);
  }

  expose(): string {
    return this.registry.expose();
  }
}
