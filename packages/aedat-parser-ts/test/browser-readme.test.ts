/**
 * The package README's browser example, run as it is: its HTML page and the browser build served
 * from 127.0.0.1, opened in Debian's Chromium (puppeteer-core, as spikestream's viewer tests do),
 * a real EVT 3.0 recording chosen in its file input; what the page logs must match Node's decode.
 */
import { expect } from 'chai';
import * as fs from 'fs';
import * as http from 'http';
import type { AddressInfo } from 'net';
import * as path from 'path';
import { summarizeEventFile } from 'aedat-parser-ts/node';
import { closeBrowser, findChromium, launchBrowser, NO_CHROMIUM, type LaunchedBrowser } from '../../../test/viewer/browser';
import { waitFor } from '../../../test/helpers/time';
import { sharedRecording } from './helpers/recordings';

const packageDir = path.resolve('packages', 'aedat-parser-ts');

function readmeHtml(): string {
  const readme = fs.readFileSync(path.join(packageDir, 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/^```html\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
  expect(blocks.length, 'html examples in the README').to.equal(1);
  return blocks[0];
}

describe("aedat-parser-ts: the README's browser example in Chromium", function () {
  this.timeout(60_000);
  let browser: LaunchedBrowser | undefined;
  let server: http.Server | undefined;

  after(async () => {
    await closeBrowser(browser);
    await new Promise((r) => (server ? server.close(r) : r(undefined)));
  });

  it('decodes a chosen EVT 3.0 file in the page: the count and sensor size it logs are Node\u2019s', async () => {
    const exe = findChromium();
    if (!exe) throw new Error(NO_CHROMIUM);
    const files: Record<string, [string, Buffer]> = {
      '/': ['text/html', Buffer.from(`<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,">${readmeHtml()}`)],
      '/aedat-parser-ts.min.js': ['text/javascript', fs.readFileSync(path.join(packageDir, 'dist', 'browser', 'aedat-parser-ts.min.js'))],
    };
    server = http.createServer((req, res) => {
      const f = files[req.url ?? ''];
      res.writeHead(f ? 200 : 404, { 'Content-Type': f ? f[0] : 'text/plain' });
      res.end(f ? f[1] : 'not found');
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    browser = await launchBrowser(exe);
    const page = await browser.browser.newPage();
    const logged: string[] = [];
    page.on('console', (m) => void logged.push(`${m.type()}: ${m.text()}`));
    page.on('pageerror', (e: unknown) => void logged.push(`pageerror: ${e instanceof Error ? e.message : String(e)}`));
    await page.goto(url, { waitUntil: 'load' });
    const file = sharedRecording('prophesee_evt3_expelliarmus_sample.raw');
    const input = await page.$('#pick');
    if (!input) throw new Error('the example has no #pick input');
    await (input as unknown as { uploadFile(p: string): Promise<void> }).uploadFile(file);
    await waitFor(() => logged.length > 0, 30_000, 'the page logs its decode', 50);
    const node = await summarizeEventFile(file);
    expect(logged).to.deep.equal([`log: prophesee_evt3_expelliarmus_sample.raw: ${node.events} events, ${node.geometry?.width}×${node.geometry?.height}`]);
  });
});
