import { join } from 'node:path';
import { launchBrowser, VIEWPORT } from '../test/support/browser.ts';
import { ROOT, Simulation, WAIT_MS } from '../test/support/simulation.ts';

/**
 * Rewrites docs/approval-page.png, the README's picture of the approval page
 * (`npm run docs:screenshot`): the browser test's scenario and browser, stopped at the first
 * approval page. Tests never write it, so that running them leaves the work tree clean.
 */
export const SCREENSHOT_PATH = join(ROOT, 'docs', 'approval-page.png');

const TITLE = 'Shift web/prod to 1.1.0?';

async function main(): Promise<void> {
  const sim = new Simulation('approval-manual');
  let browser: Awaited<ReturnType<typeof launchBrowser>> | undefined;
  try {
    browser = await launchBrowser();
    const link = await sim.link(0);
    const context = await browser.newContext({ viewport: VIEWPORT });
    const page = await context.newPage();
    page.setDefaultTimeout(WAIT_MS);
    const response = await page.goto(link, { waitUntil: 'load', timeout: WAIT_MS });
    if (response?.status() !== 200) {
      throw new Error(`GET ${link} answered ${response?.status() ?? 'nothing'}, not 200`);
    }
    // The page a person would see, not an error page that happens to load.
    await page.getByRole('heading', { level: 1, name: TITLE }).waitFor();
    await page.screenshot({ path: SCREENSHOT_PATH, fullPage: true });
    console.log(`wrote ${SCREENSHOT_PATH}`);
  } finally {
    await browser?.close();
    // Nobody answers the approval: the simulated deployment would wait forever.
    sim.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
