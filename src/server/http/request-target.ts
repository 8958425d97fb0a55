/**
 * Reading what a peer asked for without ever throwing: the request target (RFC 9112 §3.2),
 * its path segments and its query. Anything we cannot read is a `Refusal` (400), never an
 * exception in a request handler.
 *
 * - origin-form `/path?query` is split by hand: `new URL('//x/y', base)` would read `//x` as a
 *   host, and `new URL` throws on targets such as `http://[/`;
 * - absolute-form `http://host/path?query` (what proxies send) is accepted for http, https, ws
 *   and wss and routed by its path; any other scheme, or one that does not parse, is a 400;
 * - asterisk-form `*` and anything else is a 400 (OPTIONS and CONNECT get their 405 earlier).
 *
 * Queries are read with `URLSearchParams`, which never throws: a bad escape such as `%zz` stays
 * as written and an invalid UTF-8 sequence such as `%ff` becomes U+FFFD, which no stream id or
 * token matches.
 */
import type { Refusal } from './respond';

export interface RequestTarget {
  /** The raw path (not percent-decoded), e.g. `/ingest/cam0`. */
  readonly path: string;
  readonly query: URLSearchParams;
}

const ABSOLUTE_FORM = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//;
const SERVED_SCHEMES = new Set(['http', 'https', 'ws', 'wss']);

export function parseRequestTarget(raw: string | undefined): RequestTarget | Refusal {
  if (raw === undefined || raw.length === 0) return badTarget('empty request target');
  if (raw.startsWith('/')) {
    const q = raw.indexOf('?');
    const hash = raw.indexOf('#');
    const end = hash >= 0 ? hash : raw.length;
    const path = q >= 0 && q < end ? raw.slice(0, q) : raw.slice(0, end);
    const query = q >= 0 && q < end ? raw.slice(q + 1, end) : '';
    return { path, query: new URLSearchParams(query) };
  }
  const scheme = ABSOLUTE_FORM.exec(raw)?.[1].toLowerCase();
  if (scheme !== undefined) {
    if (!SERVED_SCHEMES.has(scheme)) return badTarget(`scheme '${scheme.slice(0, 16)}' is not served here`);
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      return badTarget('request target is not a valid URL');
    }
    return { path: url.pathname, query: url.searchParams };
  }
  if (raw === '*') return badTarget("'*' is only for OPTIONS");
  return badTarget("request target must start with '/'");
}

/** A percent-decoded path segment, or undefined when its escapes are not valid UTF-8. */
export function decodePathSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

export function isRefusal<T extends object>(x: T | Refusal): x is Refusal {
  return 'status' in x && typeof (x as Refusal).status === 'number';
}

function badTarget(message: string): Refusal {
  return { status: 400, message };
}
