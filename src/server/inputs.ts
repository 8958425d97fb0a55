/**
 * The service's live inputs beside WebSocket ingest (`serve --input URL`, `start --input URL`):
 * each parsed input (input-url.ts) is opened (open-input.ts) and announced on `streams$` as an
 * `IngestStream` once its sensor size is known, so the service classifies it exactly as it does a
 * WebSocket sensor: the same fit/roi per stream (the URL's `?fit=&roi=`), decisions,
 * subscribers, viewer and metrics. A sensor size the model cannot take closes only that input,
 * with one line. What each input receives, drops (by reason), refuses and reconnects is in
 * `/metrics` (`spikestream_input_*{input="<id>"}`) and in the stream list of `/health`.
 */
import { Counter, type Registry } from 'prom-client';
import { ReplaySubject, type Observable } from 'rxjs';
import { LIVE_DROP_REASONS, type LiveInput } from '../../streams/sources/live-input';
import type { OverflowPolicy } from '../../streams/core/bounded-queue';
import type { InputSpec } from './input-url';
import { openInput, type OpenedInput } from './open-input';
import type { GeometryCheck, ServerOptions } from './options';
import type { IngestStream, StreamStatus } from './types';

/** What `ServiceOptions` takes for live inputs. */
export interface InputOptions {
  /** Live inputs pulled beside WebSocket ingest (`--input`; parse with `parseInputUrls`). */
  readonly inputs?: readonly InputSpec[];
  /** Where the inputs' one-line notices go (default stderr). */
  readonly onInputNotice?: (line: string) => void;
}

export interface ServiceInputsOptions {
  readonly registry: Registry;
  /** The service's size check (fit/roi against the model); a refusal closes the input. */
  readonly acceptGeometry?: GeometryCheck;
  /** Where the one-line notices go (stderr for the command line). */
  readonly log: (line: string) => void;
  readonly queueCapacityEvents?: number;
  readonly queueOverflow?: OverflowPolicy;
  readonly batchesPerTurn?: number;
}

/** `spikestream_input_*{input}`: read from the inputs' own counters whenever /metrics is scraped. */
function registerInputMetrics(registry: Registry, inputs: () => readonly OpenedInput[], refused: ReadonlySet<string>): void {
  const each = (help: string, name: string, value: (i: LiveInput) => number): void => {
    new Counter({
      name,
      help,
      labelNames: ['input'],
      registers: [registry],
      collect() {
        this.reset();
        for (const o of inputs()) this.inc({ input: o.spec.id }, value(o.input));
      },
    });
  };
  each('Events a live input (--input) decoded and offered to its stream.', 'spikestream_input_events_total', (i) => i.stats.events);
  each('Bytes a live input received.', 'spikestream_input_bytes_total', (i) => i.stats.bytes);
  each('Messages a live input refused whole: a datagram of the wrong size or format, a corrupt DV packet or header, bad bytes on a raw stream.', 'spikestream_input_bad_messages_total', (i) => i.stats.badMessages);
  each('Reconnections of a DV network input after its server went away.', 'spikestream_input_reconnects_total', (i) => i.stats.reconnects);
  new Counter({
    name: 'spikestream_input_dropped_total',
    help: `Events of a live input that did not reach its pipeline, by reason (${LIVE_DROP_REASONS.join(', ')}). UDP datagrams lost before they arrive cannot be seen.`,
    labelNames: ['input', 'reason'],
    registers: [registry],
    collect() {
      this.reset();
      for (const o of inputs()) for (const reason of LIVE_DROP_REASONS) this.inc({ input: o.spec.id, reason }, o.input.stats.dropped[reason]);
    },
  });
  new Counter({
    name: 'spikestream_input_refused_total',
    help: 'Live inputs closed because the model cannot take their sensor size (with the fit and roi given).',
    labelNames: ['input'],
    registers: [registry],
    collect() {
      this.reset();
      for (const o of inputs()) this.inc({ input: o.spec.id }, refused.has(o.spec.id) ? 1 : 0);
    },
  });
}

