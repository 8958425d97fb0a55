/**
 * The viewer page opens event files in the browser: Debian's Chromium (puppeteer-core) gets the
 * page from a real service, and a real AEDAT 4.0 recording and a real EVT 3.0 recording are
 * dropped on it (a drop event carrying the file, as a drag from the desktop delivers it). The page
 * decodes them with aedat-parser-ts's browser build and plays them through the event image; the
 * counts it reports must equal Node's decode of the same files. Without Chromium the suite
 * fails, saying how to install it (tests never skip).
 */
import { expect } from 'chai';
import * as fs from 'fs';
import * as path from 'path';
import type { Page } from 'puppeteer-core';
import { summarizeEventFile } from 'aedat-parser-ts/node';
import { startService, type Service } from '../../src/server/service';
import { loadClassifierModel } from '../../src/snn/model/classifier-model';
import { repoRoot, sharedRecording } from '../helpers/paths';
import { waitFor } from '../helpers/time';
import { closeBrowser, findChromium, launchBrowser, NO_CHROMIUM, type LaunchedBrowser } from './browser';

interface Shown {
  file?: string;
  format?: string;
  events?: string;
  width?: string;
  height?: string;
  framesPainted?: string;
  error: string | null;
  lit: number;
}

/**
 * In-page helpers, as source text (the tests compile without the DOM's types): `__dropFile`
 * dispatches a drop carrying a File, as the browser delivers a drag from the desktop;
 * `__fileShown` reads what the file panel shows — its data attributes, its error line and the lit
 * (non-background) pixels of its event image.
 */
const PAGE_HELPERS = String.raw`
window.__dropFile = (fileName, base64) => {
  const raw = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  const data = new DataTransfer();
  data.items.add(new File([raw], fileName));
  document.body.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
};
window.__fileShown = () => {
  const panel = document.querySelector('.panel.file');
  const canvas = panel?.querySelector('canvas');
  let lit = 0;
  if (canvas && canvas.width > 0) {
    const copy = new OffscreenCanvas(canvas.width, canvas.height).getContext('2d', { willReadFrequently: true });
    copy.drawImage(canvas, 0, 0);
    const px = copy.getImageData(0, 0, canvas.width, canvas.height).data;
    for (let j = 0; j < px.length; j += 4) if (px[j] > 11 || px[j + 1] > 15 || px[j + 2] > 20) lit++;
  }
  const error = panel?.querySelector('.file-error');
  return { ...(panel?.dataset ?? {}), error: error && !error.hidden ? error.textContent : null, lit };
};`;

interface PageHelpers {
  __dropFile(name: string, base64: string): void;
  __fileShown(): Shown;
}

/** Drops `bytes` as a file named `name` on the page. */
async function dropFile(page: Page, name: string, bytes: Buffer): Promise<void> {
  await page.evaluate((fileName: string, base64: string) => (globalThis as unknown as PageHelpers).__dropFile(fileName, base64), name, bytes.toString('base64'));
}

function shown(page: Page): Promise<Shown> {
  return page.evaluate(() => (globalThis as unknown as PageHelpers).__fileShown());
}

describe('viewer: an event file dropped on the page is decoded there (aedat-parser-ts) and played (Chromium)', function () {
  this.timeout(120_000);
  let browser: LaunchedBrowser | undefined;
  let service: Service;
  let page: Page;
  const problems: string[] = [];
  const requests: string[] = [];

  before(async () => {
    const exe = findChromium();
    if (!exe) throw new Error(NO_CHROMIUM);
    service = await startService({ model: loadClassifierModel(path.join(repoRoot, 'models', 'gesture')), port: 0, viewer: {} });
    browser = await launchBrowser(exe);
    page = await browser.browser.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warn') problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e: unknown) => void problems.push(`page error: ${e instanceof Error ? e.message : String(e)}`));
    page.on('request', (r) => void requests.push(r.url()));
    await page.goto(service.address.url, { waitUntil: 'load' });
    await page.evaluate(PAGE_HELPERS);
  });

  after(async () => {
    await closeBrowser(browser);
    await service?.stop(500);
  });

  for (const [what, recording] of [
    ['AEDAT 4.0 (DV, LZ4)', 'dvs128_dv_dvSave-2024_06_20_16_13_00.aedat4'],
    ['EVT 3.0 (Prophesee RAW)', 'prophesee_evt3_expelliarmus_sample.raw'],
  ] as const) {
    it(`${what}: the page decodes as many events as Node does, at the header's sensor size, and plays them through the event image`, async () => {
      const file = sharedRecording(recording);
      const node = await summarizeEventFile(file);
      await dropFile(page, recording, fs.readFileSync(file));
      let now: Shown = { error: null, lit: 0 };
      await waitFor(async () => {
        now = await shown(page);
        return (now.file === recording && now.events !== undefined && Number(now.framesPainted) >= 3) || now.error !== null;
      }, 60_000, `${recording} decoded and playing`);
      expect(now.error).to.equal(null);
      expect({ format: now.format, events: Number(now.events), width: Number(now.width), height: Number(now.height) }).to.deep.equal({
        format: node.format,
        events: node.events,
        width: node.geometry?.width,
        height: node.geometry?.height,
      });
      expect(now.lit, 'lit pixels in the event image').to.be.greaterThan(0);
    });
  }

  it('a corrupt file gives one line naming the file, the format, the byte offset and the reason; nothing breaks', async () => {
    const bytes = Buffer.from(fs.readFileSync(sharedRecording('dvs128_dv_dvSave-2024_06_13_16_16_25.aedat4')).subarray(0, 5000));
    await dropFile(page, 'cut.aedat4', bytes);
    let now: Shown = { error: null, lit: 0 };
    await waitFor(async () => {
      now = await shown(page);
      return now.file === 'cut.aedat4' && now.error !== null;
    }, 30_000, 'the error line');
    expect(now.error).to.match(/^cut\.aedat4: aedat4 byte \d+: .+$/);
  });

  it('loads the decoder from the service itself (same origin, the package build), with no console error or page error', () => {
    const origin = new URL(service.address.url).origin;
    expect(requests.filter((u) => !u.startsWith(origin) && !u.startsWith('data:'))).to.deep.equal([]);
    expect(requests).to.include(`${origin}/viewer/vendor/aedat-parser-ts.js`);
    expect(problems).to.deep.equal([]);
  });
});
