import { expect } from 'chai';
import * as http from 'http';
import type { AddressInfo } from 'net';
import { WebSocketServer } from 'ws';
import { WireDecoder } from '../../src/formats/wire';
import type { EventBatch } from '../../src/events/event-batch';
import { encodeRecording, runWireCameras } from '../../bench/wire-cameras';

/** 3 batches, 25 ms of sensor time starting at t = 1000 µs, with a quiet 10 ms slice in the middle. */
function recording(): EventBatch[] {
  const mk = (ts: number[], x0: number): EventBatch => ({
    x: Uint16Array.from(ts.map((_, i) => x0 + i)),
    y: Uint16Array.from(ts.map((_, i) => i)),
    p: Uint8Array.from(ts.map((_, i) => i & 1)),
    t: Float64Array.from(ts),
    length: ts.length,
  });
  return [mk([1000, 1005, 5000], 0), mk([9999, 10999], 10), mk([22000, 25999], 20)];
}

describe('bench wire cameras', () => {
  it('encodeRecording cuts the recording into slices of sensor time, each encoded once, times relative to its first event', () => {
    const rec = encodeRecording(recording(), { width: 64, height: 64 }, 10_000);
    expect(rec.messages.length).to.equal(3); // span 25 000 µs → 3 slices
    expect(rec.periodUs).to.equal(30_000);
    expect([...rec.events]).to.deep.equal([5, 0, 2]);
    expect(rec.messages[1]).to.equal(undefined);
    const d = new WireDecoder({ monotonic: false });
    const first = d.decode(rec.messages[0]!).batch;
    expect([...first.t]).to.deep.equal([0, 5, 4000, 8999, 9999]);
    expect([...first.x]).to.deep.equal([0, 1, 2, 10, 11]);
    expect([...d.decode(rec.messages[2]!).batch.t]).to.deep.equal([21000, 24999]);
    expect([rec.firstT[2], rec.lastT[2]]).to.deep.equal([21000, 24999]);
  });

  it('leaves out a slice with no event', () => {
    const rec = encodeRecording(recording(), { width: 64, height: 64 }, 5_000);
    expect(rec.messages.map((m) => m !== undefined)).to.deep.equal([true, true, false, false, true]);
  });

  it('runWireCameras: each camera sends the shared slices from its own offset, wrapped, its time monotone and every event logged', async () => {
    const rec = encodeRecording(recording(), { width: 64, height: 64 }, 10_000);
    const server = http.createServer();
    const wss = new WebSocketServer({ server });
    const got = new Map<string, number[]>();
    wss.on('connection', (ws, req) => {
      const id = req.url!.split('/').pop()!;
      const decoder = new WireDecoder(); // monotone per connection: throws if a camera's time went back
      const ts: number[] = [];
      got.set(id, ts);
      ws.on('message', (data: Buffer) => ts.push(...decoder.decode(new Uint8Array(data)).batch.t));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const sent = await runWireCameras(url, rec, 3, { prefix: 'c', seconds: 0.09, phases: 2 });
      expect(sent.closedEarly.size).to.equal(0);
      // 9 slices each: 3 passes of [5, 0, 2] events whatever the offset.
      expect(sent.events).to.equal(3 * 3 * 7);
      expect(got.get('c0')).to.deep.equal([0, 5, 4000, 8999, 9999, 21000, 24999, 30000, 30005, 34000, 38999, 39999, 51000, 54999, 60000, 60005, 64000, 68999, 69999, 81000, 84999]);
      // camera 1 starts at slice 1 (empty): its clock starts at that slice's start.
      expect(got.get('c1')).to.deep.equal([11000, 14999, 20000, 20005, 24000, 28999, 29999, 41000, 44999, 50000, 50005, 54000, 58999, 59999, 71000, 74999, 80000, 80005, 84000, 88999, 89999]);
      expect([...sent.logs.get('c1')!.lastT]).to.deep.equal([14999, 29999, 44999, 59999, 74999, 89999]);
      expect(sent.lateness.length).to.equal(9 * 2);
    } finally {
      wss.close();
      server.close();
    }
  });
});
