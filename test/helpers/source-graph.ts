/**
 * Reads the repository's own TypeScript with the compiler API: which file imports which (relative
 * imports, the `spikestream` path aliases and the workspace package `aedat-parser-ts`), the import cycles among them, and the functions
 * longer than a limit. Used by the architecture tests and `scripts/architecture.ts`.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';
import { repoRoot } from './paths';

/** Repository-relative file → the repository-relative files it imports (type-only imports included). */
export type ImportGraph = Map<string, string[]>;

const aliases: Record<string, string> = {
  spikestream: 'index.ts',
  'spikestream/operators': 'streams/operators/index.ts',
  'spikestream/sources': 'streams/sources/index.ts',
  'spikestream/sinks': 'streams/sinks/index.ts',
  'aedat-parser-ts': 'packages/aedat-parser-ts/src/index.ts',
  'aedat-parser-ts/node': 'packages/aedat-parser-ts/src/node.ts',
};

/** The repository's own code: the application and the workspace package's sources (not tests, benchmarks or scripts). */
export const SOURCE_ROOTS: readonly string[] = ['index.ts', 'src', 'streams', 'packages/aedat-parser-ts/src'];

/** Every `.ts` file (not `.d.ts`) below `dirs`, repository-relative, sorted. */
export function sourceFiles(dirs: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    const abs = path.join(repoRoot, rel);
    if (!fs.existsSync(abs)) return;
    if (fs.statSync(abs).isFile()) {
      if (rel.endsWith('.ts') && !rel.endsWith('.d.ts')) out.push(rel);
      return;
    }
    for (const name of fs.readdirSync(abs)) walk(path.posix.join(rel, name));
  };
  for (const d of dirs) walk(d);
  return out.sort();
}

function parse(rel: string): ts.SourceFile {
  return ts.createSourceFile(rel, fs.readFileSync(path.join(repoRoot, rel), 'utf8'), ts.ScriptTarget.ES2022, true);
}

function resolveSpecifier(from: string, spec: string): string | undefined {
  if (aliases[spec]) return aliases[spec];
  if (!spec.startsWith('.')) return undefined;
  // The package's sources name their imports as compiled ES modules do (`./x.js` for x.ts).
  const base = path.posix.normalize(path.posix.join(path.posix.dirname(from), spec.replace(/\.js$/, '')));
  for (const candidate of [`${base}.ts`, `${base}/index.ts`, base]) {
    if (candidate.endsWith('.ts') && fs.existsSync(path.join(repoRoot, candidate))) return candidate;
  }
  return undefined;
}

/** The module specifiers a file names: import/export declarations, `import()` and `require()`. */
function specifiers(sf: ts.SourceFile): string[] {
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      found.push(node.moduleSpecifier.text);
    } else if (ts.isCallExpression(node) && node.arguments.length === 1 && ts.isStringLiteral(node.arguments[0])) {
      const callee = node.expression;
      if (callee.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(callee) && callee.text === 'require')) found.push(node.arguments[0].text);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

/** The import graph of `files` (edges to files outside the list are kept: they are still imports). */
export function importGraph(files: readonly string[]): ImportGraph {
  const graph: ImportGraph = new Map();
  for (const f of files) {
    const targets = specifiers(parse(f)).map((s) => resolveSpecifier(f, s)).filter((t): t is string => t !== undefined);
    graph.set(f, [...new Set(targets)].sort());
  }
  return graph;
}

/** The strongly connected components with more than one file (or a file importing itself): each is a cycle. */
export function importCycles(graph: ImportGraph): string[][] {
  // Tarjan's algorithm, iterative-free recursion is fine at this repository's depth.
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const strongConnect = (v: string): void => {
    idx.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!idx.has(w)) {
        strongConnect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, idx.get(w)!));
      }
    }
    if (low.get(v) === idx.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) cycles.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) strongConnect(v);
  return cycles;
}

/** The room a file lives in: its first two path segments (`src/server`, `streams/core`), or the file for top-level files. */
export function roomOf(file: string): string {
  const parts = file.split('/');
  return parts.length > 2 ? `${parts[0]}/${parts[1]}` : file;
}

/** Room → the rooms it imports from (its own excluded). */
export function roomGraph(graph: ImportGraph): Map<string, Set<string>> {
  const rooms = new Map<string, Set<string>>();
  for (const [from, targets] of graph) {
    const r = roomOf(from);
    const set = rooms.get(r) ?? new Set<string>();
    for (const t of targets) if (roomOf(t) !== r) set.add(roomOf(t));
    rooms.set(r, set);
  }
  return rooms;
}

export interface LongFunction {
  file: string;
  line: number;
  name: string;
  lines: number;
  /** The comment that exempts it (a decoder inner loop), when there is one. */
  exempt: boolean;
}

/** The marker that exempts a decoder's inner loop from the length limit; it must say why next to it. */
export const innerLoopMarker = 'decoder inner loop:';

function functionName(node: ts.Node): string {
  const named = node as ts.Node & { name?: ts.Node };
  if (named.name && (ts.isIdentifier(named.name) || ts.isPrivateIdentifier(named.name) || ts.isStringLiteral(named.name))) {
    const owner = node.parent && ts.isClassLike(node.parent) && node.parent.name ? `${node.parent.name.text}.` : '';
    return owner + named.name.text;
  }
  if (ts.isConstructorDeclaration(node)) return `${(node.parent as ts.ClassLikeDeclaration).name?.text ?? 'class'}.constructor`;
  const parent = node.parent;
  if (parent && ts.isVariableDeclaration(parent) && ts.isIdentifier(parent.name)) return parent.name.text;
  if (parent && ts.isPropertyAssignment(parent) && ts.isIdentifier(parent.name)) return parent.name.text;
  return '(anonymous)';
}

/** Every function, method, constructor, accessor or arrow in `files` whose body spans more than `limit` lines. */
export function longFunctions(files: readonly string[], limit: number): LongFunction[] {
  const out: LongFunction[] = [];
  for (const file of files) {
    const sf = parse(file);
    const text = sf.getFullText();
    const visit = (node: ts.Node): void => {
      if (ts.isFunctionLike(node) && 'body' in node && node.body) {
        const start = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
        const end = sf.getLineAndCharacterOfPosition(node.getEnd()).line;
        const lines = end - start + 1;
        if (lines > limit) {
          const comments = ts.getLeadingCommentRanges(text, node.getFullStart()) ?? [];
          const exempt = comments.some((c) => text.slice(c.pos, c.end).includes(innerLoopMarker));
          out.push({ file, line: start + 1, name: functionName(node), lines, exempt });
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return out.sort((a, b) => b.lines - a.lines);
}
