// A real browser (Debian's Chromium, headless, driven by playwright-core) loads a page served
// from inside a sandbox through its preview URL; the page opens a WebSocket back through the same
// preview origin (like Vite HMR) and shows what it receives.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, it } from "node:test";
import { chromium, type BrowserContext } from "playwright-core";
import { createClient, getSandbox } from "@atoll/sdk";
import { startAtoll, type Atoll } from "./harness.js";
import { startFixture } from "./preview-helpers.js";

let atoll: Atoll;
let browser: BrowserContext;
const profile = mkdtempSync(path.join(os.tmpdir(), "atoll-chromium-"));

before(async () => {
  atoll = await startAtoll({ poolSize: 0 });
  // A fresh profile dir (playwright passes it as --user-data-dir).
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
});
after(async () => {
  await browser?.close();
  await atoll?.stop();
  rmSync(profile, { recursive: true, force: true });
});

it("page + WebSocket through the preview URL in Chromium", async () => {
  const sb = getSandbox(createClient({ url: atoll.url, apiKey: atoll.apiKey }), "browser-box");
  await startFixture(sb, 8080);
  const { url } = await sb.exposePort(8080, { name: "web" });
  assert.match(url, /^http:\/\/8080-browser-box-[a-z0-9_-]{16}\.localhost:\d+\/$/);
  const page = await browser.newPage();
  const res = await page.goto(url + "page");
  assert.equal(res?.status(), 200);
  assert.equal(await page.textContent("h1"), "hello from the sandbox");
  // The page logs "open", the server's greeting and the echo of "ping-from-page".
  await page.waitForFunction(() => [...document.querySelectorAll("#log li")].some((li) => li.textContent === "msg:ping-from-page"), null, { timeout: 10_000 });
  const items = await page.$$eval("#log li", (lis) => lis.map((li) => li.textContent));
  assert.equal(items[0], "open");
  const greeting = JSON.parse(items.find((t) => t?.startsWith("msg:{"))!.slice(4));
  assert.equal(greeting.hello, "/ws/hmr");
  // A wrong token in the browser gets the 404 page, not the app.
  const bad = await page.goto(url.replace(/-([a-z0-9_-]{16})\./, "-" + "x".repeat(16) + "."));
  assert.equal(bad?.status(), 404);
  await page.close();
});
