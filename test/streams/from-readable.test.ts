import { expect } from 'chai';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { PassThrough } from 'stream';
import { firstValueFrom, toArray } from 'rxjs';
import { concatBatches, type EventBatch } from '../../src/events/event-batch';
import { readEventFile } from 'aedat-parser-ts/node';
import { fromReadable, headerComplete, openEventPath, ReadableInput } from '../../streams/sources/from-readable';
import { makeTempDir, readSharedRecording, sharedRecording } from '../helpers/paths';

async function fileEvents(file: string): Promise<EventBatch> {
  const out: EventBatch[] = [];
  for await (const b of readEventFile(file)) out.push(b);
  return concatBatches(out);
}

function drain(input: ReadableInput): Promise<EventBatch> {
  return firstValueFrom(input.input.events.pipe(toArray())).then(concatBatches);
}

function expectSame(got: EventBatch, want: EventBatch): void {
  expect(got.length).to.equal(want.length);
  for (const k of ['t', 'x', 'y', 'p'] as const) expect(Buffer.compare(Buffer.from(got[k].buffer, got[k].byteOffset, got[k].byteLength), Buffer.from(want[k].buffer, want[k].byteOffset, want[k].byteLength)), k).to.equal(0);
}

describe('fromReadable: a raw event byte stream on stdin or a FIFO', function () {
  this.timeout(20000);
  const dir = makeTempDir('spikestream-readable-');
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("a FIFO carrying a real Prophesee EVT 3.0 recording (OpenEB's writer): the file's events, geometry from its header", async () => {
    const file = sharedRecording('prophesee_evt3_expelliarmus_sample.raw');
    const bytes = readSharedRecording('prophesee_evt3_expelliarmus_sample.raw');
    const fifo = path.join(dir, 'cam.raw');
    execFileSync('mkfifo', [fifo]);
    const input = new ReadableInput(openEventPath(fifo), { name: fifo });
    const got = drain(input);
    // The writer hands the bytes over in USB-buffer-sized pieces, as metavision_hal_showcase -o does.
    const out = fs.createWriteStream(fifo);
    for (let i = 0; i < bytes.length; i += 16384) out.write(bytes.subarray(i, i + 16384));
    out.end();
    expectSame(await got, await fileEvents(file));
    expect(input.input.geometry).to.deep.equal({ width: 1280, height: 720 });
  });

  it('any chunking (1-byte pieces of the header included) gives the file\'s events: real EVT 2.0, AEDAT 4.0 and AEDAT 2.0 recordings', async () => {
    for (const name of ['prophesee_evt2_expelliarmus_sample.raw', 'dvs128_dv_dvSave-2024_06_13_16_16_25.aedat4', 'dvs128_jaer_alex_walking_again.aedat']) {
      const bytes = readSharedRecording(name);
      const stream = new PassThrough();
      const input = new ReadableInput(stream);
      const got = drain(input);
      for (let i = 0; i < 2048; i++) stream.write(bytes.subarray(i, i + 1));
      for (let i = 2048; i < bytes.length; i += 7777) stream.write(bytes.subarray(i, i + 7777));
      stream.end();
      expectSame(await got, await fileEvents(sharedRecording(name)));
    }
  });

  it('bad bytes end the stream with one line naming the input and where; counted', async () => {
    const stream = new PassThrough();
    const notices: string[] = [];
    const input = new ReadableInput(stream, { name: 'stdin', onNotice: (l) => notices.push(l) });
    const got = drain(input);
    stream.end(Buffer.from('hello, this is no event stream\n'));
    expect((await got).length).to.equal(0);
    expect(input.input.stats.badMessages).to.equal(1);
    expect(notices).to.have.length(1);
    expect(notices[0]).to.match(/^stdin: .*unrecognised event file.*: the stream ends$/);
  });

  it('a path that cannot be opened ends the input with one line; a plain file is read as a file', async () => {
    const notices: string[] = [];
    const missing = new ReadableInput(openEventPath(path.join(dir, 'nope.raw')), { name: 'nope.raw', onNotice: (l) => notices.push(l) });
    expect((await drain(missing)).length).to.equal(0);
    expect(notices).to.have.length(1);
    expect(notices[0]).to.match(/^nope\.raw: cannot open: ENOENT.*: the stream ends$/);
    const file = sharedRecording('prophesee_evt3_expelliarmus_sample.raw');
    expectSame(await drain(new ReadableInput(openEventPath(file))), await fileEvents(file));
  });

  it('headerComplete: waits for the end of a `%` or `#` header, not longer', () => {
    const enc = (s: string): Uint8Array => Buffer.from(s, 'latin1');
    expect(headerComplete(enc('% evt 3.0\n% format EVT3;height=720;width=1280\n'))).to.equal(false);
    expect(headerComplete(enc('% evt 3.0\n% end\n'))).to.equal(true);
    expect(headerComplete(enc('% evt 3.0\n\x00\x80'))).to.equal(true);
    expect(headerComplete(enc('#!AER-DAT3.1\r\n#!END-HEADER\r\n'))).to.equal(true);
    expect(headerComplete(enc('#!AER-DAT4.0\r\n'))).to.equal(true);
    expect(headerComplete(enc('t,x,y,p\n'))).to.equal(true);
    expect(headerComplete(new Uint8Array(0))).to.equal(false);
  });

  it('fromReadable: an Observable that ends with the stream', async () => {
    const stream = new PassThrough();
    const got = firstValueFrom(fromReadable(stream).pipe(toArray()));
    stream.end(Buffer.from('% evt 3.0\n% format EVT3;height=4;width=4\n% end\n'));
    expect(await got).to.deep.equal([]);
  });
});
