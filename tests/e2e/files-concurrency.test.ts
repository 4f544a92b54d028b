// Torn reads under concurrent writes (issue 16): 8 SDK clients, each with its own connection pool,
// write and read the same 4 KiB file in one real sandbox through the control plane. Before atomic
// writes, 26 of 2,400 readFile calls failed (cut connection) and one returned short content.
// Expected now: 0 failures, and every read is exactly one of the contents written.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createClient, getSandbox } from "@atoll/sdk";
import { startAtoll, type Atoll } from "./harness.js";

let atoll: Atoll;
before(async () => {
  atoll = await startAtoll({ poolSize: 0 });
});
after(async () => {
  await atoll?.stop();
});

const CLIENTS = 8;
const ROUNDS = 300;
/** Client c's content in round i: 4 KiB (odd clients) or 3,000 bytes, so a mix or a cut shows. */
const content = (c: number, i: number) => `${c}:${i}:`.padEnd(c % 2 ? 4096 : 3000, String.fromCharCode(97 + c));

test(`${CLIENTS} clients writing and reading the same file: ${CLIENTS * ROUNDS} reads, 0 failures, each read one written version`, async () => {
  const path = "/workspace/shared.txt";
  await getSandbox(createClient({ url: atoll.url, apiKey: atoll.apiKey }), "torn").writeFile(path, content(0, 0));
  const written = new Set<string>([content(0, 0)]);
  for (let c = 0; c < CLIENTS; c++) for (let i = 0; i < ROUNDS; i++) written.add(content(c, i));
  const failures: string[] = [];
  let reads = 0;
  const t0 = Date.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, c) => {
      const sb = getSandbox(createClient({ url: atoll.url, apiKey: atoll.apiKey }), "torn");
      for (let i = 0; i < ROUNDS; i++) {
        try {
          await sb.writeFile(path, content(c, i));
          const r = await sb.readFile(path);
          reads++;
          if (!written.has(r.content)) failures.push(`client ${c} round ${i}: read ${r.content.length} bytes that no one wrote (${JSON.stringify(r.content.slice(0, 12))}…)`);
        } catch (e) {
          failures.push(`client ${c} round ${i}: ${(e as Error).message}`);
        }
      }
    }),
  );
  console.log(`# ${reads} reads and ${CLIENTS * ROUNDS} writes in ${Date.now() - t0} ms, ${failures.length} failures`);
  assert.deepEqual(failures.slice(0, 10), []);
  assert.equal(reads, CLIENTS * ROUNDS);
  const left = await getSandbox(createClient({ url: atoll.url, apiKey: atoll.apiKey }), "torn").exec("ls -A /workspace");
  assert.equal(left.stdout, "shared.txt\n", "temporary files left behind");
});

test("writeFile onto a bind-mounted read-only file (/etc/hosts) fails as READ_ONLY, the file unchanged", async () => {
  // rename(2) cannot replace a mount point (EBUSY): the agent falls back to an in-place write,
  // which the read-only bind refuses — the same answer as before atomic writes.
  const sb = getSandbox(createClient({ url: atoll.url, apiKey: atoll.apiKey }), "torn");
  const before = (await sb.exec("cat /etc/hosts")).stdout;
  await assert.rejects(sb.writeFile("/etc/hosts", "127.0.0.1 evil\n"), (e: any) => e.code === "READ_ONLY");
  assert.equal((await sb.exec("cat /etc/hosts")).stdout, before);
  assert.equal((await sb.exec("ls -A /etc | grep -c atoll- || true")).stdout.trim(), "0", "temporary file left in /etc");
});
