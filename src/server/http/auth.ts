/**
 * Bearer-token check for the WebSocket endpoints: `Authorization: Bearer <token>` or
 * `?token=<token>`. Both sides are hashed (SHA-256) before a constant-time comparison, so that
 * neither the token's length nor its prefix leaks through timing. Node keeps only the first of
 * duplicated `Authorization` headers; a header that is not a Bearer one falls back to the query.
 */
import type * as http from 'http';
import { createHash, timingSafeEqual } from 'crypto';
import type { Refusal } from './respond';

export type TokenCheck = (req: http.IncomingMessage, query: URLSearchParams) => boolean;

export const UNAUTHORIZED: Refusal = { status: 401, message: 'missing or wrong token', headers: { 'WWW-Authenticate': 'Bearer' } };

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/** A check that admits everyone when `token` is undefined. */
export function tokenCheck(token: string | undefined): TokenCheck {
  if (token === undefined) return () => true;
  const expected = digest(token);
  return (req, query) => {
    let given: string | undefined;
    const auth = req.headers.authorization;
    if (typeof auth === 'string') {
      const m = /^Bearer[ \t]+(\S.*)$/i.exec(auth.trim());
      if (m) given = m[1].trim();
    }
    given ??= query.get('token') ?? undefined;
    return given !== undefined && timingSafeEqual(digest(given), expected);
  };
}
