// Shared helpers of the browser tests and benchmarks: Debian's chromium
// driven by playwright-core (which never downloads a browser), a fresh
// profile per launch, screenshots kept under the output folder.

import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium } from "playwright-core";

/** The browser the tests drive. */
export const CHROMIUM = process.env.FACTORY_CHROMIUM || "/usr/bin/chromium";

/** Where screenshots go: $FACTORY_E2E_OUT, or frontend/e2e/out. */
export const OUT = resolve(process.env.FACTORY_E2E_OUT || new URL("./out", import.meta.url).pathname);

/** Generous limit for one wait; a test fails on it, it never measures speed. */
export const WAIT = 30_000;

const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--no-default-browser-check",
];

/**
 * launch opens chromium on a fresh profile and returns its context, a page,
 * and close(), which also removes the profile.
 */
export async function launch({ width = 1400, height = 900 } = {}) {
  mkdirSync(OUT, { recursive: true });
  const profile = mkdtempSync(join(tmpdir(), "factory-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: { width, height },
    colorScheme: "dark",
  });
  context.setDefaultTimeout(WAIT);
  const page = context.pages()[0] ?? (await context.newPage());
  const problems = [];
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error") console.error(`  [console] ${m.text()}`);
  });
  page.on("response", async (r) => {
    if (r.status() < 400) return;
    const body = await r.text().catch(() => "");
    console.error(`  [http ${r.status()}] ${r.request().method()} ${r.url().replace(/token=[^&]+/, "token=…")} ${body.slice(0, 200)}`);
  });
  return {
    context,
    page,
    problems,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** shot saves a full-page screenshot as OUT/name.png. */
export async function shot(page, name) {
  const path = join(OUT, `${name}.png`);
  await page.screenshot({ path, fullPage: false });
  console.log(`  screenshot ${path}`);
}

/** check throws when cond is false. */
export function check(cond, msg) {
  if (!cond) throw new Error(msg);
}

/** tid is the selector of a data-testid. */
export const tid = (id, extra = "") => `[data-testid="${id}"]${extra}`;

/** step runs one named part of a scenario and logs it. */
export async function step(name, fn) {
  const t0 = performance.now();
  try {
    const r = await fn();
    console.log(`ok   ${name} (${Math.round(performance.now() - t0)} ms)`);
    return r;
  } catch (e) {
    console.log(`FAIL ${name}: ${e instanceof Error ? e.message : e}`);
    throw e;
  }
}

/** main runs fn and exits with its status, closing the browser either way. */
export async function main(fn) {
  let b;
  try {
    b = await launch();
    await fn(b);
    if (b.problems.length) throw new Error(b.problems.join("\n"));
    await b.close();
    process.exit(0);
  } catch (e) {
    console.error(e instanceof Error ? e.stack : e);
    if (b) {
      await shot(b.page, "failure").catch(() => undefined);
      await b.close().catch(() => undefined);
    }
    process.exit(1);
  }
}
