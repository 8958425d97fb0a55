import { expect } from 'chai';
import { aedat2Chip, Aedat2Decoder, FormatError, looksLikeAedat2 } from 'aedat-parser-ts';
import {
  checkRealRecording,
  decodeInChunks,
  expectChunkingInvariant,
  expectFormatErrorOf,
  expectOnlyFormatErrors,
  firstEvents,
  type RecordingFacts,
} from './helpers/decode';

const make = (): Aedat2Decoder => new Aedat2Decoder();

/** The shared real-recording checks, plus the count of skipped records and AEDAT 2.0 sniffing. */
function checkRecording(name: string, facts: RecordingFacts<Aedat2Decoder> & { skipped?: number }): void {
  const { skipped } = facts;
  checkRealRecording(name, make, {
    ...facts,
    decoded: skipped === undefined ? undefined : (dec) => expect(dec.skippedRecords).to.equal(skipped),
    sniffed: (bytes) => expect(looksLikeAedat2(bytes.subarray(0, 64 * 1024))).to.equal(true),
  });
}

// ---- hand-made inputs ----

function header(lines: string[], eol = '\r\n'): Uint8Array {
  return Uint8Array.from(Buffer.from(lines.map((l) => l + eol).join(''), 'latin1'));
}
const DVS128_HEADER = header(['#!AER-DAT2.0', '# This is a raw AE data file', '# AEChip: ch.unizh.ini.jaer.chip.retina.DVS128']);
const DAVIS_HEADER = header(['#!AER-DAT2.0', '# AEChip: eu.seebetter.ini.chips.davis.DAVIS240C'], '\n');

function records(recs: Array<[number, number]>): Uint8Array {
  const b = new Uint8Array(recs.length * 8);
  const dv = new DataView(b.buffer);
  recs.forEach(([a, t], i) => {
    dv.setUint32(i * 8, a >>> 0, false);
    dv.setUint32(i * 8 + 4, t >>> 0, false);
  });
  return b;
}
function cat(...parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(Buffer.concat(parts));
}
const dvs = (x: number, y: number, p: number): number => (y << 8) | (x << 1) | p;
const davis = (x: number, y: number, p: number): number => (y << 22) | (x << 12) | (p << 11);

const expectFormatError = (fn: () => unknown, offset?: number): FormatError => expectFormatErrorOf('aedat2', fn, offset);

