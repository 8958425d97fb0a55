/**
 * Start the live service with the bundled model and print its URL and every decision; Ctrl-C
 * (SIGINT) or SIGTERM stops it gracefully (ingest closes, queued events finish, pending
 * decisions are delivered).
 *
 *   node dist/examples/run-server.js [--port 8080] [--host 127.0.0.1] [--token T] [--slots 32]
 *                                    [--max-streams 64] [--traces] [--exit-after N]
 *
 * `--port 0` picks a free port. The first line printed is `listening <url>`; sensors then
 * stream to `ws://…/ingest/<id>` (see sensor.ts) and subscribers connect to `ws://…/decisions`
 * (see subscribe.ts). `--exit-after N` stops after N decisions (scripts, tests). The last line
 * is `stopped: …` with the totals.
 */
import { parseArgs } from 'util';
import { loadClassifierModel, startService } from 'spikestream';
import { BUNDLED_MODEL, wsBase } from './bundled';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '8080' },
      host: { type: 'string', default: '127.0.0.1' },
      token: { type: 'string' },
      slots: { type: 'string', default: '32' },
      'max-streams': { type: 'string', default: '64' },
      traces: { type: 'boolean' },
      model: { type: 'string' },
      'exit-after': { type: 'string' },
    },
  });
  const model = loadClassifierModel(values.model ?? BUNDLED_MODEL);
  const service = await startService({
    model,
    host: values.host,
    port: Number(values.port),
    token: values.token ?? process.env.SPIKESTREAM_TOKEN,
    slots: Number(values.slots),
    maxIngestStreams: Number(values['max-streams']),
    traces: values.traces,
    onStreamError: (id, err) => console.error(`stream ${id}: ${err instanceof Error ? err.message : String(err)}`),
  });
  const { url } = service.address;
  console.log(`listening ${url}`);
  console.log(`  sensors:     ${wsBase(url)}/ingest/<streamId>`);
  console.log(`  subscribers: ${wsBase(url)}/decisions[?stream=<id>&trace=1]`);
  console.log(`  metrics:     ${url}/metrics`);

  let stopping: Promise<void> | undefined;
  const stop = (why: string): Promise<void> =>
    (stopping ??= (async () => {
      console.log(`${why}: stopping`);
      await service.stop(3000);
      const s = service.stats;
      console.log(`stopped: ${s.decisions} decisions (${s.early} early), ${s.stepsRun} steps run, ${s.stepsSaved} saved`);
    })());

  const exitAfter = values['exit-after'] !== undefined ? Number(values['exit-after']) : Infinity;
  let n = 0;
  service.decisions.subscribe((d) => {
    console.log(`${d.streamId.padEnd(10)} ${d.sampleId.padEnd(14)} ${d.className.padEnd(28)} conf ${d.confidence.toFixed(3)}  step ${d.steps}/${d.maxSteps}${d.early ? ' early' : ''}`);
    if (++n >= exitAfter) void stop(`${n} decisions`);
  });
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
