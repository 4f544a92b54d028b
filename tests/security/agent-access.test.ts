// Issue 16, "Broken" 1: the agent and every sandbox port were reachable from the host without
// credentials. Each case below is an attack that worked before the fix; it fails if it works again.
// Layers under test (docs/security.md, "Agent access"): the host firewall lets only the control
// plane's group open connections to sandbox addresses; the agent requires the per-sandbox key,
// refuses Origin and non-JSON bodies; the front door strips the API key from what it forwards.
// This test process is root but NOT in the control plane's group (it runs no driver itself), like
// any other host process; the control plane runs as a child (startAtoll).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { chromium, type BrowserContext } from "playwright-core";
import { AGENT_KEY_HEADER } from "@atoll/protocol";
import { createClient, getSandbox, type Sandbox } from "@atoll/sdk";
import { createSandbox, exec, hostResources, startAtoll, type Atoll } from "../e2e/harness.js";
import { send } from "../e2e/preview-helpers.js";

// One server script for both sandboxes: /attack serves the page in A; anything else is logged to
// /workspace/hits and answered with the request's headers (the echo for the header cases).
const SERVER = `const http = require("http"), fs = require("fs");
const port = Number(process.argv[2]);
http.createServer((q, r) => {
  if (q.url === "/attack") { r.writeHead(200, { "content-type": "text/html" }); return r.end(fs.readFileSync("/workspace/attack.html")); }
  fs.appendFileSync("/workspace/hits", q.method + " " + q.url + "\\n");
  r.writeHead(200, { "content-type": "application/json" });
  r.end(JSON.stringify({ raw: q.rawHeaders }));
}).listen(port, () => console.log("ready " + port));`;

/** The attacker's page in A: tries B's agent and B's server from the visitor's browser. */
const attackPage = (b: string) => `<!doctype html><title>attack</title><script>
window.results = {};
async function attempt(name, url, init) {
  try { await fetch(url, init); results[name] = "reached"; } catch (e) { results[name] = "blocked: " + e; }
}
(async () => {
  const cmd = (f) => JSON.stringify({ command: "touch /workspace/" + f });
  await attempt("agent text/plain", "http://${b}:3000/api/execute", { method: "POST", mode: "no-cors", headers: { "content-type": "text/plain" }, body: cmd("pwned-text") });
  await attempt("agent form", "http://${b}:3000/api/execute", { method: "POST", mode: "no-cors", headers: { "content-type": "application/x-www-form-urlencoded" }, body: cmd("pwned-form") });
  await attempt("server GET", "http://${b}:8080/from-browser", { mode: "no-cors" });
  await attempt("server POST", "http://${b}:8080/from-browser-post", { method: "POST", mode: "no-cors", body: "x" });
  await attempt("own origin", "/own-origin", {});
  window.done = true;
})();
</script>`;

let atoll: Atoll;
let a: Sandbox;
let b: Sandbox;
let bIp: string;
let gid: number;

function sh(cmd: string, args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const c = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    c.stdout.on("data", (d) => (out += d));
    c.stderr.on("data", (d) => (out += d));
    c.on("close", (code) => resolve({ code: code ?? -1, out }));
  });
}

/** curl as a given host identity; returns exit code, HTTP status ("000" when nothing answered) and body. */
function curlAs(id: { uid?: number; gid?: number }, args: string[]): Promise<{ code: number; status: string; body: string }> {
  return new Promise((resolve, reject) => {
    const c = spawn("curl", ["-sS", "-m", "5", "-o", "-", "-w", "\n%{http_code}", ...args], { ...id, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    c.stdout.on("data", (d) => (out += d));
    c.on("error", reject);
    c.on("close", (code) => {
      const i = out.lastIndexOf("\n");
      resolve({ code: code ?? -1, status: out.slice(i + 1), body: out.slice(0, i) });
    });
  });
}

function canConnect(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    const done = (v: string) => { s.destroy(); resolve(v); };
    s.once("connect", () => done("connected"));
    s.once("error", (e: NodeJS.ErrnoException) => done(e.code ?? "error"));
    s.setTimeout(3000, () => done("timeout"));
  });
}

