import { expect } from 'chai';
import { CsvDecoder, csvHeader, detectFormat, encodeCsvRows, FormatError, looksLikeCsv } from 'aedat-parser-ts';
import { decodeInChunks, expectSameEvents } from './helpers/decode';

const bytes = (s: string) => new TextEncoder().encode(s);

function batchOf(rows: [number, number, number, number][]) {
  return {
    t: Float64Array.from(rows.map((r) => r[0])),
    x: Uint16Array.from(rows.map((r) => r[1])),
    y: Uint16Array.from(rows.map((r) => r[2])),
    p: Uint8Array.from(rows.map((r) => r[3])),
    length: rows.length,
  };
}

function decodeError(text: string): FormatError {
  try {
    decodeInChunks(() => new CsvDecoder(), bytes(text));
  } catch (err) {
    expect(err).to.be.instanceOf(FormatError);
    return err as FormatError;
  }
  throw new Error(`no error for ${JSON.stringify(text)}`);
}

describe('formats: CSV (what convert writes, read back)', () => {
  const events = batchOf([
    [0, 1, 2, 1],
    [10, 127, 0, 0],
    [10, 65535, 65535, 1],
    [1_700_000_000_000_000, 3, 4, 0],
  ]);
  const file = csvHeader({ width: 128, height: 96 }) + encodeCsvRows(events);

  it('reads what the writer writes, with its sensor size, in chunks of any size', () => {
    for (const chunk of [1, 3, 7, 64, file.length]) {
      const dec = new CsvDecoder();
      const got = decodeInChunks(() => dec, bytes(file), chunk);
      expectSameEvents(got, events, `chunks of ${chunk}`);
      expect(dec.geometry).to.deep.equal({ width: 128, height: 96 });
    }
  });

  it('takes CRLF lines, no comment and a last row without a newline; no geometry line leaves the size unknown', () => {
    const dec = new CsvDecoder();
    const got = decodeInChunks(() => dec, bytes('t,x,y,p\r\n5,1,2,1\r\n\r\n9,3,4,0'));
    expectSameEvents(got, batchOf([[5, 1, 2, 1], [9, 3, 4, 0]]));
    expect(dec.geometry).to.equal(undefined);
  });

  it('is detected by its column line, after any comments', () => {
    expect(detectFormat(bytes(file), 'x.csv')).to.equal('csv');
    expect(looksLikeCsv(bytes('t,x,y,p\n'))).to.equal(true);
    expect(looksLikeCsv(bytes('x,y,t,p\n1,2,3,1\n'))).to.equal(false);
    expect(looksLikeCsv(bytes('#!AER-DAT3.1\r\n'))).to.equal(false);
  });

  it('names the line and the reason for a bad row', () => {
    const cases: [string, number, RegExp][] = [
      ['t,x,y,p\n1,2,3\n', 2, /4 comma-separated/],
      ['t,x,y,p\n1,2,3,1,5\n', 2, /4 comma-separated/],
      ['t,x,y,p\n1,2,-3,1\n', 2, /4 comma-separated/],
      ['t,x,y,p\n0,0,0,1\n1.5,2,3,1\n', 3, /4 comma-separated/],
      ['t,x,y,p\n1,70000,3,1\n', 2, /out of range/],
      ['t,x,y,p\n9999999999999999,1,1,1\n', 2, /beyond 2\^53/],
      ['t,x,y,p\n1,2,3,2\n', 2, /polarity 2/],
      ['t,x,y,p\n9,2,3,1\n8,2,3,1\n', 3, /goes backwards/],
      ['# only a comment\n', 1, /no 't,x,y,p' column line/],
      ['x,y\n1,2\n', 1, /expected the column line/],
      ['t,x,y,p\n' + '1'.repeat(5000), 2, /longer than 4096/],
    ];
    for (const [text, line, reason] of cases) {
      const err = decodeError(text);
      expect([err.unit, err.offset], text).to.deep.equal(['line', line]);
      expect(err.reason, text).to.match(reason);
    }
  });
});
