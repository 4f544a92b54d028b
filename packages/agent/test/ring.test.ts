// The process log ring: newest `limit` bytes kept in a circular buffer, exact drop counts,
// UTF-8 characters never split for readers, cursors (read/since) for catching up.
import { test } from "node:test";
import assert from "node:assert/strict";
import { LogRing } from "../src/process/ring.js";

test("keeps exactly the newest limit bytes across growth and wrap-around (random chunks)", () => {
  let seed = 7;
  const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
  for (const limit of [1, 10, 4096, 100_000]) {
    const r = new LogRing(limit);
    let all = "";
    for (let i = 0; i < 300; i++) {
      const len = rnd(3) === 0 ? rnd(3 * limit + 2) : rnd(50);
      const s = Array.from({ length: len }, () => String.fromCharCode(97 + rnd(26))).join("");
      r.push(Buffer.from(s));
      all += s;
      const kept = all.slice(Math.max(0, all.length - limit));
      assert.equal(r.text(), kept, `limit ${limit} after push ${i}`);
      assert.equal(r.dropped, all.length - kept.length);
      assert.equal(r.end, all.length);
    }
  }
});

test("a character split across reads is held back until complete; a cut one at the front is dropped", () => {
  const r = new LogRing(100);
  const e = Buffer.from("é"); // 2 bytes
  r.push(Buffer.from("a"));
  r.push(e.subarray(0, 1));
  assert.equal(r.text(), "a");
  assert.equal(r.end, 1);
  r.push(e.subarray(1));
  assert.equal(r.text(), "aé");
  assert.equal(r.end, 3);
  const small = new LogRing(4);
  small.push(Buffer.from("aééé")); // 7 bytes: the newest 4 are exactly "éé"
  assert.equal(small.text(), "éé");
  assert.equal(small.dropped, 3);
  const odd = new LogRing(5);
  odd.push(Buffer.from("éééx")); // 7 bytes; the newest 5 begin with half an é
  assert.equal(odd.text(), "ééx");
  assert.equal(odd.dropped, 2);
});

test("seal makes a held-back partial character readable and shrinks the buffer", () => {
  const r = new LogRing(1 << 20);
  r.push(Buffer.from([0x61, 0xe2, 0x82])); // "a" + 2 of the 3 bytes of "€"
  assert.equal(r.text(), "a");
  r.seal();
  assert.equal(r.text(), "a\ufffd");
  assert.equal(r.size, 3);
});

test("read(from, max) ends on character boundaries and advances a cursor; since() from a dropped offset", () => {
  const r = new LogRing(1000);
  r.push(Buffer.from("ab€cd€€")); // € is 3 bytes
  let cur = 0;
  const parts: string[] = [];
  for (let i = 0; i < 20 && cur < r.end; i++) {
    const x = r.read(cur, 4);
    assert.ok(x.end > cur);
    parts.push(x.text);
    cur = x.end;
  }
  assert.equal(parts.join(""), "ab€cd€€");
  assert.ok(parts.every((p) => !p.includes("\ufffd")), JSON.stringify(parts));
  const w = new LogRing(3);
  w.push(Buffer.from("abcdef"));
  assert.equal(w.since(1), "def");
  assert.equal(w.since(4), "ef");
});
