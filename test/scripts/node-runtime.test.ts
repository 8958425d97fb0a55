/**
 * The npm scripts run on a supported LTS Node: the `node` devDependency (official binaries from the
 * npm registry) is first on their PATH, whatever Node the machine has.
 */
import { expect } from 'chai';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { repoRoot } from '../helpers/paths';

describe('the Node the npm scripts run on', function () {
  this.timeout(60_000);
  const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { engines: { node: string }; devDependencies: Record<string, string> };

  it('engines asks for an LTS Node (22.12 or later) and the node devDependency is pinned to a 22 or 24 release', () => {
    expect(pkg.engines.node).to.equal('>=22.12');
    expect(pkg.devDependencies.node).to.match(/^(22|24)\.\d+\.\d+$/);
  });

  it('npm run puts that node first: an npm script sees its version', () => {
    const r = spawnSync('npm', ['exec', '--no', '--', 'node', '-p', 'process.version'], { cwd: repoRoot, encoding: 'utf8' });
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout.trim()).to.equal(`v${pkg.devDependencies.node}`);
  });
});
