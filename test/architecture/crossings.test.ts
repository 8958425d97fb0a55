import { expect } from 'chai';
import { crossings, measureWebSocketWalk, stackFiles, walkOf, walkRoom } from '../helpers/crossings';
import { repoRoot } from '../helpers/paths';

describe('architecture: the walk from a WebSocket message to a subscriber decision', function () {
  this.timeout(60_000);

  it('reads a stack into repository files, outermost first, compiled paths mapped back', () => {
    const stack = [
      'Error',
      `    at BoundedEventQueue.push (${repoRoot}/dist/streams/core/bounded-queue.js:10:3)`,
      `    at ${repoRoot}/src/server/http/ingest-endpoint.ts:5:1`,
      `    at emit (${repoRoot}/node_modules/ws/lib/websocket.js:1:1)`,
      `    at patched (${repoRoot}/dist/test/helpers/crossings.js:1:1)`,
      '    at node:events:519:28',
    ].join('\n');
    expect(stackFiles(stack)).to.deep.equal(['src/server/http/ingest-endpoint.ts', 'streams/core/bounded-queue.ts']);
    expect(walkRoom('src/snn/scheduler.ts')).to.equal(undefined);
  });

  it('counts room changes, both sockets being the server’s', () => {
    const walk = walkOf(['streams/sources/from-websocket.ts', 'src/formats/wire/codec.ts', 'streams/core/bounded-queue.ts'], ['streams/core/engine.ts', 'src/server/service.ts', 'streams/sinks/to-subscribers.ts']);
    expect(walk).to.deep.equal(['src/server', 'streams', 'streams', 'streams', 'src/server', 'streams', 'src/server']);
    expect(crossings(walk)).to.equal(4);
    expect(crossings(['src/server', 'streams', 'streams', 'src/server'])).to.equal(2);
  });

  it('crosses between src/server and streams/ twice: in with the message, out with the subscriber write', async () => {
    const m = await measureWebSocketWalk();
    console.log(`      ${m.crossings} crossings; entry ${m.entry.join(' → ')}; exit ${m.exit.join(' → ')}`);
    console.log(`      src/server code run meanwhile (hooks that return): ${m.serverCalls.join(', ')}`);
    // The message enters the streams side at its ingest (the decode is src/formats), the engine resumes there.
    expect(walkRoom(m.entry[m.entry.length - 1])).to.equal('streams');
    expect(m.exit.find((f) => walkRoom(f) !== undefined)).to.match(/^streams\//);
    expect(m.exit[m.exit.length - 1]).to.equal('streams/sinks/to-subscribers.ts');
    expect(m.crossings).to.be.at.most(2);
    // What src/server code ran meanwhile is the hooks docs/architecture.md names: the ingest's rate
    // limiter and counters, the scheduler's step gauges and the metrics after the write.
    const hookFiles = ['src/server/http/ingest-endpoint.ts', 'src/server/limits.ts', 'src/server/metric-handles.ts', 'src/server/metrics.ts', 'src/server/service.ts'];
    expect(m.serverCalls.map((c) => c.slice(0, c.indexOf('.ts:') + 3)).filter((f) => !hookFiles.includes(f))).to.deep.equal([]);
  });
});
