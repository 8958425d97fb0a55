/** Writers of large synthetic files for the I/O benchmark (AEDAT 2.0 and EVT 2.0 have no writer in src). */
import { promises as fsp } from 'fs';
import { allocBatch, type EventBatch } from '../src/events/event-batch';
import { Aedat31Writer, Aedat4Writer } from 'aedat-parser-ts';

const GEOM = { width: 128, height: 128 };
const BLOCK = 1 << 20;

/** Deterministic pseudo-random events: ~1 µs apart on average, DVS128 coordinates. */
function makeBlock(startIndex: number, n: number, t0: number): EventBatch {
  const b = allocBatch(n);
  let s = (startIndex * 2654435761) >>> 0;
  let t = t0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    b.x[i] = s & 127;
    b.y[i] = (s >>> 7) & 127;
    b.p[i] = (s >>> 14) & 1;
    t += (s >>> 28) & 1; // 0 or 1 µs
    b.t[i] = t;
  }
  return b;
}

async function writeBlocks(file: string, events: number, header: Uint8Array, encode: (b: EventBatch) => Uint8Array, finish?: () => Uint8Array): Promise<void> {
  const fh = await fsp.open(file, 'w');
  try {
    await fh.write(header);
    let t = 1000;
    for (let done = 0; done < events; done += BLOCK) {
      const b = makeBlock(done, Math.min(BLOCK, events - done), t);
      t = b.t[b.length - 1];
      await fh.write(encode(b));
    }
    if (finish) await fh.write(finish());
  } finally {
    await fh.close();
  }
}

export async function writeAedat3(file: string, events: number): Promise<void> {
  const w = new Aedat31Writer({ geometry: GEOM });
  await writeBlocks(file, events, w.header(), (b) => w.encode(b));
}

export async function writeAedat4Lz4(file: string, events: number): Promise<void> {
  const w = new Aedat4Writer({ geometry: GEOM, compression: 'lz4' });
  await writeBlocks(file, events, w.header(), (b) => w.encode(b), () => w.finish());
}

export async function writeAedat2(file: string, events: number): Promise<void> {
  const header = new TextEncoder().encode('#!AER-DAT2.0\r\n# This is a raw AE data file - do not edit\r\n# AEChip: ch.unizh.ini.jaer.chip.retina.DVS128\r\n');
  await writeBlocks(file, events, header, (b) => {
    const out = new Uint8Array(b.length * 8);
    const dv = new DataView(out.buffer);
    for (let i = 0; i < b.length; i++) {
      dv.setUint32(i * 8, (b.y[i] << 8) | (b.x[i] << 1) | b.p[i], false);
      dv.setInt32(i * 8 + 4, b.t[i] % 2 ** 31, false);
    }
    return out;
  });
}

export async function writeEvt2(file: string, events: number): Promise<void> {
  const header = new TextEncoder().encode('% evt 2.0\n% geometry 128x128\n% end\n');
  let lastHigh = -1;
  await writeBlocks(file, events, header, (b) => {
    const words = new Uint32Array(b.length * 2);
    let n = 0;
    for (let i = 0; i < b.length; i++) {
      const t = b.t[i];
      const high = Math.floor(t / 64);
      if (high !== lastHigh) {
        words[n++] = ((0x8 << 28) | (high & 0x0fffffff)) >>> 0;
        lastHigh = high;
      }
      words[n++] = (((b.p[i] ? 1 : 0) << 28) | ((t & 63) << 22) | (b.x[i] << 11) | b.y[i]) >>> 0;
    }
    return new Uint8Array(words.buffer, 0, n * 4);
  });
}
