// After the two tsc builds: marks dist/esm as ES modules, and bundles the core for browsers
// (one minified ES module with fzstd inside, for a <script type="module"> without a bundler).
import { buildSync } from 'esbuild';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
writeFileSync(join(root, 'dist', 'esm', 'package.json'), JSON.stringify({ type: 'module' }) + '\n');
buildSync({
  entryPoints: [join(root, 'dist', 'esm', 'index.js')],
  outfile: join(root, 'dist', 'browser', 'aedat-parser-ts.min.js'),
  bundle: true,
  minify: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2020',
  legalComments: 'none',
  logLevel: 'warning',
});
