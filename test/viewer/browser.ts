/**
 * A real Chromium for the viewer's tests, driven by puppeteer-core: the executable is
 * `CHROMIUM_PATH`, else the first of /usr/bin/chromium, chromium-browser, google-chrome found.
 * Headless, with a temporary profile folder, talking over a pipe (no debugging port is opened),
 * and pages only ever load 127.0.0.1. `closeBrowser` ends it by its PID and removes the profile.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import puppeteer, { type Browser } from 'puppeteer-core';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable'];

/** The Chromium to drive, or undefined when none is installed. */
export function findChromium(): string | undefined {
  const given = process.env.CHROMIUM_PATH;
  if (given) return fs.existsSync(given) ? given : undefined;
  return CANDIDATES.find((p) => fs.existsSync(p));
}

/** Why the viewer's browser tests cannot run here (one line), for a failure in CI. */
export const NO_CHROMIUM = `no Chromium found (set CHROMIUM_PATH, or install Debian's chromium: apt-get install chromium; looked at ${CANDIDATES.join(', ')})`;

export interface LaunchedBrowser {
  readonly browser: Browser;
  readonly pid: number;
  readonly profileDir: string;
}

export async function launchBrowser(executablePath: string): Promise<LaunchedBrowser> {
  const profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'spikestream-chromium-'));
  const browser = await puppeteer.launch({
    executablePath,
    headless: true,
    pipe: true,
    userDataDir: profileDir,
    // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--no-default-browser-check', '--disable-extensions', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--metrics-recording-only', '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1'],
    protocolTimeout: 30_000,
  });
  const pid = browser.process()?.pid;
  if (pid === undefined) throw new Error('Chromium started without a process id');
  return { browser, pid, profileDir };
}

/** Closes the browser, then makes sure its process is gone (by PID) and removes its profile. */
export async function closeBrowser(b: LaunchedBrowser | undefined): Promise<void> {
  if (!b) return;
  await Promise.race([b.browser.close().catch(() => undefined), new Promise((r) => setTimeout(r, 5000))]); // bounds the close
  try {
    process.kill(b.pid, 'SIGKILL');
  } catch {
    // already gone
  }
  fs.rmSync(b.profileDir, { recursive: true, force: true });
}
