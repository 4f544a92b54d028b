import { test } from "node:test";
import assert from "node:assert/strict";
import { ERROR_STATUS, ErrorCode, formatPreviewUrl, parseDuration, parsePreviewHost, portProblem, isValidSandboxId, SSEDecoder } from "../src/index.js";

test("every error code has an HTTP status", () => {
  for (const code of Object.values(ErrorCode)) {
    const s = ERROR_STATUS[code];
    assert.ok(s >= 400 && s < 600, code);
  }
});

test("preview host parse is unambiguous with dashed ids", () => {
  const t = { port: 8080, sandboxId: "my-box-1", token: "ab-cd_ef12345678" };
  const url = formatPreviewUrl(t, "localhost", { serverPort: 8787 });
  assert.equal(url, "http://8080-my-box-1-ab-cd_ef12345678.localhost:8787/");
  assert.deepEqual(parsePreviewHost(new URL(url).host, ["localhost"]), t);
  assert.equal(parsePreviewHost("8080-x-short.localhost", ["localhost"]), null);
  assert.equal(parsePreviewHost("3000-box-abcdefgh12345678.localhost", ["localhost"]), null);
  assert.equal(parsePreviewHost("80-box-abcdefgh12345678.localhost", ["localhost"]), null);
  assert.equal(parsePreviewHost("8080-box-abcdefgh12345678.evil.com", ["localhost"]), null);
  assert.equal(parsePreviewHost("8080-Box-abcdefgh12345678.example.com", ["example.com"])?.sandboxId, "box");
  assert.equal(parsePreviewHost("a.8080-box-abcdefgh12345678.example.com", ["example.com"]), null);
});

test("ids, ports, durations", () => {
  assert.ok(isValidSandboxId("a"));
  assert.ok(isValidSandboxId("my-box"));
  assert.ok(!isValidSandboxId("-a"));
  assert.ok(!isValidSandboxId("A"));
  assert.ok(!isValidSandboxId("a".repeat(64)));
  assert.equal(portProblem(8080), null);
  assert.ok(portProblem(3000));
  assert.ok(portProblem(80));
  assert.ok(portProblem(70000));
  assert.equal(parseDuration("30s"), 30_000);
  assert.equal(parseDuration("5m"), 300_000);
  assert.equal(parseDuration("1h"), 3_600_000);
  assert.equal(parseDuration(2), 2000);
  assert.throws(() => parseDuration("soon"));
});

test("SSE decoder handles split chunks", () => {
  const d = new SSEDecoder();
  assert.deepEqual(d.push('data: {"a":1}\n\nda'), [{ a: 1 }]);
  assert.deepEqual(d.push('ta: {"b":2}\n'), []);
  assert.deepEqual(d.push("\n"), [{ b: 2 }]);
});

test("SSE parser gives the same events at every split point, LF or CRLF", async () => {
  const { SSEParser } = await import("../src/index.js");
  const text = 'data: {"a":1}\n\n: comment\nevent: x\ndata:{"b":2}\ndata: 3\n\ndata: [DONE]\n\ndata: tail';
  for (const t of [text, text.replace(/\n/g, "\r\n")]) {
    const whole = new SSEParser();
    const expected = [...whole.push(t), ...whole.end()];
    assert.deepEqual(expected, ['{"a":1}', '{"b":2}\n3', "[DONE]", "tail"]);
    for (let i = 0; i <= t.length; i++) {
      const p = new SSEParser();
      assert.deepEqual([...p.push(t.slice(0, i)), ...p.push(t.slice(i)), ...p.end()], expected, `split at ${i}`);
    }
    const d = new SSEDecoder();
    assert.deepEqual([...d.push(t), ...d.end()], [{ a: 1 }, '{"b":2}\n3', "tail"]);
  }
});

test("route table matches params, rest and methods", async () => {
  const { RouteTable } = await import("../src/index.js");
  const t = new RouteTable<string>().add([
    { method: "GET", path: "/api/process/:id/logs", handler: "logs" },
    { method: "*", path: "/v1/sandboxes/:id/api/*", handler: "fwd" },
  ]);
  assert.deepEqual(t.match("GET", "/api/process/p%201/logs"), { kind: "match", handler: "logs", params: { id: "p 1" } });
  assert.deepEqual(t.match("POST", "/api/process/x/logs"), { kind: "method-not-allowed" });
  assert.deepEqual(t.match("GET", "/nope"), { kind: "not-found" });
  const f = t.match("POST", "/v1/sandboxes/box/api/execute/stream");
  assert.equal(f.kind === "match" && f.params["*"], "execute/stream");
});
