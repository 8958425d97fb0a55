/**
 * Links `node_modules/.bin/spikestream` to the built CLI, so that `npx spikestream …` in the
 * repository runs it at once. npm links the bins of a project's dependencies, never the project's
 * own; without this link npx installs the folder into its cache and rebuilds it (12–40 s, silent).
 * Run by `prepare` after tsc (so after every `npm ci` / `npm install` here).
 */
import * as fs from 'fs';
import * as path from 'path';

export function linkLocalBin(root: string): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { name: string; bin: Record<string, string> };
  const target = path.join(root, pkg.bin[pkg.name]);
  if (!fs.existsSync(target)) throw new Error(`${target} is missing: build first (npm run build)`);
  fs.chmodSync(target, 0o755);
  const binDir = path.join(root, 'node_modules', '.bin');
  fs.mkdirSync(binDir, { recursive: true });
  const link = path.join(binDir, pkg.name);
  fs.rmSync(link, { force: true });
  fs.symlinkSync(path.relative(binDir, target), link);
  return link;
}

if (require.main === module) linkLocalBin(path.resolve(__dirname, '..', '..'));
