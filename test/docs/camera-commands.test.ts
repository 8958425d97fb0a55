/**
 * The "Connect your camera" commands of README.md and docs/cameras.md name real inputs: every
 * `--input` and `--from` URL in their shell blocks parses as the CLI parses it, and the options they
 * use exist. (The commands themselves need the cameras' software; test/e2e/live-inputs.test.ts runs
 * the same URL forms against the real AEStream, faery, a DV writer and a FIFO.)
 */
import { expect } from 'chai';
import * as fs from 'fs';
import * as path from 'path';
import { parseInputUrl } from '../../src/server/input-url';
import { runSpikestream } from '../helpers/cli';
import { repoRoot } from '../helpers/paths';

function shellBlocks(file: string): string[] {
  const text = fs.readFileSync(path.join(repoRoot, file), 'utf8');
  return [...text.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]);
}

describe('docs: the camera commands', () => {
  for (const file of ['README.md', 'docs/cameras.md']) {
    it(`${file}: every --input / --from URL parses`, () => {
      const urls = shellBlocks(file).flatMap((b) => [...b.matchAll(/--(?:input|from) (?:'([^']+)'|(\S+))/g)].map((m) => m[1] ?? m[2]));
      expect(urls.length, file).to.be.at.least(4);
      for (const u of urls) expect(() => parseInputUrl(u), u).to.not.throw();
      const kinds = new Set(urls.map((u) => parseInputUrl(u).kind));
      expect([...kinds].sort()).to.deep.equal(['dv', 'readable', 'udp']);
    });
  }

  it('serve, start and sensor offer what the commands use', () => {
    for (const [cmd, option] of [['serve', '--input <url>'], ['start', '--input <url>'], ['sensor', '--from <url>']]) {
      expect(runSpikestream([cmd, '--help']).stdout, cmd).to.include(option);
    }
  });
});
