import { expect } from 'chai';
import { Registry, ServiceMetrics, escapeLabelValue } from '../../src/server/metrics';
import { TokenBucket } from '../../src/server/limits';
import { parseSubscriberFilter } from '../../src/server/subscribers';

describe('server/metrics (Prometheus text)', () => {
  it('renders HELP/TYPE, labels with escaping, counters and gauges', () => {
    const r = new Registry();
    const c = r.counter('req_total', 'Requests.\nSecond line with \\ backslash', ['path']);
    const g = r.gauge('temp', 'A gauge');
    c.inc({ path: 'a"b\\c\nd' });
    c.inc({ path: 'x' }, 2.5);
    g.set(-3);
    g.inc(1);
    expect(r.expose()).to.equal(
      [
        '# HELP req_total Requests.\\nSecond line with \\\\ backslash',
        '# TYPE req_total counter',
        'req_total{path="a\\"b\\\\c\\nd"} 1',
        'req_total{path="x"} 2.5',
        '# HELP temp A gauge',
        '# TYPE temp gauge',
        'temp -2',
        '',
      ].join('\n'),
    );
    expect(escapeLabelValue('"')).to.equal('\\"');
    expect(() => c.inc({ path: 'a' }, -1)).to.throw(RangeError);
    expect(() => c.inc()).to.throw(RangeError);
    expect(() => c.inc({ other: 'a' })).to.throw(RangeError);
    expect(() => r.counter('req_total', 'dup')).to.throw(RangeError);
    expect(() => r.counter('bad-name', 'x')).to.throw(RangeError);
    expect(() => r.counter('ok', 'x', ['__reserved'])).to.throw(RangeError);
  });

  it('histograms: cumulative buckets, +Inf, _sum and _count, with labels', () => {
    const r = new Registry();
    const h = r.histogram('lat_seconds', 'Latency', [0.1, 0.5, 1], ['op']);
    for (const v of [0.05, 0.1, 0.3, 2]) h.observe({ op: 'step' }, v);
    expect(r.expose()).to.equal(
      [
        '# HELP lat_seconds Latency',
        '# TYPE lat_seconds histogram',
        'lat_seconds_bucket{op="step",le="0.1"} 2',
        'lat_seconds_bucket{op="step",le="0.5"} 3',
        'lat_seconds_bucket{op="step",le="1"} 3',
        'lat_seconds_bucket{op="step",le="+Inf"} 4',
        'lat_seconds_sum{op="step"} 2.45',
        'lat_seconds_count{op="step"} 4',
        '',
      ].join('\n'),
    );
    expect(() => r.histogram('b', 'x', [1, 1])).to.throw(RangeError);
    expect(() => r.histogram('c', 'x', [1], ['le'])).to.throw(RangeError);
  });

  it('ServiceMetrics counts decisions, early decisions and steps saved', () => {
    const m = new ServiceMetrics();
    m.recordDecision({ steps: 3, maxSteps: 10, early: true });
    m.recordDecision({ steps: 10, maxSteps: 10, early: false });
    m.stepLatency.observe(0.004);
    m.dropped('rate_limit', 7);
    expect(m.decisions.get()).to.equal(2);
    expect(m.earlyDecisions.get()).to.equal(1);
    expect(m.stepsSaved.get()).to.equal(7);
    const text = m.expose();
    expect(text).to.contain('spikestream_events_dropped_total{reason="rate_limit"} 7');
    expect(text).to.contain('spikestream_events_dropped_total{reason="queue_overflow"} 0');
    expect(text).to.contain('spikestream_step_latency_seconds_bucket{le="0.005"} 1');
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
  });
});
