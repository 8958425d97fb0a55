/** AEDAT 4.0 decoding of the real DV recordings (events, header, streams, chunking). */
import { expect } from 'chai';
import * as lz4js from 'lz4js';
import {
  Aedat4Decoder,
  FormatError,
  looksLikeAedat4,
  Lz4FrameDecoder,
  readAedat4Header,
  readAedat4Streams,
} from 'aedat-parser-ts';
import { checkRealRecording } from './helpers/decode';
import { readSharedRecording } from './helpers/recordings';
import { make, decodeAll, concat, formatError } from './helpers/aedat4';

interface RealFile {
  name: string;
  events: number;
  on: number;
  tFirst: number;
  tLast: number;
  first?: number[][];
  geometry: { width: number; height: number };
  streams: [number, string][];
  source: string;
  dataTable: boolean;
}

const REAL: RealFile[] = [
  {
    name: 'dvs128_dv_dvSave-2024_06_20_16_13_00.aedat4',
    events: 149_629,
    on: 66_767,
    tFirst: 1718925184590631,
    tLast: 1718925190610468,
    first: [
      [23, 51, 1, 1718925184590631],
      [23, 50, 1, 1718925184590832],
      [26, 74, 1, 1718925184590833],
    ],
    geometry: { width: 128, height: 128 },
    streams: [
      [0, 'EVTS'],
      [3, 'TRIG'],
    ],
    source: 'DVS128_0279',
    dataTable: true,
  },
  {
    name: 'dvs128_dv_dvSave-2024_06_13_16_16_25.aedat4',
    events: 18_342,
    on: 8_297,
    tFirst: 1718320899149165,
    tLast: 1718320904608663,
    geometry: { width: 128, height: 128 },
    streams: [
      [0, 'EVTS'],
      [3, 'TRIG'],
    ],
    source: 'DVS128_0279',
    dataTable: true,
  },
  {
    name: 'dvxplorer_tonic_sample.aedat4',
    events: 111_954,
    on: 55_023,
    tFirst: 1605537493718345,
    tLast: 1605537494308262,
    first: [
      [154, 204, 0, 1605537493718345],
      [149, 206, 0, 1605537493718348],
      [148, 199, 1, 1605537493718349],
    ],
    geometry: { width: 320, height: 240 },
    streams: [
      [0, 'EVTS'],
      [2, 'IMUS'],
      [3, 'TRIG'],
    ],
    source: 'DVXplorer_DXB00010',
    dataTable: true,
  },
];

describe('AEDAT 4.0 decoder: real DV recordings', function () {
  this.timeout(120_000);
  for (const f of REAL) {
    checkRealRecording(f.name, make, {
      count: f.events,
      on: f.on,
      tFirst: f.tFirst,
      tLast: f.tLast,
      first: f.first,
      geometry: f.geometry,
      decoded: (dec, _whole, bytes) => {
        // header and stream table
        expect(dec.streamId).to.equal(0);
        const h = readAedat4Header(bytes.subarray(0, 8192));
        expect(h.compression).to.equal('lz4');
        expect(h.description).to.match(/^<dv version="2.0">/);
        if (f.dataTable) {
          expect(h.dataTablePosition).to.be.greaterThan(h.headerBytes);
          expect(h.dataTablePosition).to.be.lessThan(bytes.length);
        }
        const streams = readAedat4Streams(bytes.subarray(0, 8192));
        expect(streams.map((s) => [s.id, s.typeIdentifier])).to.deep.equal(f.streams);
        expect(streams[0]).to.include({ width: f.geometry.width, height: f.geometry.height, source: f.source, name: 'events' });
      },
      sniffed: (bytes) => {
        expect(looksLikeAedat4(bytes.subarray(0, 64))).to.equal(true);
      },
    });
  }

  it('dvxplorer sample: 59 event packets, data table at 945 243, IMU/trigger packets skipped', () => {
    const bytes = readSharedRecording('dvxplorer_tonic_sample.aedat4');
    const dec = new Aedat4Decoder();
    decodeAll(bytes, dec);
    expect(dec.packetCount).to.equal(59);
    expect(dec.header?.dataTablePosition).to.equal(945_243);
    expect(readAedat4Header(bytes.subarray(0, 4096)).headerBytes).to.equal(18 + 2316);
  });

  it('dvs128 2024-06-20: 602 event packets', () => {
    const dec = new Aedat4Decoder();
    decodeAll(readSharedRecording('dvs128_dv_dvSave-2024_06_20_16_13_00.aedat4'), dec);
    expect(dec.packetCount).to.equal(602);
  });

  it('asking for a stream that is not EVTS is a FormatError', () => {
    const bytes = readSharedRecording('dvxplorer_tonic_sample.aedat4');
    const e = formatError(() => new Aedat4Decoder({ streamId: 2 }).push(bytes));
    expect(e.reason).to.match(/no EVTS stream with id 2/);
    expect(decodeAll(bytes, new Aedat4Decoder({ streamId: 0 })).length).to.equal(111_954);
  });

  it('bytes after the data table position are ignored', () => {
    const bytes = readSharedRecording('dvs128_dv_dvSave-2024_06_13_16_16_25.aedat4');
    const junk = concat(bytes, new Uint8Array(1000).fill(0xee));
    expect(decodeAll(junk).length).to.equal(18_342);
  });

  it('our LZ4 frame decoder agrees with lz4js on DV packets', () => {
    const bytes = readSharedRecording('dvxplorer_tonic_sample.aedat4');
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
    let p = 18 + dv.getUint32(14, true);
    const ours = new Lz4FrameDecoder();
    for (let k = 0; k < 40; k++) {
      const size = dv.getUint32(p + 4, true);
      const payload = bytes.subarray(p + 8, p + 8 + size);
      expect(Array.from(ours.decode(payload))).to.deep.equal(Array.from(lz4js.decompress(payload)));
      p += 8 + size;
    }
  });
});
