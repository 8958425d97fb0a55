/**
 * The IOHeader's XML description, read and written: a small XML reader for DV's description
 * (elements, attributes, text, comments, PIs, CDATA) that yields the `outInfo` stream table,
 * and the DV-style description our writer stores.
 */
import type { Geometry } from '../geometry.js';
import type { Aedat4StreamInfo } from './spec.js';

interface XmlNode {
  tag: string;
  attrs: Record<string, string>;
  children: XmlNode[];
  text: string;
}

export class XmlError extends Error {
  constructor(
    readonly at: number,
    readonly reason: string,
  ) {
    super(reason);
  }
}

function xmlUnescape(s: string, at: number): string {
  if (s.indexOf('&') < 0) return s;
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);/g, (all, e: string) => {
    if (e === 'lt') return '<';
    if (e === 'gt') return '>';
    if (e === 'amp') return '&';
    if (e === 'quot') return '"';
    if (e === 'apos') return "'";
    if (e[0] === '#') {
      const cp = e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      if (!(cp >= 0 && cp <= 0x10ffff)) throw new XmlError(at, `bad character reference ${all}`);
      return String.fromCodePoint(cp);
    }
    return all;
  });
}

const XML_MAX_DEPTH = 128;

const isSpace = (c: string): boolean => c === ' ' || c === '\n' || c === '\r' || c === '\t';

/** The start tag at `lt` (`<tag a="v" …>` or `<tag … />`): its node, whether it closes itself, and the index after it. */
function parseStartTag(s: string, lt: number): { node: XmlNode; selfClosing: boolean; end: number } {
  const n = s.length;
  let j = lt + 1;
  while (j < n && !isSpace(s[j]) && s[j] !== '>' && s[j] !== '/') j++;
  const tag = s.slice(lt + 1, j);
  if (tag.length === 0) throw new XmlError(lt, 'empty tag name');
  const node: XmlNode = { tag, attrs: {}, children: [], text: '' };
  for (;;) {
    while (j < n && isSpace(s[j])) j++;
    if (j >= n) throw new XmlError(lt, `unterminated <${tag}>`);
    if (s[j] === '>') return { node, selfClosing: false, end: j + 1 };
    if (s[j] === '/') {
      if (s[j + 1] !== '>') throw new XmlError(j, `bad '/' in <${tag}>`);
      return { node, selfClosing: true, end: j + 2 };
    }
    const a = j;
    while (j < n && !isSpace(s[j]) && s[j] !== '=' && s[j] !== '>' && s[j] !== '/') j++;
    const key = s.slice(a, j);
    while (j < n && isSpace(s[j])) j++;
    if (key.length === 0 || s[j] !== '=') throw new XmlError(j, `attribute without value in <${tag}>`);
    j++;
    while (j < n && isSpace(s[j])) j++;
    const q = s[j];
    if (q !== '"' && q !== "'") throw new XmlError(j, `unquoted attribute ${key} in <${tag}>`);
    const close = s.indexOf(q, j + 1);
    if (close < 0) throw new XmlError(j, `unterminated attribute ${key}`);
    node.attrs[key] = xmlUnescape(s.slice(j + 1, close), j);
    j = close + 1;
  }
}

/** A small XML reader for DV's description: elements, attributes, text, comments, PIs, CDATA. */
function parseXml(s: string): XmlNode {
  const root: XmlNode = { tag: '#document', attrs: {}, children: [], text: '' };
  const stack: XmlNode[] = [root];
  const n = s.length;
  let i = 0;
  while (i < n) {
    const lt = s.indexOf('<', i);
    const top = stack[stack.length - 1];
    if (lt < 0) {
      top.text += xmlUnescape(s.slice(i), i);
      break;
    }
    if (lt > i) top.text += xmlUnescape(s.slice(i, lt), i);
    if (s.startsWith('<!--', lt)) {
      const e = s.indexOf('-->', lt + 4);
      if (e < 0) throw new XmlError(lt, 'unterminated comment');
      i = e + 3;
    } else if (s.startsWith('<![CDATA[', lt)) {
      const e = s.indexOf(']]>', lt + 9);
      if (e < 0) throw new XmlError(lt, 'unterminated CDATA');
      top.text += s.slice(lt + 9, e);
      i = e + 3;
    } else if (s.startsWith('<?', lt)) {
      const e = s.indexOf('?>', lt + 2);
      if (e < 0) throw new XmlError(lt, 'unterminated processing instruction');
      i = e + 2;
    } else if (s.startsWith('<!', lt)) {
      const e = s.indexOf('>', lt + 2);
      if (e < 0) throw new XmlError(lt, 'unterminated declaration');
      i = e + 1;
    } else if (s[lt + 1] === '/') {
      const e = s.indexOf('>', lt + 2);
      if (e < 0) throw new XmlError(lt, 'unterminated end tag');
      const name = s.slice(lt + 2, e).trim();
      if (stack.length <= 1 || top.tag !== name) throw new XmlError(lt, `unexpected </${name}>`);
      stack.pop();
      i = e + 1;
    } else {
      const { node, selfClosing, end } = parseStartTag(s, lt);
      top.children.push(node);
      if (!selfClosing) {
        if (stack.length > XML_MAX_DEPTH) throw new XmlError(lt, 'XML nested too deeply');
        stack.push(node);
      }
      i = end;
    }
  }
  if (stack.length > 1) throw new XmlError(n, `unclosed <${stack[stack.length - 1].tag}>`);
  return root;
}

