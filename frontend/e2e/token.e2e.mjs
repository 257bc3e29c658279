// Browser mode with a token, against a real `factory serve --token`:
//
//   node e2e/token.e2e.mjs URL
//
// URL is the address factory serve printed, with its ?token=. Without the
// token the page is refused; with it the app works, and the cookie it sets
// lets the bare address in afterwards.

import { check, main, shot, step, tid } from "./lib.mjs";

const url = process.argv[2];
if (!url || !new URL(url).searchParams.get("token")) {
  console.error("usage: node e2e/token.e2e.mjs URL?token=TOKEN");
  process.exit(2);
}
const bare = new URL(url);
bare.search = "";

main(async ({ page }) => {
  await step("the page without the token is refused", async () => {
    const res = await page.goto(bare.toString());
    check(res.status() === 401, `status ${res.status()}`);
    check((await page.textContent("body")).includes("token"), "the refusal does not say a token is needed");
  });

  await step("the page with the token works, events included", async () => {
    const res = await page.goto(url);
    check(res.status() === 200, `status ${res.status()}`);
    await page.waitForSelector(tid("nav-runs", '[aria-current="page"]'));
    await page.waitForSelector(".conn-open");
    await page.waitForSelector("text=No runs yet");
    check((await page.locator(tid("error")).count()) === 0, "an error is shown");
    await shot(page, "10-token-runs");
  });

  await step("the cookie authenticates the bare address afterwards", async () => {
    const res = await page.goto(`${bare}#/blueprints`);
    check(res.status() === 200, `status ${res.status()}`);
    await page.waitForSelector(`${tid("blueprint-row")}[data-id="pipeline"]`);
  });
});
