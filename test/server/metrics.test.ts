import { expect } from 'chai';
import { Registry, register as globalRegistry } from 'prom-client';
import { ServiceMetrics, STEP_LATENCY_BUCKETS } from '../../src/server/metrics';
import { ReadableCounter, ReadableGauge } from '../../src/server/metric-handles';
import { TokenBucket } from '../../src/server/limits';
import { parseSubscriberFilter } from '../../src/server/subscribers';

describe('server/metrics (Prometheus text through prom-client)', () => {
  it('renders HELP/TYPE, labels with escaping, counters and gauges; reads them back synchronously', async () => {
    const r = new Registry();
    const c = new ReadableCounter(r, 'req_total', 'Requests.\nSecond line with \\ backslash', ['path']);
    const g = new ReadableGauge(r, 'temp', 'A gauge');
    c.inc({ path: 'a"b\\c\nd' });
    c.inc({ path: 'x' }, 2.5);
    g.set(-3);
    g.inc(1);
    expect(await r.metrics()).to.equal(
      [
        '# HELP req_total Requests.\\nSecond line with \\\\ backslash',
        '# TYPE req_total counter',
        'req_total{path="a\\"b\\\\c\\nd"} 1',
        'req_total{path="x"} 2.5',
        '',
        '# HELP temp A gauge',
        '# TYPE temp gauge',
        'temp -2',
        '',
      ].join('\n'),
    );
    expect(c.get({ path: 'x' })).to.equal(2.5);
    expect(c.get({ path: 'never' })).to.equal(0);
    expect(g.get()).to.equal(-2);
    expect(() => c.inc({ path: 'a' }, -1)).to.throw(/decrease/);
    expect(c.get({ path: 'a' })).to.equal(0);
    expect(() => c.inc()).to.throw(RangeError);
    expect(() => c.inc({ other: 'a' } as unknown as { path: string })).to.throw(RangeError);
    expect(() => new ReadableCounter(r, 'req_total', 'dup')).to.throw(/already been registered/);
    expect(() => new ReadableCounter(r, 'bad-name', 'x')).to.throw(/name/);
  });

  it('step latency histogram: cumulative buckets, +Inf, _sum and _count', async () => {
    const m = new ServiceMetrics();
    for (const v of [0.0004, 0.004, 0.004, 7]) m.stepLatency.observe(v);
    const lines = (await m.expose()).split('\n').filter((l) => l.startsWith('spikestream_step_latency_seconds'));
    expect(lines).to.include.members([
      'spikestream_step_latency_seconds_bucket{le="0.0005"} 1',
      'spikestream_step_latency_seconds_bucket{le="0.001"} 1',
      'spikestream_step_latency_seconds_bucket{le="0.005"} 3',
      'spikestream_step_latency_seconds_bucket{le="5"} 3',
      'spikestream_step_latency_seconds_bucket{le="+Inf"} 4',
      'spikestream_step_latency_seconds_sum 7.0084',
      'spikestream_step_latency_seconds_count 4',
    ]);
    expect(lines.length).to.equal(STEP_LATENCY_BUCKETS.length + 3);
  });

  it('ServiceMetrics counts decisions, early decisions and steps saved', async () => {
    const m = new ServiceMetrics();
    m.recordDecision({ steps: 3, maxSteps: 10, early: true });
    m.recordDecision({ steps: 10, maxSteps: 10, early: false });
    m.stepLatency.observe(0.004);
    m.dropped('rate_limit', 7);
    expect(m.decisions.get()).to.equal(2);
    expect(m.earlyDecisions.get()).to.equal(1);
    expect(m.stepsSaved.get()).to.equal(7);
    const text = await m.expose();
    expect(text).to.contain('spikestream_events_dropped_total{reason="rate_limit"} 7');
    expect(text).to.contain('spikestream_events_dropped_total{reason="queue_overflow"} 0');
    expect(text).to.contain('spikestream_step_latency_seconds_bucket{le="0.005"} 1');
  });

  it('an uncertain decision (confident: false) is counted apart, never as an answer, early or a saving', async () => {
    const m = new ServiceMetrics();
    m.recordDecision({ steps: 4, maxSteps: 16, early: true, confident: true });
    m.recordDecision({ steps: 6, maxSteps: 16, early: false, confident: false });
    m.recordDecision({ steps: 16, maxSteps: 16, early: false, confident: false });
    expect(m.decisions.get()).to.equal(1);
    expect(m.uncertainDecisions.get()).to.equal(2);
    expect(m.earlyDecisions.get()).to.equal(1);
    expect(m.stepsSaved.get()).to.equal(12);
    const text = await m.expose();
    expect(text).to.contain('spikestream_decisions_total 1');
    expect(text).to.contain('spikestream_decisions_uncertain_total 2');
  });

  it('wall-limited samples, pipeline errors, ingest ends and HTTP refusals have their counters', async () => {
    const m = new ServiceMetrics();
    m.wallLimited.inc();
    m.wallLimited.inc(2);
    m.pipelineErrors.inc();
    m.ingestEnded({ counter: 'closed', reason: 'pipeline_error' });
    m.ingestEnded({ counter: 'rejected', reason: 'geometry' });
    m.rejected('geometry');
    m.refused(400);
    m.refused(400);
    const text = await m.expose();
    for (const line of [
      '# TYPE spikestream_samples_wall_limited_total counter',
      'spikestream_samples_wall_limited_total 3',
      'spikestream_pipeline_errors_total 1',
      'spikestream_ingest_closed_total{reason="pipeline_error"} 1',
      'spikestream_ingest_closed_total{reason="shutdown"} 0',
      'spikestream_ingest_rejected_total{reason="geometry"} 2',
      'spikestream_ingest_rejected_total{reason="auth"} 0',
      'spikestream_http_refused_total{status="400"} 2',
    ]) {
      expect(text).to.contain(line);
    }
  });

  it('each ServiceMetrics has its own registry: two services in one process do not clash or share counts', async () => {
    const a = new ServiceMetrics();
    const b = new ServiceMetrics();
    a.eventsIn.inc(5);
    expect(b.eventsIn.get()).to.equal(0);
    expect(await b.expose()).to.contain('spikestream_events_in_total 0');
    expect(await a.expose()).to.contain('spikestream_events_in_total 5');
    expect(a.contentType).to.match(/^text\/plain; version=0\.0\.4/);
    expect(await globalRegistry.metrics()).to.not.contain('spikestream_');
  });
});

