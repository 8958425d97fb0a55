/**
 * prom-client counters and gauges that can also be read synchronously.
 *
 * prom-client renders the exposition (`registry.metrics()`); its own read API is asynchronous
 * (collect callbacks), but the service, its tests and in-process users ask "how many so far?"
 * in the middle of synchronous code. Each handle keeps the value of every label set it has
 * written next to prom-client's, updated only after prom-client accepted the write (so an
 * invalid label set throws and changes neither).
 */
import { Counter, Gauge, type Registry } from 'prom-client';

/** Every label of a metric, with its value. */
export type LabelSet<L extends string> = Readonly<Record<L, string | number>>;

abstract class ReadableMetric<L extends string> {
  private readonly values = new Map<string, number>();

  constructor(
    readonly name: string,
    protected readonly labelNames: readonly L[],
  ) {}

  /** The current value of one label set (0 if never written). */
  get(labels?: LabelSet<L>): number {
    return this.values.get(this.key(labels)) ?? 0;
  }

  protected add(labels: LabelSet<L> | undefined, by: number): void {
    const k = this.key(labels);
    this.values.set(k, (this.values.get(k) ?? 0) + by);
  }

  protected put(labels: LabelSet<L> | undefined, value: number): void {
    this.values.set(this.key(labels), value);
  }

  /** Throws RangeError unless `labels` gives exactly the metric's label names (prom-client accepts a subset). */
  protected check(labels: LabelSet<L> | undefined): void {
    const given = labels === undefined ? [] : Object.keys(labels);
    const names: readonly string[] = this.labelNames;
    if (given.length !== names.length || given.some((k) => !names.includes(k))) {
      throw new RangeError(`${this.name} takes labels {${names.join(', ')}}, got {${given.join(', ')}}`);
    }
  }

  private key(labels: LabelSet<L> | undefined): string {
    if (labels === undefined) return '';
    return this.labelNames.map((n) => String(labels[n])).join('\u0001');
  }
}

export class ReadableCounter<L extends string = never> extends ReadableMetric<L> {
  private readonly counter: Counter<L>;

  constructor(registry: Registry, name: string, help: string, labelNames: readonly L[] = []) {
    super(name, labelNames);
    this.counter = new Counter<L>({ name, help, labelNames, registers: [registry] });
  }

  inc(by?: number): void;
  inc(labels: LabelSet<L>, by?: number): void;
  inc(labelsOrBy?: LabelSet<L> | number, by?: number): void {
    const labels = typeof labelsOrBy === 'object' ? labelsOrBy : undefined;
    this.check(labels);
    if (labels !== undefined) {
      const amount = by ?? 1;
      this.counter.inc(labels, amount);
      this.add(labels, amount);
    } else {
      const amount = typeof labelsOrBy === 'number' ? labelsOrBy : 1;
      this.counter.inc(amount);
      this.add(undefined, amount);
    }
  }
}

/** A gauge without labels (the service's gauges have none). */
export class ReadableGauge extends ReadableMetric<never> {
  private readonly gauge: Gauge;

  constructor(registry: Registry, name: string, help: string) {
    super(name, []);
    this.gauge = new Gauge({ name, help, registers: [registry] });
  }

  set(value: number): void {
    this.gauge.set(value);
    this.put(undefined, value);
  }

  inc(by = 1): void {
    this.gauge.inc(by);
    this.add(undefined, by);
  }

  dec(by = 1): void {
    this.gauge.dec(by);
    this.add(undefined, -by);
  }
}
