import assert from "node:assert/strict";
import { test } from "node:test";
import { ERROR_STATUS, ErrorCode, errorBody } from "@atoll/protocol";
import {
  CommandError,
  ContextNotFoundError,
  FileNotFoundError,
  FileSystemError,
  GitRepositoryNotFoundError,
  InvalidPortError,
  PortNotExposedError,
  ProcessNotFoundError,
  SandboxError,
  SandboxUnavailableError,
  UnauthorizedError,
  createClient,
  errorFromHttp,
  errorFromResponse,
  getSandbox,
} from "../src/index.js";
import { fakeServer, json } from "./helpers.js";

test("errorFromResponse picks the class for each code and keeps code, httpStatus, context, message", () => {
  const cases: [ErrorCode, Function][] = [
    [ErrorCode.FILE_NOT_FOUND, FileNotFoundError],
    [ErrorCode.IS_DIRECTORY, FileSystemError],
    [ErrorCode.PROCESS_NOT_FOUND, ProcessNotFoundError],
    [ErrorCode.PORT_NOT_EXPOSED, PortNotExposedError],
    [ErrorCode.INVALID_PORT, InvalidPortError],
    [ErrorCode.CONTEXT_NOT_FOUND, ContextNotFoundError],
    [ErrorCode.GIT_REPOSITORY_NOT_FOUND, GitRepositoryNotFoundError],
    [ErrorCode.INVALID_COMMAND, CommandError],
    [ErrorCode.UNAUTHORIZED, UnauthorizedError],
  ];
  for (const [code, C] of cases) {
    const e = errorFromResponse(errorBody(code, `Cannot do it: ${code}`, { path: "/x" }));
    assert.ok(e instanceof C, code);
    assert.ok(e instanceof SandboxError && e instanceof Error);
    assert.equal(e.code, code);
    assert.equal(e.httpStatus, ERROR_STATUS[code]);
    assert.deepEqual(e.context, { path: "/x" });
    assert.equal(e.message, `Cannot do it: ${code}`);
    assert.equal(e.name, C.name);
  }
});

test("every registry code maps to a SandboxError (unknown-to-the-SDK codes keep their code)", () => {
  for (const code of Object.values(ErrorCode)) {
    const e = errorFromResponse(errorBody(code, "m"));
    assert.ok(e instanceof SandboxError);
    assert.equal(e.code, code);
  }
});

test("errorFromHttp copes with non-JSON bodies and Cloudflare-style {error} bodies", async () => {
  const a = await errorFromHttp(new Response("<html>bad gateway</html>", { status: 502 }), "do X");
  assert.equal(a.code, "INTERNAL_ERROR");
  assert.equal(a.httpStatus, 502);
  assert.match(a.message, /^Cannot do X: HTTP 502/);
  const b = await errorFromHttp(new Response(JSON.stringify({ error: "nope" }), { status: 401 }), "do Y");
  assert.ok(b instanceof UnauthorizedError);
  assert.equal(b.message, "nope");
  const c = await errorFromHttp(new Response("", { status: 503 }), "do Z");
  assert.ok(c instanceof SandboxUnavailableError);
});

test("calls through a client throw the registry class with the server's context", async (t) => {
  const srv = await fakeServer((r, res) => {
    if (r.method === "PUT") return json(res, 200, { id: "box", status: "running" });
    json(res, 404, errorBody(ErrorCode.FILE_NOT_FOUND, "Cannot read /nope: no such file", { path: "/nope" }));
  });
  t.after(() => srv.close());
  const sb = getSandbox(createClient({ url: srv.url, apiKey: "k" }), "box");
  await assert.rejects(sb.readFile("/nope"), (e: unknown) => e instanceof FileNotFoundError && e.httpStatus === 404 && (e.context as { path: string }).path === "/nope");
  const read = srv.requests.find((r) => r.url.startsWith("/v1/sandboxes/box/api/files/raw"))!;
  assert.equal(read.url, "/v1/sandboxes/box/api/files/raw?path=%2Fnope");
  assert.equal(read.headers.authorization, "Bearer k");
});

test("an unreachable control plane is SANDBOX_UNAVAILABLE with a clear message", async () => {
  const srv = await fakeServer(() => {});
  const url = srv.url;
  await srv.close();
  const c = createClient({ url });
  await assert.rejects(c.listSandboxes(), (e: unknown) => e instanceof SandboxUnavailableError && /^Cannot list sandboxes: no answer from http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/.test((e as Error).message));
});

test("invalid sandbox ids are rejected before any request", () => {
  const c = createClient({ url: "http://127.0.0.1:1" });
  for (const bad of ["", "UPPER", "-x", "x-", "a".repeat(64), "a_b", "a.b"]) {
    assert.throws(() => getSandbox(c, bad), (e: unknown) => e instanceof SandboxError && e.code === "INVALID_SANDBOX_ID", bad);
  }
});
