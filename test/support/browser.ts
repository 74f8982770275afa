import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import sparticuz from '@sparticuz/chromium';
import { type Browser, chromium } from 'playwright-core';

// The browser for the approval page's test and for `npm run docs:screenshot`: the headless
// Chromium that @sparticuz/chromium ships inside its npm package (brotli-compressed, unpacked to
// the temp directory on first use), so `npm ci` is all a machine needs: no apt, no browser
// download. CHROMIUM_PATH points at another Chromium instead.

/** The window the page is shown (and photographed for the README) in. */
export const VIEWPORT = { width: 900, height: 640 };

/**
 * Flags for a browser that touches nothing but the page under test: no sandbox (the test runs as
 * root in CI), no GPU, and none of Chromium's own traffic (updates, sync, QUIC probes, first-run).
 * Deliberately not @sparticuz/chromium's `args`: those are for AWS Lambda, and among them
 * `--single-process` breaks new contexts and cross-process navigation, `--disable-web-security`
 * and `--allow-running-insecure-content` would hide what the page's Content-Security-Policy does,
 * and the SwiftShader flags turn the GPU back on. None is needed for the headless shell here.
 */
export const LAUNCH_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** The Chromium major that the installed @sparticuz/chromium ships: its package major. */
function packagedMajor(): number {
  // The package's exports hide its package.json: read it next to its entry point.
  const entry = createRequire(import.meta.url).resolve('@sparticuz/chromium');
  const { version } = JSON.parse(readFileSync(join(dirname(entry), '..', 'package.json'), 'utf8')) as {
    version: string;
  };
  return Number.parseInt(version, 10);
}

/**
 * The packaged Chromium's path, unpacking it on first use. @sparticuz/chromium reuses whatever
 * `chromium` it finds in the temp directory, whichever version unpacked it and even if unpacking
 * was cut short, so a binary that is not the package's major stops here with what to do.
 */
async function packagedChromium(): Promise<string> {
  // The npm package carries only the x86-64 Linux build (arm64 is a separate download).
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(
      `@sparticuz/chromium ships Chromium for x86-64 Linux only, not ${process.platform}/${process.arch}: ` +
        'set CHROMIUM_PATH to a Chromium or Chrome binary',
    );
  }
  const path = await sparticuz.executablePath();
  const expected = packagedMajor();
  let version = '';
  try {
    version = execFileSync(path, ['--version'], { encoding: 'utf8', timeout: 30_000 }).trim();
  } catch (error) {
    version = `failed: ${(error as Error).message.split('\n')[0]}`;
  }
  if (Number.parseInt(version.replace(/^Chromium /, ''), 10) !== expected) {
    throw new Error(
      `${path} is not the Chromium ${expected} that @sparticuz/chromium ships (--version: ${version}); ` +
        `delete it (and ${join(tmpdir(), 'fonts')}) so that it is unpacked again`,
    );
  }
  return path;
}

/** A headless Chromium: CHROMIUM_PATH if set, else the one from @sparticuz/chromium. */
export async function launchBrowser(): Promise<Browser> {
  const override = process.env.CHROMIUM_PATH;
  if (override !== undefined && !existsSync(override)) {
    throw new Error(`CHROMIUM_PATH is ${override}, which does not exist`);
  }
  const executablePath = override ?? (await packagedChromium());
  return chromium.launch({
    executablePath,
    headless: true,
    args: LAUNCH_ARGS,
    // The packaged browser renders with the fonts the package ships (Open Sans, unpacked beside
    // it, as the package sets up on Lambda), not whatever the machine has: the same text on every
    // machine, and in the README's screenshot. Another browser keeps the machine's fonts.
    ...(override === undefined ? { env: { ...process.env, FONTCONFIG_PATH: join(tmpdir(), 'fonts') } } : {}),
  });
}
