import { expect } from 'chai';
import * as fs from 'fs';
import { Readable } from 'stream';
import { concatBatches, createDecoder, decodeEventStream, FormatError, type EventBatch, type EventDecoder } from 'aedat-parser-ts';
import { decodeInChunks, expectSameEvents } from './helpers/decode';
import { readSharedRecording, sharedRecording } from './helpers/recordings';

async function collect(batches: AsyncIterable<EventBatch>): Promise<EventBatch> {
  const parts: EventBatch[] = [];
  for await (const b of batches) parts.push(b);
  return concatBatches(parts);
}

async function* inChunks(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

describe('decodeEventStream: a stream of byte chunks', () => {
  it('a Node Readable of a real EVT 3.0 file: detected, and the same events as a whole-file decode', async () => {
    const whole = decodeInChunks(() => createDecoder('evt3'), readSharedRecording('prophesee_evt3_expelliarmus_sample.raw'));
    let decoder: EventDecoder | undefined;
    const events = await collect(
      decodeEventStream(fs.createReadStream(sharedRecording('prophesee_evt3_expelliarmus_sample.raw'), { highWaterMark: 1500 }), { onEnd: (d) => (decoder = d) }),
    );
    expect(whole.length).to.equal(219_596);
    expectSameEvents(events, whole, 'stream vs whole file');
    expect([decoder?.format, decoder?.geometry]).to.deep.equal(['evt3', { width: 1280, height: 720 }]);
  });

  it('1-byte chunks of a real AEDAT 2.0 file give the same events', async () => {
    const bytes = readSharedRecording('dvs128_jaer_alex_walking_again.aedat');
    const whole = decodeInChunks(() => createDecoder('aedat2'), bytes);
    expectSameEvents(await collect(decodeEventStream(inChunks(bytes, 1))), whole, '1-byte chunks');
  });

  it('a stream shorter than the detection window is detected at its end (an N-MNIST .bin by its name and size)', async () => {
    const bytes = readSharedRecording('nmnist_tonic_sample.bin');
    const events = await collect(decodeEventStream(Readable.from([Buffer.from(bytes)]), { name: 'digit.bin' }));
    expect(events.length).to.equal(4325);
  });

  it('with the format given, events come out before the stream ends (a live source)', async () => {
    const bytes = readSharedRecording('prophesee_evt2_expelliarmus_sample.raw');
    let asked = 0;
    async function* live(): AsyncGenerator<Uint8Array> {
      asked++;
      yield bytes.subarray(0, 20_000);
      asked++;
      await new Promise(() => undefined); // the camera has not sent more yet
    }
    const it = decodeEventStream(live(), { format: 'evt2' });
    const first = await it.next();
    expect(first.done).to.equal(false);
    expect((first.value as EventBatch).length).to.be.greaterThan(1000);
    expect(asked, 'only the first chunk was asked for').to.equal(1);
  });

  it('bad input is a FormatError carrying the name; an unrecognised stream says what was looked for', async () => {
    const cut = readSharedRecording('dvs128_dv_dvSave-2024_06_13_16_16_25.aedat4').subarray(0, 5000);
    const err = await collect(decodeEventStream(inChunks(cut, 777), { name: 'cam.aedat4' })).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(FormatError);
    expect((err as FormatError).message).to.match(/^cam\.aedat4: aedat4 byte \d+: /);
    const junk = await collect(decodeEventStream(inChunks(new Uint8Array(100), 10))).catch((e: unknown) => e);
    expect((junk as FormatError).message).to.match(/^<input>: detect byte 0: unrecognised event file/);
  });
});
