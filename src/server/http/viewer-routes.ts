/**
 * The viewer page's plain HTTP routes (the page's feeds are the `/decisions?trace=1` and
 * `/preview` WebSockets):
 *
 * - `GET /` → viewer/index.html; `GET /viewer/<file>` → the other files of viewer/ (a flat
 *   folder: HTML, CSS, JS); `GET /viewer/vendor/uPlot.iife.min.js` and `uPlot.min.css` → uPlot
 *   from node_modules; `GET /viewer/vendor/aedat-parser-ts.js` → aedat-parser-ts's browser build,
 *   which decodes event files dropped on the page. Everything is served from the package: the page works offline, and its
 *   Content-Security-Policy forbids any other origin. These are public, like /health.
 * - `GET /viewer/config.json` (the model: classes, θ, T, input size; the preview rate) and
 *   `GET /viewer/figures.json` (the service's figures, see ../viewer.ts): the page's data, so
 *   they need the token when the service has one (`?token=` or `Authorization: Bearer`), 401
 *   otherwise.
 *
 * The files are read once, when the server is created; a missing viewer folder gives 404s that
 * say where it was looked for, never an exception.
 */
import * as fs from 'fs';
import type * as http from 'http';
import * as path from 'path';
import type { ServiceMetrics } from '../metrics';
import type { StreamStatus } from '../types';
import { viewerFigures, type ViewerConfig } from '../viewer';
import { UNAUTHORIZED, type TokenCheck } from './auth';
import type { RequestTarget } from './request-target';
import { sendBody, type Refusal } from './respond';

export interface ViewerRouteDeps {
  readonly metrics: ServiceMetrics;
  readonly authorized: TokenCheck;
  readonly config: () => ViewerConfig;
  readonly streams: () => StreamStatus[];
}

interface Asset {
  readonly type: string;
  readonly body: Buffer;
}

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};
const ASSET_NAME_RE = /^[A-Za-z0-9_-]+\.(html|css|js|svg|png)$/;
/** Same origin only: no CDN, no inline script; WebSockets to this host (CSP3 'self' covers ws:). */
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** The folder holding the viewer's files: `viewer/` in the nearest folder above the compiled code that has one. */
export function viewerDir(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'viewer', 'index.html'))) return path.join(dir, 'viewer');
    if (path.dirname(dir) === dir) return path.resolve(__dirname, '..', '..', '..', '..', 'viewer');
  }
}

/** Every servable file of the viewer folder (flat), uPlot's two files and aedat-parser-ts's browser build, by URL path. */
export function loadViewerAssets(dir = viewerDir()): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  const add = (urlPath: string, file: string): void => {
    assets.set(urlPath, { type: TYPES[path.extname(file)] ?? 'application/octet-stream', body: fs.readFileSync(file) });
  };
  if (fs.existsSync(dir)) {
    for (const name of fs.readdirSync(dir)) if (ASSET_NAME_RE.test(name) && fs.statSync(path.join(dir, name)).isFile()) add(`/viewer/${name}`, path.join(dir, name));
  }
  const index = assets.get('/viewer/index.html');
  if (index) assets.set('/', index);
  const uplot = path.join(path.dirname(require.resolve('uplot/package.json')), 'dist');
  for (const name of ['uPlot.iife.min.js', 'uPlot.min.css']) add(`/viewer/vendor/${name}`, path.join(uplot, name));
  // The page decodes dropped event files with aedat-parser-ts's browser build (one ES module).
  add('/viewer/vendor/aedat-parser-ts.js', require.resolve('aedat-parser-ts/browser'));
  return assets;
}

export class ViewerRoutes {
  private readonly assets: Map<string, Asset>;
  /** Why `/` cannot be served, when the viewer folder is missing. */
  private readonly missing: string | undefined;

  constructor(
    private readonly deps: ViewerRouteDeps,
    dir = viewerDir(),
  ) {
    this.assets = loadViewerAssets(dir);
    if (!this.assets.has('/')) this.missing = `viewer files not found in ${dir}`;
  }

  /** True when `target` is one of the viewer's paths (then it is answered, or refused through `refuse`). */
  handle(req: http.IncomingMessage, res: http.ServerResponse, target: RequestTarget, refuse: (r: Refusal) => void): boolean {
    const p = target.path;
    if (p === '/viewer/config.json' || p === '/viewer/figures.json') {
      if (!this.deps.authorized(req, target.query)) refuse(UNAUTHORIZED);
      else if (p === '/viewer/config.json') sendJson(req, res, this.deps.config());
      else
        viewerFigures(this.deps.metrics, this.deps.streams()).then(
          (f) => sendJson(req, res, f),
          () => refuse({ status: 500, message: 'internal error' }),
        );
      return true;
    }
    if (p !== '/' && !p.startsWith('/viewer/')) return false;
    const asset = this.assets.get(p);
    if (!asset) {
      refuse({ status: 404, message: this.missing ?? 'not found' });
      return true;
    }
    res.writeHead(200, {
      'Content-Type': asset.type,
      'Content-Length': asset.body.length,
      'Cache-Control': 'no-cache',
      'Content-Security-Policy': CSP,
      'X-Content-Type-Options': 'nosniff',
    });
    res.end(req.method === 'HEAD' ? undefined : asset.body);
    return true;
  }
}

function sendJson(req: http.IncomingMessage, res: http.ServerResponse, body: object): void {
  sendBody(req, res, 200, 'application/json; charset=utf-8', JSON.stringify(body));
}
