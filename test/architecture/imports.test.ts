import { expect } from 'chai';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { repoRoot } from '../helpers/paths';
import { importCycles, importGraph, longFunctions, roomGraph, roomOf, SOURCE_ROOTS, sourceFiles, type ImportGraph } from '../helpers/source-graph';

const architectureDoc = path.join(repoRoot, 'docs', 'architecture.md');

/** The "Rooms" table of docs/architecture.md: room → the rooms it may import ("every …" spelled out). */
function allowedImports(rooms: readonly string[]): Map<string, Set<string>> {
  const text = fs.readFileSync(architectureDoc, 'utf8');
  const section = text.slice(text.indexOf('## Rooms'));
  const allowed = new Map<string, Set<string>>();
  for (const line of section.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    const room = /^`([^`]+)`$/.exec(cells[1] ?? '')?.[1];
    if (!room || cells.length < 5) continue;
    const may = cells[3];
    const named = [...may.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
    const set = new Set<string>(['src/defaults.ts']);
    if (may.startsWith('every room but')) {
      for (const r of rooms) if (r !== room && !named.includes(r)) set.add(r);
    } else {
      if (may.includes('every `streams/` room')) for (const r of rooms) if (r.startsWith('streams/')) set.add(r);
      for (const r of named.filter((n) => n !== 'streams/')) set.add(r);
    }
    allowed.set(room, set);
  }
  return allowed;
}

/** The first file-level import that makes `from` (a room) import `to` (a room), for the failure message. */
function exampleImport(graph: ImportGraph, from: string, to: string): string {
  for (const [file, targets] of graph) {
    if (roomOf(file) !== from) continue;
    const t = targets.find((x) => roomOf(x) === to);
    if (t) return `${file} → ${t}`;
  }
  return `${from} → ${to}`;
}

describe('architecture: imports', () => {
  const files = sourceFiles(SOURCE_ROOTS);
  const graph = importGraph(files);

  it('reads the real import graph (sanity: the engine imports the scheduler, index.ts the operators)', () => {
    expect(files.length).to.be.greaterThan(150);
    expect(graph.get('streams/core/engine.ts')).to.include('src/snn/scheduler.ts');
    expect(graph.get('index.ts')).to.include('streams/operators/index.ts');
  });

  it('finds a cycle when there is one (the check can fail)', () => {
    const g: ImportGraph = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts']],
      ['d.ts', ['a.ts']],
    ]);
    expect(importCycles(g)).to.deep.equal([['a.ts', 'b.ts', 'c.ts']]);
  });

  it('has no import cycle between the files of index.ts, src/ and streams/', () => {
    expect(importCycles(graph).map((c) => c.join(' ↔ '))).to.deep.equal([]);
  });

  it('has no import cycle between rooms, and every room imports only what docs/architecture.md allows', () => {
    const rooms = roomGraph(graph);
    const allowed = allowedImports([...rooms.keys()]);
    const missing = [...rooms.keys()].filter((r) => !allowed.has(r));
    expect(missing, 'rooms without a row in docs/architecture.md').to.deep.equal([]);
    const roomEdges: ImportGraph = new Map([...rooms].map(([r, deps]) => [r, [...deps]]));
    expect(importCycles(roomEdges).map((c) => c.join(' ↔ '))).to.deep.equal([]);
    const forbidden: string[] = [];
    for (const [room, deps] of rooms) {
      for (const d of deps) if (!allowed.get(room)!.has(d)) forbidden.push(exampleImport(graph, room, d));
    }
    expect(forbidden, 'imports the Rooms table of docs/architecture.md does not allow').to.deep.equal([]);
  });

  it('has no function over 80 lines but the marked decoder inner loops (the check sees them: it can fail)', () => {
    const long = longFunctions(files, 80);
    // The exempt ones prove the measure finds long functions; each must carry its marker's reason.
    expect(long.filter((f) => f.exempt).length, 'exempt decoder inner loops found').to.be.greaterThan(0);
    expect(long.filter((f) => !f.exempt).map((f) => `${f.file}:${f.line} ${f.name} ${f.lines} lines`)).to.deep.equal([]);
  });

  it("import 'spikestream' does not load TF.js; a tensor runner does", function () {
    this.timeout(120_000);
    const script = `
      const s = require('./dist/index.js');
      const loaded = () => Object.keys(require.cache).some((k) => k.includes('@tensorflow'));
      const before = loaded();
      const model = s.loadClassifierModel('models/gesture');
      s.createRunner(model.net, 1, 'typed');
      const typed = loaded();
      s.createRunner(model.net, 1, 'tensor');
      console.log(JSON.stringify({ before, typed, tensor: loaded() }));`;
    const out = JSON.parse(execFileSync('node', ['-e', script], { cwd: repoRoot, encoding: 'utf8' }).trim()) as Record<string, boolean>;
    expect(out).to.deep.equal({ before: false, typed: false, tensor: true });
  });
});