describe('formats/aedat2', () => {
  checkRecording('dvs128_jaer_alex_walking_again.aedat', {
    count: 19182,
    on: 12080,
    tFirst: 41306606,
    tLast: 48193156,
    first: [
      [65, 118, 1, 41306606],
      [47, 97, 0, 41309379],
      [88, 97, 0, 41309793],
    ],
    geometry: { width: 128, height: 128 },
    skipped: 0,
  });
  checkRecording('dvs128_jaer_alex_walking_for_10secs.aedat', {
    count: 125028,
    on: 69052,
    tFirst: 262847757,
    tLast: 270891631,
    geometry: { width: 128, height: 128 },
  });
  checkRecording('davis240c_IMU_translBoxes.aedat', {
    count: 162771,
    on: 82944,
    tFirst: 294976755,
    tLast: 297049406,
    // computed independently (Python struct, DAVIS layout, no flip)
    first: [
      [156, 36, 0, 294976755],
      [205, 128, 0, 294976892],
      [169, 46, 1, 294976940],
    ],
    geometry: { width: 240, height: 180 },
    skipped: 33837,
  });
  checkRecording('davis346red_header_only_tonic.aedat', { count: 0, on: 0, geometry: { width: 346, height: 260 } });

  it('maps chip classes to layouts and sizes', () => {
    expect(aedat2Chip('ch.unizh.ini.jaer.chip.retina.DVS128')).to.deep.equal({ layout: 'dvs128', geometry: { width: 128, height: 128 } });
    expect(aedat2Chip('eu.seebetter.ini.chips.davis.Davis346red').layout).to.equal('davis');
    expect(aedat2Chip('eu.seebetter.ini.chips.davis.DAVIS640').geometry).to.deep.equal({ width: 640, height: 480 });
    expect(aedat2Chip('some.unknown.Chip')).to.deep.equal({ layout: 'dvs128', geometry: undefined });
  });

  it('decodes DVS128 records, skips external events, and keeps raw (unflipped) coordinates', () => {
    const bytes = cat(DVS128_HEADER, records([[dvs(3, 120, 1), 10], [0x8000 | dvs(1, 1, 1), 11], [dvs(127, 0, 0), 12]]));
    const dec = make();
    const b = decodeInChunks(() => dec, bytes, 5);
    expect(firstEvents(b, 5)).to.deep.equal([
      [3, 120, 1, 10],
      [127, 0, 0, 12],
    ]);
    expect(dec.skippedRecords).to.equal(1);
  });

  it('decodes the DAVIS layout, skipping APS (bit 31) and IMU/external (bit 10) records', () => {
    const bytes = cat(DAVIS_HEADER, records([[davis(239, 179, 1), 5], [0x80000000 | davis(1, 1, 0), 6], [davis(2, 2, 0) | 0x400, 7], [davis(0, 0, 0), 8]]));
    const dec = make();
    const b = decodeInChunks(() => dec, bytes, 3);
    expect(firstEvents(b, 5)).to.deep.equal([
      [239, 179, 1, 5],
      [0, 0, 0, 8],
    ]);
    expect(dec.layout).to.equal('davis');
    expect(dec.skippedRecords).to.equal(2);
  });

  it('stops the header at the first line not starting with #, even when the body holds # and newline bytes', () => {
    // address 0x0000_230A: bytes 00 00 23 0A ('#', '\n') — body starts with 0x00
    const body = records([[0x230a, 0x0a23230a], [0x0a23, 0x0a23230b]]);
    const bytes = cat(DVS128_HEADER, body);
    const whole = decodeInChunks(make, bytes);
    expect(whole.length).to.equal(2);
    expect(firstEvents(whole, 1)).to.deep.equal([[(0x230a >> 1) & 0x7f, (0x230a >> 8) & 0x7f, 0, 0x0a23230a]]);
    expectChunkingInvariant(make, bytes, whole);
  });

  it('unwraps an int32 overflow (2^32 as unsigned) and a 31-bit counter wrap; passes small resets through', () => {
    const intOverflow = decodeInChunks(make, cat(DVS128_HEADER, records([[0, 0x7ffffff0], [0, 0x80000010], [0, 0xfffffff0], [0, 0x10]])));
    expect(Array.from(intOverflow.t)).to.deep.equal([2147483632, 2147483664, 4294967280, 4294967312]);
    const counter31 = decodeInChunks(make, cat(DVS128_HEADER, records([[0, 0x7ffffff0], [0, 0x10], [0, 0x20]])));
    expect(Array.from(counter31.t)).to.deep.equal([2147483632, 2147483664, 2147483680]);
    const dec = make();
    const reset = decodeInChunks(() => dec, cat(DVS128_HEADER, records([[0, 1000], [0, 500]])));
    expect(Array.from(reset.t)).to.deep.equal([1000, 500]);
    expect(dec.timeReversals).to.equal(1);
  });

  it('accepts a header-only file with LF endings (0 events)', () => {
    const dec = make();
    const b = decodeInChunks(() => dec, DAVIS_HEADER, 1);
    expect(b.length).to.equal(0);
    expect(dec.geometry).to.deep.equal({ width: 240, height: 180 });
  });

  it('reads a 3000-line header and a 300 KB header line in 1-byte chunks (linear)', () => {
    const lines = ['#!AER-DAT2.0'];
    for (let i = 0; i < 3000; i++) lines.push(`#  <entry key="k${i}" value="${'v'.repeat(40)}"/>`);
    lines.push('#' + 'x'.repeat(300_000));
    const bytes = cat(header(lines), records([[dvs(1, 2, 1), 7]]));
    const b = decodeInChunks(make, bytes, 1);
    expect(firstEvents(b, 2)).to.deep.equal([[1, 2, 1, 7]]);
  });

  it('rejects wrong magic with a FormatError at the first differing byte', () => {
    expectFormatError(() => make().push(header(['#!AER-DAT3.1'])), 9);
    expectFormatError(() => make().push(Uint8Array.from([0, 1, 2, 3])), 0);
    expectFormatError(() => make().push(header(['#!AER-DAT2.01'])), 0);
    expect(looksLikeAedat2(header(['#!AER-DAT3.1']))).to.equal(false);
    expect(looksLikeAedat2(header(['#!AER-DAT2.0']))).to.equal(true);
  });

  it('throws a FormatError at end() for a record cut short, with the record offset', () => {
    const bytes = cat(DVS128_HEADER, records([[0, 1]]), Uint8Array.from([1, 2, 3]));
    for (const size of [1, 7, bytes.length]) {
      const dec = make();
      for (let at = 0; at < bytes.length; at += size) dec.push(bytes.subarray(at, at + size));
      expectFormatError(() => dec.end(), DVS128_HEADER.length + 8);
    }
  });

  it('throws a FormatError for input that stops inside the header, or is empty', () => {
    const dec = make();
    dec.push(Uint8Array.from(Buffer.from('#!AER-DAT2.0\r\n# AECh')));
    expectFormatError(() => dec.end());
    expectFormatError(() => make().end(), 0);
  });

  it('rejects a header line longer than 1 MiB (binary input after a # byte)', () => {
    const dec = make();
    dec.push(header(['#!AER-DAT2.0']));
    const junk = new Uint8Array(1 << 20).fill(0x23);
    dec.push(junk);
    expectFormatError(() => dec.push(junk));
  });

  it('never throws anything but FormatError on corrupted input', () => {
    const good = cat(DAVIS_HEADER, records([[davis(1, 1, 1), 1], [davis(2, 2, 0), 2], [davis(3, 3, 1), 3]]));
    expectOnlyFormatErrors(make, good, 12345);
  });
});
