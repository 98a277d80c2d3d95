/**
 * Real headless Chromium for the browser tests: Debian's `chromium` package (installed by
 * scripts/install-deps.sh; browser builds cannot be downloaded here) driven by playwright-core
 * 1.64.1, the release built for Chromium 156. Missing Chromium fails the test loudly: a browser
 * test that skips is a failing test.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page, type Response } from 'playwright-core';

export const CHROMIUM_PATH = process.env.MPU_CHROMIUM ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface Chromium {
  context: BrowserContext;
  /** e.g. `Chrome/156.0.8078.114` (CDP Browser.getVersion). */
  version: string;
  close(): Promise<void>;
}

/** A fresh browser with a fresh profile (--user-data-dir: IndexedDB starts empty). */
export async function launchChromium(): Promise<Chromium> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium not found at ${CHROMIUM_PATH}: install the Debian package chromium (scripts/install-deps.sh), or set MPU_CHROMIUM`);
  }
  const profile = mkdtempSync(join(tmpdir(), 'mpu-chromium-'));
  // launchPersistentContext passes the profile as --user-data-dir (launch() refuses that flag).
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    chromiumSandbox: false,
    args: CHROMIUM_ARGS,
    viewport: { width: 1000, height: 760 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const cdp = await context.newCDPSession(page);
  const { product } = (await cdp.send('Browser.getVersion')) as { product: string };
  await cdp.detach();
  return {
    context,
    version: product,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Part PUTs to storage as the page sent them: part number and status. */
export interface PutRecord {
  part: number;
  status: number;
}

/** Records every part PUT answer of `page` (CORS preflights are OPTIONS and not counted). */
export function recordPuts(page: Page, s3Endpoint: string): PutRecord[] {
  const puts: PutRecord[] = [];
  page.on('response', (r: Response) => {
    const req = r.request();
    if (req.method() !== 'PUT' || !req.url().startsWith(s3Endpoint)) return;
    puts.push({ part: Number(new URL(req.url()).searchParams.get('partNumber')), status: r.status() });
  });
  return puts;
}

/** Waits until `pred()` is true (polling), or fails with `what`. */
export async function until(what: string, pred: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface PartGate {
  /** PUTs held so far. */
  readonly held: number;
  /** Lets every held PUT (and all later ones) go on to storage. */
  release(): void;
}

/**
 * Holds the part PUTs `hold` picks before they reach storage, until `release()`: tests put a
 * reload, a pause or going offline in the middle of an upload without depending on timing
 * (the machine may be slow).
 */
export async function gateParts(page: Page, hold: (part: number) => boolean): Promise<PartGate> {
  let open = false;
  let held = 0;
  const waiting: Array<() => void> = [];
  await page.route(
    (u) => u.searchParams.has('partNumber'),
    async (route) => {
      const part = Number(new URL(route.request().url()).searchParams.get('partNumber'));
      if (route.request().method() === 'PUT' && !open && hold(part)) {
        held++;
        await new Promise<void>((r) => waiting.push(r));
      }
      // The page may have reloaded meanwhile (the request is gone).
      await route.continue().catch(() => undefined);
    },
  );
  return {
    get held() {
      return held;
    },
    release() {
      open = true;
      for (const r of waiting.splice(0)) r();
    },
  };
}
