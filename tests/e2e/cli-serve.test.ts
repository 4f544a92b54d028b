// `atoll serve` honours ATOLL_STDIN_LIFELINE like packages/server/src/bin.ts: when whoever started
// it goes away (its stdin reaches EOF), the server shuts down instead of running on as an orphan.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { BASE_IMAGE, REPO_ROOT, freePort, waitFor } from "./harness.js";

test("atoll serve with ATOLL_STDIN_LIFELINE=1 exits when its stdin closes", { timeout: 90_000 }, async () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "atoll-serve-e2e-"));
  const port = await freePort();
  const c = spawn(path.join(REPO_ROOT, "packages/cli/bin/atoll"), ["serve", "--host", "127.0.0.1", "--port", String(port), "--data-dir", dataDir], {
    env: { ...process.env, ATOLL_STDIN_LIFELINE: "1", ATOLL_POOL_SIZE: "0", ATOLL_BASE_IMAGE: BASE_IMAGE, ATOLL_API_KEY: "serve-lifeline-test" },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let out = "";
  c.stdout!.on("data", (d) => (out += d));
  c.stderr!.on("data", (d) => (out += d));
  const exited = new Promise<number | null>((r) => c.once("exit", (code) => r(code)));
  try {
    await waitFor("atoll serve to answer /v1/health", async () => (await fetch(`http://127.0.0.1:${port}/v1/health`).catch(() => null))?.ok, 45_000, 100);
    c.stdin!.end(); // the parent "goes away"
    const code = await Promise.race([exited, new Promise<"running">((r) => setTimeout(() => r("running"), 20_000))]);
    assert.notEqual(code, "running", `atoll serve kept running after its stdin closed\n${out}`);
    assert.equal(code, 0, out);
    assert.match(out, /SIGTERM: shutting down/);
  } finally {
    if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    rmSync(dataDir, { recursive: true, force: true });
  }
});
