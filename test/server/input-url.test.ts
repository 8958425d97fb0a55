import { expect } from 'chai';
import { InputUrlError, parseInputUrl, parseInputUrls } from '../../src/server/input-url';

describe('server/input-url: --input URL forms', () => {
  it('udp://HOST:PORT?format=&width=&height=, default id udp-PORT; fit/roi kept as stream params', () => {
    const s = parseInputUrl('udp://0.0.0.0:3333?format=spif&width=128&height=128&fit=scale&roi=0,0,64,64');
    expect(s).to.deep.include({ kind: 'udp', id: 'udp-3333', host: '0.0.0.0', port: 3333, format: 'spif', width: 128, height: 128 });
    expect(s.params.get('fit')).to.equal('scale');
    expect(s.params.get('roi')).to.equal('0,0,64,64');
    expect(parseInputUrl('udp://localhost:3334?format=t64_x16_y16_on8&width=640&height=480#cam')).to.deep.include({ id: 'cam', host: 'localhost' });
  });

  it('dv+tcp:// and dv+unix:///, with ids from the endpoint or #ID', () => {
    expect(parseInputUrl('dv+tcp://127.0.0.1:7777')).to.deep.include({ kind: 'dv', id: 'dv-127.0.0.1-7777', endpoint: { kind: 'tcp', host: '127.0.0.1', port: 7777 } });
    const u = parseInputUrl('dv+unix:///tmp/dv-runtime.sock?fit=crop#davis');
    expect(u).to.deep.include({ kind: 'dv', id: 'davis', endpoint: { kind: 'unix', path: '/tmp/dv-runtime.sock' } });
    expect(u.params.get('fit')).to.equal('crop');
    expect(parseInputUrl('dv+unix:///tmp/dv-runtime.sock').id).to.equal('dv-dv-runtime.sock');
  });

  it('- is stdin; a path is a file or FIFO, with an optional ?fit=&roi= and #ID', () => {
    expect(parseInputUrl('-')).to.deep.include({ kind: 'readable', id: 'stdin', path: '-' });
    expect(parseInputUrl('/tmp/cam.raw')).to.deep.include({ kind: 'readable', id: 'cam', path: '/tmp/cam.raw' });
    const f = parseInputUrl('/tmp/cam.raw?fit=scale#prophesee');
    expect(f).to.deep.include({ id: 'prophesee', path: '/tmp/cam.raw' });
    expect(f.params.get('fit')).to.equal('scale');
    expect(parseInputUrl('/tmp/what?.raw')).to.deep.include({ path: '/tmp/what?.raw' });
  });

  it('what cannot be used is one line saying why', () => {
    const bad: [string, RegExp][] = [
      ['udp://127.0.0.1:3333?width=128&height=128', /format=\(missing\) is not a UDP format: one of spif, spif-ts, t64_x16_y16_on8, t32_x16_y15_on1/],
      ['udp://127.0.0.1:3333?format=evt3&width=128&height=128', /format=evt3 is not a UDP format/],
      ['udp://127.0.0.1:3333?format=spif&width=128', /UDP carries no sensor size: give height=1\.\.32768/],
      ['udp://127.0.0.1?format=spif&width=1&height=1', /a UDP input needs a port/],
      ['dv+tcp://127.0.0.1', /needs a host and a port/],
      ['dv+unix://tmp/x.sock', /three slashes/],
      ['http://127.0.0.1:8080', /unknown input scheme 'http:\/\/'/],
      ['udp://127.0.0.1:1?format=spif&width=1&height=1#no spaces', /'#no spaces' is not a stream id/],
    ];
    for (const [text, why] of bad) {
      expect(() => parseInputUrl(text), text).to.throw(InputUrlError, why);
      try {
        parseInputUrl(text);
      } catch (err) {
        expect((err as Error).message).to.not.include('\n');
      }
    }
    expect(() => parseInputUrls(['/a/cam.raw', '/b/cam.raw'])).to.throw(InputUrlError, /two inputs are named 'cam': name them apart with #ID/);
  });
});
