/**
 * `--input URL`: where a live input comes from, what the service calls it, and its per-stream
 * settings. Forms:
 *
 * - `udp://HOST:PORT?format=F&width=W&height=H` (F: spif, spif-ts, t64_x16_y16_on8, t32_x16_y15_on1);
 *   binds HOST (127.0.0.1, or 0.0.0.0 to take datagrams from other machines);
 * - `dv+tcp://HOST:PORT`, `dv+unix:///path` (an iniVation DV network stream; we connect);
 * - `-` (stdin) or a path (a file or a FIFO) holding a raw EVT 2.0 / EVT 3.0 / AEDAT stream.
 *
 * Any form takes `fit=` and `roi=` in its query (the service's per-stream fit, as on
 * `/ingest/<id>?fit=…`) and `#ID` at the end to name the stream (default: `udp-PORT`,
 * `dv-HOST-PORT`, `dv-<socket name>`, `stdin`, the file's name without extension).
 */
import * as path from 'path';
import { parseDvUrl, type DvEndpoint } from '../../streams/sources/from-dv-network';
import { isUdpFormat, UDP_FORMATS, type UdpFormat } from '../../streams/sources/udp-formats';
import { STREAM_ID_RE } from './subscribers';

interface InputCommon {
  /** The stream id decisions carry. */
  readonly id: string;
  /** What the user wrote (for messages). */
  readonly text: string;
  /** The per-stream settings (`fit`, `roi`) and, for UDP, the format and size. */
  readonly params: URLSearchParams;
}

export type InputSpec = InputCommon &
  (
    | { readonly kind: 'udp'; readonly host: string; readonly port: number; readonly format: UdpFormat; readonly width: number; readonly height: number }
    | { readonly kind: 'dv'; readonly endpoint: DvEndpoint }
    | { readonly kind: 'readable'; readonly path: string | '-' }
  );

/** A `--input` that cannot be used: what and why, in one line. */
export class InputUrlError extends Error {
  override readonly name = 'InputUrlError';
}

/** Splits `#ID` off the end (checked against the stream-id rule). */
function splitId(text: string): { rest: string; id: string | undefined } {
  const hash = text.lastIndexOf('#');
  if (hash < 0) return { rest: text, id: undefined };
  const id = text.slice(hash + 1);
  if (!STREAM_ID_RE.test(id)) throw new InputUrlError(`${text}: '#${id}' is not a stream id (1-64 of A-Z a-z 0-9 _ . : -)`);
  return { rest: text.slice(0, hash), id };
}

/** A positive integer query parameter, or a one-line error naming it. */
function dimension(u: URL, name: 'width' | 'height', text: string): number {
  const v = u.searchParams.get(name);
  const n = v === null ? NaN : Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 32768) {
    throw new InputUrlError(`${text}: UDP carries no sensor size: give ${name}=1..32768 (e.g. ?format=spif&width=128&height=128)`);
  }
  return n;
}

function udpSpec(u: URL, text: string, id: string | undefined): InputSpec {
  const port = Number(u.port);
  if (u.port === '' || !Number.isInteger(port) || port < 1 || port > 65535) throw new InputUrlError(`${text}: a UDP input needs a port (udp://127.0.0.1:3333?…)`);
  const format = u.searchParams.get('format');
  if (format === null || !isUdpFormat(format)) {
    throw new InputUrlError(`${text}: format=${format ?? '(missing)'} is not a UDP format: one of ${UDP_FORMATS.join(', ')}`);
  }
  const host = u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
  return { kind: 'udp', id: id ?? `udp-${port}`, text, params: u.searchParams, host, port, format, width: dimension(u, 'width', text), height: dimension(u, 'height', text) };
}

function dvSpec(u: URL, rest: string, text: string, id: string | undefined): InputSpec {
  let endpoint: DvEndpoint;
  try {
    endpoint = parseDvUrl(rest.split('?')[0]);
  } catch (err) {
    throw new InputUrlError((err as Error).message);
  }
  const fallback = endpoint.kind === 'tcp' ? `dv-${endpoint.host}-${endpoint.port}` : `dv-${path.basename(endpoint.path).replace(/[^A-Za-z0-9_.:-]/g, '_')}`;
  return { kind: 'dv', id: id ?? fallback.slice(0, 64), text, params: u.searchParams, endpoint };
}

/** `-` or a path, with an optional `?fit=…&roi=…` (only when what follows `?` is a query of known keys). */
function readableSpec(rest: string, text: string, id: string | undefined): InputSpec {
  const q = rest.lastIndexOf('?');
  const query = q >= 0 ? new URLSearchParams(rest.slice(q + 1)) : undefined;
  const isQuery = query !== undefined && [...query.keys()].length > 0 && [...query.keys()].every((k) => k === 'fit' || k === 'roi');
  const file = isQuery ? rest.slice(0, q) : rest;
  if (file === '') throw new InputUrlError(`${text}: no path (use - for stdin)`);
  const fallback = file === '-' ? 'stdin' : path.basename(file).replace(/\.[^.]*$/, '').replace(/[^A-Za-z0-9_.:-]/g, '_').slice(0, 64) || 'input';
  return { kind: 'readable', id: id ?? fallback, text, params: isQuery ? query : new URLSearchParams(), path: file };
}

/** One `--input` → its spec, or an `InputUrlError` saying what is wrong. */
export function parseInputUrl(text: string): InputSpec {
  const { rest, id } = splitId(text.trim());
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(rest)?.[1]?.toLowerCase();
  if (scheme === undefined) return readableSpec(rest, text, id);
  let u: URL;
  try {
    u = new URL(rest);
  } catch {
    throw new InputUrlError(`${text}: not a URL`);
  }
  if (scheme === 'udp') return udpSpec(u, text, id);
  if (scheme === 'dv+tcp' || scheme === 'dv+unix') return dvSpec(u, rest, text, id);
  throw new InputUrlError(`${text}: unknown input scheme '${scheme}://' (udp://, dv+tcp://, dv+unix://, - or a path)`);
}

/** Every `--input`, with stream ids that differ. */
export function parseInputUrls(texts: readonly string[]): InputSpec[] {
  const specs = texts.map(parseInputUrl);
  const seen = new Set<string>();
  for (const s of specs) {
    if (seen.has(s.id)) throw new InputUrlError(`two inputs are named '${s.id}': name them apart with #ID at the end of each URL`);
    seen.add(s.id);
  }
  return specs;
}