function attrValues(node: XmlNode): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of node.children) if (c.tag === 'attr' && c.attrs.key !== undefined) out[c.attrs.key] = c.text.trim();
  return out;
}

function childNode(node: XmlNode, name: string): XmlNode | undefined {
  return node.children.find((c) => c.tag === 'node' && c.attrs.name === name);
}

/** The outInfo streams of a DV description. Throws XmlError. */
export function streamsFromDescription(xml: string): Aedat4StreamInfo[] {
  if (xml.trim().length === 0) return [];
  const doc = parseXml(xml);
  const dv = doc.children.find((c) => c.tag === 'dv');
  if (dv === undefined) throw new XmlError(0, 'description has no <dv> root element');
  const outInfo = childNode(dv, 'outInfo');
  if (outInfo === undefined) return [];
  const streams: Aedat4StreamInfo[] = [];
  for (const c of outInfo.children) {
    if (c.tag !== 'node' || c.attrs.name === undefined || !/^-?\d{1,10}$/.test(c.attrs.name)) continue;
    const id = Number(c.attrs.name);
    if (id < -2147483648 || id > 2147483647) continue;
    const a = attrValues(c);
    const s: Aedat4StreamInfo = { id, typeIdentifier: a.typeIdentifier ?? '' };
    if (a.originalOutputName !== undefined) s.name = a.originalOutputName;
    if (a.compression !== undefined) s.compression = a.compression;
    const infoNode = childNode(c, 'info');
    if (infoNode !== undefined) {
      const info = attrValues(infoNode);
      const dim = (v: string | undefined, key: string): number | undefined => {
        if (v === undefined) return undefined;
        if (!/^\d{1,5}$/.test(v) || Number(v) < 1 || Number(v) > 32767) {
          throw new XmlError(0, `stream ${id}: bad info/${key} '${v.slice(0, 40)}'`);
        }
        return Number(v);
      };
      const w = dim(info.sizeX, 'sizeX');
      const h = dim(info.sizeY, 'sizeY');
      if (w !== undefined) s.width = w;
      if (h !== undefined) s.height = h;
      if (info.source !== undefined) s.source = info.source;
    }
    streams.push(s);
  }
  return streams;
}

function xmlEscape(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] as string);
}

/** DV-style description with one EVTS stream (id 0). */
export function aedat4Description(geometry: Geometry, opts: { compression?: string; sourceName?: string } = {}): string {
  const p = '/mainloop/Recorder/outInfo/';
  const src = xmlEscape(opts.sourceName ?? 'spikestream');
  const comp = xmlEscape(opts.compression ?? 'LZ4');
  return [
    '<dv version="2.0">',
    `    <node name="outInfo" path="${p}">`,
    `        <node name="0" path="${p}0/">`,
    `            <attr key="compression" type="string">${comp}</attr>`,
    '            <attr key="originalModuleName" type="string">spikestream</attr>',
    '            <attr key="originalOutputName" type="string">events</attr>',
    '            <attr key="typeDescription" type="string">Array of events (polarity ON/OFF).</attr>',
    '            <attr key="typeIdentifier" type="string">EVTS</attr>',
    `            <node name="info" path="${p}0/info/">`,
    `                <attr key="sizeX" type="int">${geometry.width}</attr>`,
    `                <attr key="sizeY" type="int">${geometry.height}</attr>`,
    `                <attr key="source" type="string">${src}</attr>`,
    '                <attr key="tsOffset" type="long">0</attr>',
    '            </node>',
    '        </node>',
    '    </node>',
    '</dv>',
    '',
  ].join('\n');
}