/** An input that could not start (e.g. its UDP port is in use): which, and why, in one line. */
export class InputStartError extends Error {
  override readonly name = 'InputStartError';
}

export class ServiceInputs {
  private readonly announced = new ReplaySubject<IngestStream>();
  /** One `IngestStream` per input, once its sensor size is known and accepted; completes on `close`. */
  readonly streams$: Observable<IngestStream> = this.announced.asObservable();
  private readonly refused = new Set<string>();

  private constructor(
    private readonly opened: readonly OpenedInput[],
    private readonly o: ServiceInputsOptions,
  ) {
    registerInputMetrics(o.registry, () => this.opened, this.refused);
    for (const input of opened) this.announceWhenReady(input);
  }

  /** The service's inputs (none: undefined), with its registry and size check. */
  static async start(o: InputOptions & Pick<ServerOptions, 'queueCapacityEvents' | 'queueOverflow' | 'batchesPerTurn'>, registry: Registry, acceptGeometry: GeometryCheck | undefined): Promise<ServiceInputs | undefined> {
    if (!o.inputs || o.inputs.length === 0) return undefined;
    const log = o.onInputNotice ?? ((line: string) => process.stderr.write(`${line}\n`));
    return ServiceInputs.open(o.inputs, { registry, acceptGeometry, log, queueCapacityEvents: o.queueCapacityEvents, queueOverflow: o.queueOverflow, batchesPerTurn: o.batchesPerTurn });
  }

  /** Opens every input; rejects (after closing them all) when one cannot start, e.g. a UDP port in use. */
  static async open(specs: readonly InputSpec[], o: ServiceInputsOptions): Promise<ServiceInputs> {
    const opened = specs.map((spec) =>
      openInput(spec, {
        capacityEvents: o.queueCapacityEvents,
        overflow: o.queueOverflow,
        batchesPerTurn: o.batchesPerTurn,
        onNotice: (line) => o.log(`input ${spec.id}: ${line}`),
      }),
    );
    try {
      await Promise.all(opened.map((i) => i.started.catch((err: Error) => Promise.reject(new InputStartError(`input ${i.spec.id} (${i.spec.text}) cannot start: ${err.message}`)))));
    } catch (err) {
      for (const i of opened) i.input.close();
      throw err;
    }
    return new ServiceInputs(opened, o);
  }

  /** The inputs as /health and the viewer list streams. */
  streams(): (StreamStatus & { input: string; firstEventUs: number | undefined })[] {
    return this.opened.map(({ spec, input }) => {
      const q = input.queue.stats;
      const d = input.stats.dropped;
      return {
        streamId: spec.id,
        geometry: input.geometry,
        messages: input.stats.messages,
        bytes: input.stats.bytes,
        queuedEvents: q.sizeEvents,
        enqueuedEvents: q.enqueuedEvents,
        droppedEvents: d.queue_overflow + d.discarded + d.bad_input + d.out_of_bounds + d.time_backwards,
        rateLimitedEvents: 0,
        input: spec.text,
        firstEventUs: input.stats.firstEventUs,
      };
    });
  }

  /** Stops every input (their queued events still drain into their pipelines) and completes `streams$`. */
  close(): void {
    for (const { input } of this.opened) input.close();
    this.announced.complete();
  }

  private announceWhenReady({ spec, input }: OpenedInput): void {
    void input.geometryReady.then((g) => {
      if (g === undefined || input.closed) return;
      const refusal = this.o.acceptGeometry?.(g, spec.id, spec.params);
      if (refusal !== undefined) {
        this.refused.add(spec.id);
        this.o.log(`input ${spec.id}: refused: ${refusal}`);
        input.close();
        return;
      }
      this.announced.next({
        streamId: spec.id,
        geometry: g,
        events: input.events,
        source: input.source,
        params: spec.params,
        remoteAddress: undefined,
        close: (code = 1000, reason = '') => {
          if (code !== 1000 && code !== 1001) this.o.log(`input ${spec.id}: closed (${code} ${reason})`);
          input.close();
        },
      });
    });
  }
}
