/**
 * Prints the architecture figures the import-cycle test keeps: import cycles, the rooms each room
 * imports, and the functions over 80 lines. `node dist/scripts/architecture.js [--json]`.
 */
import { importCycles, importGraph, longFunctions, roomGraph, SOURCE_ROOTS, sourceFiles } from '../test/helpers/source-graph';

const files = sourceFiles(SOURCE_ROOTS);
const graph = importGraph(files);
const cycles = importCycles(graph);
const long = longFunctions(files, 80);
const rooms = [...roomGraph(graph)].map(([room, deps]) => ({ room, imports: [...deps].sort() })).sort((a, b) => a.room.localeCompare(b.room));
if (process.argv.includes('--json')) {
  console.log(JSON.stringify({ files: files.length, cycles, longFunctions: long, rooms }));
} else {
  console.log(`${files.length} files, ${cycles.length} import cycles, ${long.filter((f) => !f.exempt).length} functions over 80 lines (${long.filter((f) => f.exempt).length} exempt decoder loops)`);
  for (const c of cycles) console.log(`cycle: ${c.join(' ↔ ')}`);
  for (const f of long) console.log(`long: ${f.file}:${f.line} ${f.name} ${f.lines} lines${f.exempt ? ' (decoder inner loop)' : ''}`);
  for (const r of rooms) console.log(`room ${r.room} → ${r.imports.join(', ')}`);
}
