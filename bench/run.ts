/** `npm run bench <name> [args]` → runs bench/<name>.ts; each also has its own `npm run bench:<name>` script. */
import * as path from 'path';

/** The benchmarks (the other files in bench/ are their shared helpers: cameras, common, gen-files, service-child, wire-cameras). */
export const BENCHMARKS = ['io', 'snn', 'emulator', 'confidence', 'pipeline', 'cluster', 'viewer', 'soak', 'live-inputs'] as const;

function main(): void {
  const [name, ...rest] = process.argv.slice(2);
  if (!name || !(BENCHMARKS as readonly string[]).includes(name)) {
    process.stderr.write(`usage: npm run bench <${BENCHMARKS.join('|')}> [options]\n`);
    process.exit(2);
  }
  process.argv = [process.argv[0], path.join(__dirname, `${name}.js`), ...rest];
  require(path.join(__dirname, `${name}.js`));
}

if (require.main === module) main();