async function idOf(kind: "passwd" | "group", name: string): Promise<number> {
  const r = await sh("getent", [kind, name]);
  assert.equal(r.code, 0, `getent ${kind} ${name}`);
  return Number(r.out.split(":")[2]);
}

async function agentKey(id: string): Promise<string> {
  const res = await hostResources(atoll.dataDir, id);
  const file = path.join(res.dir, "state.json");
  assert.equal(statSync(file).mode & 0o777, 0o600, "state.json (holds the agent key) is 0600");
  const key = JSON.parse(readFileSync(file, "utf8")).agentKey as string;
  assert.ok(key && key.length >= 32, "a running sandbox has an agent key");
  return key;
}

async function startServer(sb: Sandbox, port: number): Promise<void> {
  await sb.writeFile("/workspace/server.js", SERVER);
  const p = await sb.startProcess(`node /workspace/server.js ${port}`);
  await p.waitForLog(`ready ${port}`, 20_000);
}

async function fileIn(id: string, p: string): Promise<string> {
  const r = await exec(atoll, id, `cat ${p} 2>/dev/null || true`);
  assert.equal(r.status, 200);
  return r.stdout;
}

before(async () => {
  atoll = await startAtoll({ poolSize: 0 });
  const client = createClient({ url: atoll.url, apiKey: atoll.apiKey });
  await createSandbox(atoll, "sec-a");
  await createSandbox(atoll, "sec-b");
  a = getSandbox(client, "sec-a");
  b = getSandbox(client, "sec-b");
  bIp = (await hostResources(atoll.dataDir, "sec-b")).ip!;
  assert.ok(bIp, "B has an address");
  gid = await idOf("group", "atoll");
  assert.ok(process.getegid!() !== gid && !process.getgroups!().includes(gid), "precondition: this test process is not in the control plane's group");
  await a.writeFile("/workspace/attack.html", attackPage(bIp));
  await startServer(a, 8080);
  await b.writeFile("/workspace/attack.html", "");
  await startServer(b, 8080);
});
after(async () => {
  await atoll?.stop();
});

