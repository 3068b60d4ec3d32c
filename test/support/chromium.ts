import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface ChromiumSession {
  context: BrowserContext;
  /** Closes the browser and removes its throwaway profile. */
  close(): Promise<void>;
}

/**
 * Headless Chromium from Debian's package with a throwaway profile. No skip when it is missing:
 * CI installs it, and a browser check that silently does not run is none.
 */
export async function launchChromium(label: string): Promise<ChromiumSession> {
  expect({ chromium: CHROMIUM, installed: existsSync(CHROMIUM) }).toEqual({
    chromium: CHROMIUM,
    installed: true,
  });
  const workDir = mkdtempSync(join(tmpdir(), `broker-${label}-`));
  const context = await chromium.launchPersistentContext(join(workDir, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 2000 },
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(workDir, { recursive: true, force: true });
    },
  };
}
