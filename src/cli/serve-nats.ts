/**
 * `spikestream serve --nats URL`: the gateway (src/broker/gateway.ts) instead of the embedded
 * service. Sensors and subscribers see the same endpoints; classification runs in
 * `spikestream worker` processes that share the same NATS server.
 */
import { startGateway } from '../broker/gateway';
import { planStreamFit } from '../../streams/operators/classify-stream';
import type { ClassifierModel } from '../snn/model/classifier-model';
import type { Decision } from '../../streams/types';
import { formatDecision } from './decisions';
import type { FitCliOptions } from './fit-options';
import { printJson } from './output';
import { stopOnSignal } from './signals';

export interface GatewayCliOptions extends FitCliOptions {
  nats: string;
  host: string;
  port: number;
  maxStreams: number;
  rateLimit?: number;
  /** Seconds / bytes of event messages JetStream keeps. */
  retentionAge?: number;
  retentionBytes?: number;
  /** Longest an ingest message waits to be stored with others as one JetStream message (ms). */
  batchMs?: number;
  quiet?: boolean;
  json?: boolean;
}

/** Runs the gateway until SIGINT/SIGTERM (then stores what sensors sent, bounded, and stops). */
export async function serveGateway(o: GatewayCliOptions, model: ClassifierModel, token: string | undefined, log: (line: string) => void): Promise<void> {
  const fit = { fit: o.fit, roi: o.roi };
  const gateway = await startGateway({
    url: o.nats,
    host: o.host,
    port: o.port,
    token,
    maxIngestStreams: o.maxStreams,
    maxEventsPerSecond: o.rateLimit,
    // The workers classify; the gateway refuses at connect what they could not.
    acceptGeometry: (g) => {
      const r = planStreamFit(model, g, fit);
      return 'refusal' in r ? r.refusal : undefined;
    },
    batchMs: o.batchMs,
    retention: { maxAgeMs: o.retentionAge !== undefined ? o.retentionAge * 1000 : undefined, maxBytes: o.retentionBytes },
    log,
  });
  const { url } = gateway.address;
  if (o.json) printJson({ type: 'listening', url, nats: o.nats, gateway: gateway.id, model: model.dir });
  else log(`gateway ${gateway.id} on ${url} (ingest: ${url.replace(/^http/, 'ws')}/ingest/<streamId>, decisions: ${url.replace(/^http/, 'ws')}/decisions), events to NATS ${o.nats}`);
  if (!o.quiet) gateway.decisions.subscribe((d: Decision) => (o.json ? printJson({ type: 'decision', ...d }) : process.stdout.write(`${formatDecision(d, model.classes)}\n`)));
  await stopOnSignal((signal) => {
    log(`${signal}: stopping (storing what sensors sent, closing subscribers)`);
    return gateway.stop(3000);
  });
}