describe("agent access from the host", () => {
  it("a preview page in A, opened in Chromium on the host, cannot reach B's agent or B's servers", async () => {
    // Attacker: code in sandbox A serving a page to a visitor's browser on the host.
    // Attack: the page fetches http://<B>:3000/api/execute (no-cors, text/plain or form) and B's :8080.
    // Expected: every attempt fails in the network (firewall), nothing is written in B, B's server sees nothing.
    const profile = mkdtempSync(path.join(os.tmpdir(), "atoll-sec-chromium-"));
    let browser: BrowserContext | undefined;
    try {
      browser = await chromium.launchPersistentContext(profile, {
        executablePath: "/usr/bin/chromium",
        headless: true,
        args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
      });
      const { url } = await a.exposePort(8080, { name: "attack" });
      const page = await browser.newPage();
      const res = await page.goto(url + "attack");
      assert.equal(res?.status(), 200);
      await page.waitForFunction(() => (window as unknown as { done?: boolean }).done === true, null, { timeout: 30_000 });
      const results = (await page.evaluate(() => (window as unknown as { results: Record<string, string> }).results)) as Record<string, string>;
      assert.equal(results["own origin"], "reached", `control: the page's script ran and fetched its own origin (${JSON.stringify(results)})`);
      for (const k of ["agent text/plain", "agent form", "server GET", "server POST"]) assert.match(results[k]!, /^blocked/, `${k}: ${results[k]}`);
    } finally {
      await browser?.close();
      rmSync(profile, { recursive: true, force: true });
    }
    assert.equal((await exec(atoll, "sec-b", "ls /workspace/pwned-text /workspace/pwned-form 2>&1 | grep -c 'No such file'")).stdout.trim(), "2", "no file written in B");
    assert.doesNotMatch(await fileIn("sec-b", "/workspace/hits"), /from-browser/, "B's server received nothing from the page");
  });

  it("user nobody on the host cannot connect to a sandbox's agent or its servers", async () => {
    // Attacker: an unprivileged host account. Attack: curl <B>:3000 and <B>:8080 directly.
    // Expected: the connection is refused by the host firewall (curl gets no HTTP answer at all).
    const uid = await idOf("passwd", "nobody");
    const nogroup = await idOf("group", "nogroup");
    for (const port of [3000, 8080]) {
      const r = await curlAs({ uid, gid: nogroup }, [`http://${bIp}:${port}/from-nobody`]);
      assert.notEqual(r.code, 0, `port ${port}: curl as nobody must fail (got ${r.status} ${r.body})`);
      assert.equal(r.status, "000", `port ${port}: no HTTP answer`);
    }
    assert.doesNotMatch(await fileIn("sec-b", "/workspace/hits"), /from-nobody/);
  });

  it("root outside the control plane's group cannot connect either", async () => {
    // Attacker: a host process running as root but not as the control plane (this test process).
    // Expected: connect() fails at the firewall for the agent port and for user ports.
    for (const port of [3000, 8080]) assert.notEqual(await canConnect(bIp, port), "connected", `port ${port}`);
  });

  it("with the control plane's group but without the key the agent answers 401; Origin and text/plain are refused even with the key", async () => {
    // Attacker: a process that got through the firewall (the control plane's group) but does not hold
    // B's agent key. Expected: 401 AGENT_UNAUTHORIZED; a browser-style request (Origin) 403; a
    // non-JSON body 415 — the last two even with the right key. Control: the key and JSON work.
    const key = await agentKey("sec-b");
    const base = `http://${bIp}:3000`;
    const asCp = { gid };
    const body = (f: string) => JSON.stringify({ command: `touch /workspace/${f}` });
    const none = await curlAs(asCp, [`${base}/api/execute`, "-H", "content-type: application/json", "-d", body("pwned-nokey")]);
    assert.equal(none.status, "401", none.body);
    assert.equal(JSON.parse(none.body).code, "AGENT_UNAUTHORIZED");
    const wrong = await curlAs(asCp, [`${base}/api/version`, "-H", `${AGENT_KEY_HEADER}: ${key.slice(0, -1)}x`]);
    assert.equal(wrong.status, "401", wrong.body);
    const origin = await curlAs(asCp, [`${base}/api/execute`, "-H", "content-type: application/json", "-H", `${AGENT_KEY_HEADER}: ${key}`, "-H", "origin: http://8080-sec-a-x.localhost", "-d", body("pwned-origin")]);
    assert.equal(origin.status, "403", origin.body);
    assert.equal(JSON.parse(origin.body).code, "ORIGIN_NOT_ALLOWED");
    const text = await curlAs(asCp, [`${base}/api/execute`, "-H", "content-type: text/plain", "-H", `${AGENT_KEY_HEADER}: ${key}`, "-d", body("pwned-textplain")]);
    assert.equal(text.status, "415", text.body);
    assert.equal(JSON.parse(text.body).code, "UNSUPPORTED_MEDIA_TYPE");
    const ok = await curlAs(asCp, [`${base}/api/execute`, "-H", "content-type: application/json", "-H", `${AGENT_KEY_HEADER}: ${key}`, "-d", JSON.stringify({ command: "echo control" })]);
    assert.equal(ok.status, "200", `control: the key opens the agent (${ok.body})`);
    assert.equal(JSON.parse(ok.body).stdout, "control\n");
    assert.equal((await exec(atoll, "sec-b", "ls /workspace/ | grep -c pwned || true")).stdout.trim(), "0", "no refused command ran");
  });

  it("the key is not visible inside the sandbox and changes when the sandbox restarts", async () => {
    // Attacker: code in sandbox B looking for its agent key (to use it from elsewhere), and anyone
    // holding a key from an earlier instance. Expected: no process environment in B holds the key;
    // after sleep + wake the old key is refused.
    const key = await agentKey("sec-b");
    const env = await exec(atoll, "sec-b", "cat /proc/[0-9]*/environ 2>/dev/null | tr '\\0' '\\n'; env");
    assert.equal(env.status, 200);
    assert.ok(env.stdout.includes("PATH="), "control: environments were read");
    assert.ok(!env.stdout.includes(key), "the agent key is in a process environment inside the sandbox");
    assert.equal((await atoll.json("POST", "/v1/sandboxes/sec-b/sleep")).status, 200);
    assert.equal((await exec(atoll, "sec-b", "true")).status, 200, "wakes with a new key");
    const fresh = await agentKey("sec-b");
    assert.notEqual(fresh, key, "rotated on restart");
    const ip = (await hostResources(atoll.dataDir, "sec-b")).ip!;
    const old = await curlAs({ gid }, [`http://${ip}:3000/api/version`, "-H", `${AGENT_KEY_HEADER}: ${key}`]);
    assert.equal(old.status, "401", "the previous instance's key opens nothing");
    await startServer(b, 8080); // for the next case (sleep ended it)
  });
});

