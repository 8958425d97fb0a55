/**
 * Prints the architecture figures the architecture tests keep: import cycles, the rooms each room
 * imports, the functions over 80 lines, and the crossings between src/server and streams/ on the
 * walk from a WebSocket message to a subscriber's decision (measured on a running service, about
 * a second). `node dist/scripts/architecture.js [--json]`.
 */
import { importCycles, importGraph, longFunctions, roomGraph, SOURCE_ROOTS, sourceFiles } from '../test/helpers/source-graph';
import { measureWebSocketWalk, type WalkRoom } from '../test/helpers/crossings';

const files = sourceFiles(SOURCE_ROOTS);
const graph = importGraph(files);
const cycles = importCycles(graph);
const long = longFunctions(files, 80);
const rooms = [...roomGraph(graph)].map(([room, deps]) => ({ room, imports: [...deps].sort() })).sort((a, b) => a.room.localeCompare(b.room));

/** The walk with each stay in a room written once. */
function stays(walk: readonly WalkRoom[]): string {
  return walk.filter((r, i) => i === 0 || r !== walk[i - 1]).join(' → ');
}

async function main(): Promise<void> {
  const walk = await measureWebSocketWalk();
  if (process.argv.includes('--json')) {
    console.log(JSON.stringify({ files: files.length, cycles, longFunctions: long, rooms, webSocketWalk: { crossings: walk.crossings, rooms: stays(walk.walk), entry: walk.entry, exit: walk.exit, serverCalls: walk.serverCalls } }));
    return;
  }
  console.log(`${files.length} files, ${cycles.length} import cycles, ${long.filter((f) => !f.exempt).length} functions over 80 lines (${long.filter((f) => f.exempt).length} exempt decoder loops)`);
  for (const c of cycles) console.log(`cycle: ${c.join(' ↔ ')}`);
  for (const f of long) console.log(`long: ${f.file}:${f.line} ${f.name} ${f.lines} lines${f.exempt ? ' (decoder inner loop)' : ''}`);
  for (const r of rooms) console.log(`room ${r.room} → ${r.imports.join(', ')}`);
  console.log(`WebSocket message → subscriber decision: ${walk.crossings} crossings between src/server and streams/ (${stays(walk.walk)})`);
  console.log(`  src/server hooks that ran meanwhile and returned: ${walk.serverCalls.join(', ')}`);
}

main().catch((err: unknown) => {
  console.error(`architecture: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
