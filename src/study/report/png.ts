/**
 * PNG versions of the SVG plots, rendered by Debian's chromium through playwright-core.
 *
 * Optional by design: the PNGs are a convenience (slides, chat), the SVGs carry the same content.
 * When chromium or playwright-core is missing, or chromium fails, the caller gets `undefined` / a
 * failed render plus a note to print — the report itself never fails for it.
 */
import * as fs from 'node:fs';
import type { Browser } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export interface PngRenderer {
  /** Renders one SVG document (of the given CSS pixel size) to a PNG file at 2× resolution. */
  render(svg: string, width: number, height: number, file: string): Promise<void>;
  close(): Promise<void>;
}

/** Starts chromium, or returns undefined after calling `note` with the reason PNGs are skipped. */
export async function openPngRenderer(note: (message: string) => void, executablePath = CHROMIUM_PATH): Promise<PngRenderer | undefined> {
  if (!fs.existsSync(executablePath)) {
    note(`PNG plots skipped: ${executablePath} not found (install Debian's chromium: apt-get install chromium); the SVG plots have the same content.`);
    return undefined;
  }
  let chromium: typeof import('playwright-core').chromium;
  try {
    // Loaded lazily: playwright-core is a development dependency, absent from a packaged extension,
    // and only this optional step needs it.
    chromium = (await import('playwright-core')).chromium;
  } catch (e) {
    note(`PNG plots skipped: playwright-core is not installed (${(e as Error).message.split('\n')[0]}).`);
    return undefined;
  }
  let browser: Browser;
  try {
    browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS, timeout: 60_000 });
  } catch (e) {
    note(`PNG plots skipped: chromium did not start (${(e as Error).message.split('\n')[0]}).`);
    return undefined;
  }
  return {
    async render(svg, width, height, file) {
      const page = await browser.newPage({ viewport: { width, height }, deviceScaleFactor: 2 });
      try {
        await page.setContent(`<!doctype html><html><body style="margin:0;background:#fff">${svg}</body></html>`);
        await page.screenshot({ path: file, clip: { x: 0, y: 0, width, height }, timeout: 30_000 });
      } finally {
        await page.close();
      }
    },
    close: () => browser.close(),
  };
}