describe("the API key never reaches a sandbox", () => {
  const leaks = (body: string) => body.includes(atoll.apiKey);

  it("Proxy-Authorization and a multi-value Authorization carrying the key are stripped by the preview proxy", async () => {
    // Attacker: code in sandbox B reading the headers of requests to its server, hoping a client
    // sent the control plane's API key along. Expected: any Authorization/Proxy-Authorization field
    // carrying the key is dropped; the app's own credentials pass (control).
    const { url } = await b.exposePort(8080, { name: "echo" });
    const host = new URL(url).host;
    const k = atoll.apiKey;
    const cases: Record<string, string>[] = [
      { "proxy-authorization": `Bearer ${k}` },
      { authorization: `Basic dTpw, Bearer ${k}` },
      { authorization: `Bearer ${k}, Basic dTpw` },
      { authorization: `Bearer ${k}` },
    ];
    for (const headers of cases) {
      const r = await send(atoll.port, host, { path: "/echo-preview", headers });
      assert.equal(r.status, 200, r.body.toString());
      assert.ok(!leaks(r.body.toString()), `${JSON.stringify(headers)} reached the sandbox: ${r.body}`);
    }
    const app = await send(atoll.port, host, { path: "/echo-preview", headers: { authorization: "Bearer app-token", "proxy-authorization": "Basic cHJveHk6cA==" } });
    const raw = JSON.parse(app.body.toString()).raw as string[];
    assert.ok(raw.includes("Bearer app-token") && raw.includes("Basic cHJveHk6cA=="), `control: app credentials pass (${raw})`);
  });

  it("the API's /proxy route and /api forwarding strip the key too", async () => {
    const k = atoll.apiKey;
    const r = await send(atoll.port, `localhost:${atoll.port}`, { path: "/v1/sandboxes/sec-b/proxy/8080/echo-api", headers: { authorization: `Bearer ${k}`, "proxy-authorization": `Bearer ${k}` } });
    assert.equal(r.status, 200, r.body.toString());
    assert.ok(!leaks(r.body.toString()), `the key reached the sandbox: ${r.body}`);
    // /api forwarding: the agent is inside the sandbox too. Its requests are not echoed, so look at
    // what a process there can see: the agent's own environment and command line hold no key.
    const f = await atoll.json("POST", "/v1/sandboxes/sec-b/api/execute", { command: "cat /proc/[0-9]*/environ /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' '\\n'" }, { headers: { "proxy-authorization": `Bearer ${k}`, origin: "http://evil.example" } });
    assert.equal(f.status, 200, "Origin from the caller is stripped by the control plane, not passed to the agent");
    assert.ok(!leaks(f.body.stdout), "the API key is visible inside the sandbox");
  });
});
