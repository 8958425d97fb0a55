/**
 * Relative links and anchors in Markdown files, resolved the way GitHub renders them: a link's target file must exist,
 * and a `#fragment` must be the slug of a heading in that file (or an explicit `<a id>` / `<a name>`).
 */
import * as fs from 'fs';
import * as path from 'path';

export interface BrokenLink {
  file: string;
  line: number;
  target: string;
  reason: string;
}

/** GitHub's heading slug: lower case, punctuation removed (letters, digits, `_`, `-` and spaces kept), spaces → `-`. */
export function headingSlug(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // a link or image in a heading keeps its text
    .replace(/<[^>]+>/g, '')
    .trim()
    .toLowerCase();
  return text.replace(/[^\p{L}\p{N}\p{M} _-]/gu, '').replace(/ /g, '-');
}

/** Every anchor a Markdown file offers: heading slugs (repeats get -1, -2, … as on GitHub) and explicit ids. */
export function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let inFence = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) inFence = !inFence;
    if (inFence) continue;
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading) {
      const slug = headingSlug(heading[1]);
      const count = seen.get(slug) ?? 0;
      seen.set(slug, count + 1);
      anchors.add(count === 0 ? slug : `${slug}-${count}`);
    }
    for (const m of line.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) anchors.add(m[1]);
  }
  return anchors;
}

/** `[text](target)` and `![alt](target)` links outside code (the text may wrap over lines), with their line numbers. */
export function linksOf(markdown: string): { line: number; target: string }[] {
  let inFence = false;
  const prose = markdown
    .split('\n')
    .map((line) => {
      if (/^\s*(```|~~~)/.test(line)) {
        inFence = !inFence;
        return '';
      }
      return inFence ? '' : line.replace(/`[^`]*`/g, '');
    })
    .join('\n');
  const links: { line: number; target: string }[] = [];
  for (const m of prose.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
    links.push({ line: prose.slice(0, m.index).split('\n').length, target: m[1] });
  }
  return links;
}

/** The links of `file` that do not resolve: a missing file, or an anchor its target file does not have. */
export function brokenLinks(file: string): BrokenLink[] {
  const markdown = fs.readFileSync(file, 'utf8');
  const broken: BrokenLink[] = [];
  for (const { line, target } of linksOf(markdown)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // http:, https:, mailto: — not checked offline
    const [filePart, fragment] = splitFragment(target);
    const resolved = filePart === '' ? file : path.resolve(path.dirname(file), decodeURIComponent(filePart));
    if (!fs.existsSync(resolved)) {
      broken.push({ file, line, target, reason: `no such file ${resolved}` });
      continue;
    }
    if (fragment === undefined || !resolved.endsWith('.md')) continue;
    if (!anchorsOf(fs.readFileSync(resolved, 'utf8')).has(decodeURIComponent(fragment))) {
      broken.push({ file, line, target, reason: `no heading with anchor #${fragment} in ${resolved}` });
    }
  }
  return broken;
}

function splitFragment(target: string): [string, string | undefined] {
  const hash = target.indexOf('#');
  return hash < 0 ? [target, undefined] : [target.slice(0, hash), target.slice(hash + 1)];
}