describe('server/limits and subscriber filters', () => {
  it('TokenBucket admits a burst, refills at the rate, refuses whole messages', () => {
    let now = 0;
    const b = new TokenBucket(1000, 500, () => now);
    expect(b.tryTake(400)).to.equal(true);
    expect(b.tryTake(200)).to.equal(false);
    expect(b.tryTake(100)).to.equal(true);
    now += 100; // +100 tokens
    expect(b.tryTake(101)).to.equal(false);
    expect(b.tryTake(100)).to.equal(true);
    now += 10000;
    expect(b.available).to.equal(500);
    expect(b.tryTake(501)).to.equal(false);
  });

  it('parses ?stream= and ?trace=', () => {
    expect(parseSubscriberFilter(new URLSearchParams(''))).to.deep.equal({ trace: false });
    expect(parseSubscriberFilter(new URLSearchParams('stream=cam0&trace=1'))).to.deep.equal({ stream: 'cam0', trace: true });
    expect(() => parseSubscriberFilter(new URLSearchParams('stream=a b'))).to.throw(RangeError);
    expect(() => parseSubscriberFilter(new URLSearchParams('trace=yes'))).to.throw(RangeError);
    expect(parseSubscriberFilter(new URLSearchParams('confident=1'))).to.deep.equal({ trace: false, confident: true });
    expect(() => parseSubscriberFilter(new URLSearchParams('confident=maybe'))).to.throw(RangeError, /confident/);
  });
});
