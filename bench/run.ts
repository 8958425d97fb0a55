/** `npm run bench <name> [args]` → runs bench/<name>.ts (io, snn, emulator, confidence, pipeline). */
import * as fs from 'fs';
import * as path from 'path';

const [name, ...rest] = process.argv.slice(2);
const available = fs
  .readdirSync(__dirname)
  .filter((f) => f.endsWith('.js') && !['run.js', 'common.js'].includes(f) && !f.startsWith('gen'))
  .map((f) => f.replace(/\.js$/, ''));
if (!name || !available.includes(name)) {
  process.stderr.write(`usage: npm run bench <${available.join('|')}> [options]\n`);
  process.exit(2);
}
process.argv = [process.argv[0], path.join(__dirname, `${name}.js`), ...rest];
require(path.join(__dirname, `${name}.js`));
