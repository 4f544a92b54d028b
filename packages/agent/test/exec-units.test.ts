// Unit tests of the pure pieces behind exec and processes: the end-of-command marker scanner,
// the log ring, bash quoting and signal parsing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { MarkerScanner } from "../src/session/marker.js";
import { LogRing } from "../src/process/ring.js";
import { bashQuote, checkEnv } from "../src/session/quote.js";
import { parseSignal } from "../src/process/tree.js";

test("marker scanner: found at every split point, output before it intact, nothing after it", () => {
  const token = "0123456789abcdef";
  const stream = Buffer.concat([Buffer.from("hello\0world\0__ATOLL_"), Buffer.from(`\0__ATOLL_${token}:42\0`), Buffer.from("late job output")]);
  const expected = Buffer.from("hello\0world\0__ATOLL_");
  for (let i = 0; i <= stream.length; i++) {
    for (const j of [i, Math.min(stream.length, i + 3)]) {
      const sc = new MarkerScanner(token);
      const parts = [stream.subarray(0, i), stream.subarray(i, j), stream.subarray(j)];
      const out: Buffer[] = [];
      let code: number | undefined;
      for (const p of parts) {
        const r = sc.push(p);
        out.push(r.data);
        if (r.exitCode !== undefined) code = r.exitCode;
      }
      assert.equal(code, 42, `split ${i}/${j}`);
      assert.deepEqual(Buffer.concat(out), expected, `split ${i}/${j}`);
    }
  }
});

test("marker scanner: a different token is plain output; flush returns held bytes", () => {
  const sc = new MarkerScanner("aaaaaaaaaaaaaaaa");
  const r = sc.push(Buffer.from("x\0__ATOLL_bbbbbbbbbbbbbbbb:1\0y\0__AT"));
  assert.equal(r.exitCode, undefined);
  assert.equal(Buffer.concat([r.data, sc.flush()]).toString(), "x\0__ATOLL_bbbbbbbbbbbbbbbb:1\0y\0__AT");
});

test("log ring keeps the newest bytes on a UTF-8 boundary and counts what it dropped", () => {
  const ring = new LogRing(10);
  ring.push(Buffer.from("abcdef"));
  ring.push(Buffer.from("ghijkl"));
  assert.equal(ring.text(), "cdefghijkl");
  assert.equal(ring.dropped, 2);
  const u = new LogRing(5);
  u.push(Buffer.from("€€€")); // 9 bytes
  assert.equal(u.text(), "€");
  assert.equal(u.dropped + Buffer.byteLength(u.text()), 9);
  assert.ok(u.size <= 5);
});

test("bashQuote round-trips arbitrary text through a real bash", () => {
  const samples = ["", "plain", "it's", 'd"q', "$HOME `x` $(id)", "back\\slash\\", "new\nline\r\n", "tab\tand é€😀", "\x01\x7f"];
  for (const s of samples) {
    const out = execFileSync("bash", ["--norc", "-c", `printf %s ${bashQuote(s)}`]).toString();
    assert.equal(out, s);
  }
});

test("env validation and signal parsing", () => {
  assert.deepEqual(checkEnv({ A_1: "x" }, "env"), { A_1: "x" });
  assert.throws(() => checkEnv({ "1A": "x" }, "env"), /names are/);
  assert.throws(() => checkEnv({ A: "x\0" }, "env"), /NUL/);
  assert.throws(() => checkEnv({ A: 1 }, "env"), /must be a string/);
  assert.deepEqual(checkEnv({ A: null }, "envVars", true), { A: null });
  assert.equal(parseSignal(undefined), "SIGTERM");
  assert.equal(parseSignal("int"), "SIGINT");
  assert.equal(parseSignal("SIGKILL"), "SIGKILL");
  assert.equal(parseSignal(9), "SIGKILL");
  assert.equal(parseSignal("15"), "SIGTERM");
  assert.equal(parseSignal("NOPE"), null);
});
