import { expect } from 'chai';
import { soakSvg, soakVerdict, type SoakRow } from '../../bench/soak';

function rows(rss: (m: number) => number, p99: (m: number) => number, minutes = 30): SoakRow[] {
  return Array.from({ length: minutes }, (_, i) => {
    const minute = i + 1;
    return { minute, elapsedS: minute * 60, rssMiB: rss(minute), serviceCpuPct: 40, p50: 2, p99: p99(minute), latencyN: 100, decisions: 500, eventsSent: minute * 1e6, eventsIn: minute * 1e6, dropped: 0, latenessP99: 1, loadAverage1: 3 };
  });
}

describe('bench:soak verdict and curve', () => {
  it('RSS growth is measured from minute 5 (warm-up left out), p99 as last 10 minutes over minutes 6–15', () => {
    const v = soakVerdict(
      rows((m) => (m < 5 ? 50 : 100 + (m === 20 ? 8 : 0)), (m) => (m > 20 ? 30 : 10)),
      { eventsSent: 10, eventsIn: 10, dropped: 0 },
    );
    expect(v.rssGrowth).to.be.closeTo(0.08, 1e-12);
    expect(v.p99Ratio).to.equal(3);
    expect(v.eventsLost).to.equal(0);
  });

  it('counts events not taken in and events dropped as lost', () => {
    expect(soakVerdict(rows(() => 100, () => 10), { eventsSent: 100, eventsIn: 90, dropped: 5 }).eventsLost).to.equal(15);
  });

  it('draws RSS and p99 per minute as two series with their axes', () => {
    const svg = soakSvg(rows((m) => 100 + m, () => 12, 6), 'soak <test>');
    expect(svg.startsWith('<svg')).to.equal(true);
    expect(svg).to.contain('soak &lt;test&gt;');
    expect(svg).to.contain('class="series rss"');
    expect(svg).to.contain('class="series p99"');
    expect(svg.match(/class="series rss"[^>]*points="([^"]*)"/)![1].trim().split(' ')).to.have.length(6);
    expect(svg).to.contain('decision latency p99 (ms)');
  });
});
