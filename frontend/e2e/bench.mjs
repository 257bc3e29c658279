// Benchmarks of the app in chromium against a real `factory serve`:
//
//   node e2e/bench.mjs URL BIG_RUN WIDE_RUN
//
// BIG_RUN is a run with 30k spans and many steps, attempts and calls;
// WIDE_RUN a run of 1,000 steps. Prints one line "BENCH {json}" with the
// figures, each the median of a few tries:
//   open_ms       navigation from the runs view to #/runs/BIG_RUN until its graph is drawn
//   cold_open_ms  a fresh page load of #/runs/BIG_RUN until its graph is drawn
//   panel_ms      opening a step of BIG_RUN until its panel shows the answer
//   timeline_ms   navigation to #/runs/BIG_RUN/timeline until its lanes are drawn
//   graph_ms      navigation to #/runs/WIDE_RUN until all 1,000 nodes are drawn
//   layout_ms     ... until their positions stop changing (the ELK layout applied)
//   heap_mb       JS heap in use with WIDE_RUN open
//   big_heap_mb   JS heap in use with BIG_RUN open

import { main, shot, tid } from "./lib.mjs";

const [url, big, wide] = process.argv.slice(2);
if (!url || !big || !wide) {
  console.error("usage: node e2e/bench.mjs URL BIG_RUN WIDE_RUN");
  process.exit(2);
}
const TRIES = Number(process.env.FACTORY_BENCH_TRIES || 3);

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

/** nodesDrawn waits until the graph shows n nodes with a size. */
const nodesDrawn = (page, n) =>
  page.waitForFunction((n) => {
    const nodes = document.querySelectorAll('[data-testid="step-graph"] .react-flow__node');
    if (nodes.length < n) return false;
    const r = nodes[0].getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  }, n, { polling: "raf", timeout: 60_000 });

/** settled waits until the graph's node positions stop changing for quiet ms and returns when they last changed. */
const settled = (page, quiet = 1500) =>
  page.evaluate(
    (quiet) =>
      new Promise((resolve) => {
        const sig = () =>
          Array.from(document.querySelectorAll('[data-testid="step-graph"] .react-flow__node'))
            .slice(0, 50)
            .map((n) => n.style.transform)
            .join("|");
        let last = sig();
        let changed = performance.now();
        const tick = () => {
          const now = sig();
          if (now !== last) {
            last = now;
            changed = performance.now();
          }
          if (performance.now() - changed > quiet) resolve(changed);
          else requestAnimationFrame(tick);
        };
        requestAnimationFrame(tick);
      }),
    quiet,
  );

async function heapMB(page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("HeapProfiler.collectGarbage");
  await cdp.send("Performance.enable");
  const { metrics } = await cdp.send("Performance.getMetrics");
  await cdp.detach();
  const used = metrics.find((m) => m.name === "JSHeapUsedSize")?.value ?? 0;
  return Math.round((used / 2 ** 20) * 10) / 10;
}

/** viaHash goes to the runs view, then times the hash change to target until done resolves. */
async function viaHash(page, target, done) {
  await page.goto(`${url}#/runs`);
  await page.waitForSelector(tid("nav-runs", '[aria-current="page"]'));
  await page.waitForSelector(tid("run-row"));
  const t0 = await page.evaluate((h) => {
    const t = performance.now();
    location.hash = h;
    return t;
  }, target);
  await done();
  return (await page.evaluate(() => performance.now())) - t0;
}

main(async ({ page }) => {
  const r = { open_ms: [], cold_open_ms: [], panel_ms: [], timeline_ms: [], graph_ms: [], layout_ms: [] };
  const bigSteps = await page.goto(url).then(() =>
    page.evaluate(async (id) => {
      const res = await fetch("api/Run", { method: "POST", headers: { "X-Factory-Request": "1" }, body: JSON.stringify([id]) });
      return (await res.json()).steps.length;
    }, big),
  );
  for (let i = 0; i < TRIES; i++) {
    r.open_ms.push(await viaHash(page, `#/runs/${big}`, () => nodesDrawn(page, bigSteps)));

    const t0 = Date.now();
    await page.goto(`${url}#/runs/${big}`);
    await nodesDrawn(page, bigSteps);
    r.cold_open_ms.push(Date.now() - t0);

    const first = await page.getAttribute('[data-testid="step-graph"] .react-flow__node >> nth=0', "data-id");
    const tp = await page.evaluate(() => performance.now());
    await page.evaluate((h) => (location.hash = h), `#/runs/${big}/steps/${first}`);
    await page.waitForSelector(`${tid("step-answer")} >> text=file(s) in the answer`);
    r.panel_ms.push((await page.evaluate(() => performance.now())) - tp);

    r.timeline_ms.push(await viaHash(page, `#/runs/${big}/timeline`, () => page.waitForSelector(tid("timeline-lanes"))));

    let drawnAt = 0;
    const graph = await viaHash(page, `#/runs/${wide}`, async () => {
      await nodesDrawn(page, 1000);
      drawnAt = await page.evaluate(() => performance.now());
    });
    r.graph_ms.push(graph);
    const lastChange = await settled(page);
    r.layout_ms.push(graph + Math.max(0, lastChange - drawnAt));
  }
  await shot(page, "bench-1000-nodes");
  const heap = await heapMB(page);
  await page.goto(`${url}#/runs/${big}`);
  await nodesDrawn(page, bigSteps);
  await shot(page, "bench-30k-span-run");
  const bigHeap = await heapMB(page);
  const out = { big_steps: bigSteps, heap_mb: heap, big_heap_mb: bigHeap };
  for (const [k, v] of Object.entries(r)) out[k] = Math.round(median(v));
  console.log(`BENCH ${JSON.stringify(out)}`);
});
