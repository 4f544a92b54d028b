// git/checkout against a real agent and a real git server on 127.0.0.1: `git http-backend` behind a
// tiny Node HTTP server with basic auth, serving a bare repo with two branches.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { freePort, postJson, startAgent, type TestAgent } from "./files-helper.js";

const USER = "alice";
const PASSWORD = "s3cr3t-Pa55word";

const gitEnv = { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@t", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@t", GIT_CONFIG_NOSYSTEM: "1", HOME: os.tmpdir() };
const git = (args: string[], cwd?: string) => execFileSync("git", args, { cwd, env: gitEnv, stdio: ["ignore", "pipe", "pipe"] }).toString().trim();

/** A bare repo "repo.git": main has 2 commits, feature branches off with one more. */
function makeRepos(root: string): void {
  const work = path.join(root, "work");
  fs.mkdirSync(work, { recursive: true });
  git(["init", "-q", "-b", "main", work]);
  fs.writeFileSync(path.join(work, "README.md"), "hello\n");
  git(["add", "."], work);
  git(["commit", "-q", "-m", "one"], work);
  fs.writeFileSync(path.join(work, "main.txt"), "main\n");
  git(["add", "."], work);
  git(["commit", "-q", "-m", "two"], work);
  git(["checkout", "-q", "-b", "feature"], work);
  fs.writeFileSync(path.join(work, "feature.txt"), "feature\n");
  git(["add", "."], work);
  git(["commit", "-q", "-m", "three"], work);
  git(["checkout", "-q", "main"], work);
  git(["clone", "-q", "--bare", work, path.join(root, "repos/repo.git")]);
}

/** CGI bridge to `git http-backend`; /private/… requires basic auth. */
function gitServer(projectRoot: string): http.Server {
  return http.createServer((req, res) => {
    const u = new URL(req.url ?? "/", "http://x");
    let pathInfo = u.pathname;
    if (pathInfo.startsWith("/private/")) {
      const want = "Basic " + Buffer.from(`${USER}:${PASSWORD}`).toString("base64");
      if (req.headers.authorization !== want) {
        res.writeHead(401, { "www-authenticate": 'Basic realm="git"' });
        res.end("auth required");
        return;
      }
      pathInfo = pathInfo.slice("/private".length);
    }
    const child = spawn("git", ["http-backend"], {
      env: {
        PATH: process.env.PATH, GIT_PROJECT_ROOT: projectRoot, GIT_HTTP_EXPORT_ALL: "1", PATH_INFO: pathInfo,
        REQUEST_METHOD: req.method, QUERY_STRING: u.search.slice(1), CONTENT_TYPE: req.headers["content-type"] ?? "",
        ...(req.headers["content-length"] ? { CONTENT_LENGTH: req.headers["content-length"] } : {}),
        HTTP_CONTENT_ENCODING: req.headers["content-encoding"] ?? "", GIT_PROTOCOL: String(req.headers["git-protocol"] ?? ""),
        REMOTE_ADDR: "127.0.0.1", GIT_CONFIG_NOSYSTEM: "1",
      },
      stdio: ["pipe", "pipe", "ignore"],
    });
    req.pipe(child.stdin);
    // CGI output: headers, blank line, body.
    let head = Buffer.alloc(0);
    let headersDone = false;
    child.stdout.on("data", (c: Buffer) => {
      if (headersDone) return void res.write(c);
      head = Buffer.concat([head, c]);
      const idx = head.indexOf("\r\n\r\n") >= 0 ? head.indexOf("\r\n\r\n") : head.indexOf("\n\n");
      if (idx < 0) return;
      const sep = head[idx] === 13 ? 4 : 2;
      let status = 200;
      const headers: Record<string, string> = {};
      for (const line of head.subarray(0, idx).toString("latin1").split(/\r?\n/)) {
        const m = /^([^:]+):\s*(.*)$/.exec(line);
        if (!m) continue;
        if (m[1]!.toLowerCase() === "status") status = parseInt(m[2]!, 10);
        else headers[m[1]!] = m[2]!;
      }
      headersDone = true;
      res.writeHead(status, headers);
      res.write(head.subarray(idx + sep));
    });
    child.stdout.on("end", () => res.end());
    child.on("error", () => res.destroy());
  });
}

let agent: TestAgent;
let tmp: string;
let server: http.Server;
let silent: net.Server;
let base: string;
let silentPort: number;
const silentSockets = new Set<net.Socket>();

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "atoll-git-test-"));
  makeRepos(tmp);
  server = gitServer(path.join(tmp, "repos"));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  // A black hole: accepts connections and never answers.
  silent = net.createServer((s) => {
    silentSockets.add(s);
    s.on("close", () => silentSockets.delete(s));
    s.on("error", () => {});
  });
  await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
  silentPort = (silent.address() as net.AddressInfo).port;
  agent = await startAgent({ ATOLL_GIT_STALL_TIMEOUT_MS: "2000" });
});

after(async () => {
  await agent?.stop();
  for (const s of silentSockets) s.destroy();
  await new Promise((r) => silent?.close(r));
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  fs.rmSync(tmp, { recursive: true, force: true });
});

const checkout = (body: Record<string, unknown>) => postJson(agent.url, "/api/git/checkout", body);

describe("git checkout", () => {
  test("branch + targetDir + depth: a shallow clone of that branch", async () => {
    const target = `${agent.workspace}/shallow`;
    const r = await checkout({ repoUrl: `${base}/repo.git`, branch: "feature", targetDir: target, depth: 1 });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual({ ...r.body, timestamp: undefined }, { success: true, repoUrl: `${base}/repo.git`, branch: "feature", targetDir: target, timestamp: undefined, exitCode: 0 });
    assert.equal(fs.readFileSync(`${target}/feature.txt`, "utf8"), "feature\n");
    assert.equal(git(["rev-list", "--count", "HEAD"], target), "1");
    assert.equal(git(["rev-parse", "--is-shallow-repository"], target), "true");
  });

  test("defaults: the remote's default branch into /workspace/<repo name>, full history", async () => {
    const r = await checkout({ repoUrl: `${base}/repo.git`, sessionId: "default" });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.branch, "main");
    assert.equal(r.body.targetDir, `${agent.workspace}/repo`);
    assert.equal(git(["rev-list", "--count", "HEAD"], `${agent.workspace}/repo`), "2");
    assert.ok(!fs.existsSync(`${agent.workspace}/repo/feature.txt`));
  });

  test("credentials in the URL work and never come back", async () => {
    const url = `http://${USER}:${PASSWORD}@${base.slice(7)}/private/repo.git`;
    const r = await checkout({ repoUrl: url, targetDir: `${agent.workspace}/private-ok` });
    assert.equal(r.status, 200, r.text);
    assert.ok(!r.text.includes(PASSWORD));
    assert.equal(r.body.repoUrl, `http://******@${base.slice(7)}/private/repo.git`);
    assert.ok(fs.existsSync(`${agent.workspace}/private-ok/main.txt`));
  });

  test("error codes: missing repo, missing branch, bad password, no credentials, existing target", async () => {
    const cases: Array<[Record<string, unknown>, string, number]> = [
      [{ repoUrl: `${base}/missing.git` }, "GIT_REPOSITORY_NOT_FOUND", 404],
      [{ repoUrl: `${base}/repo.git`, branch: "no-such-branch", targetDir: `${agent.workspace}/nb` }, "GIT_BRANCH_NOT_FOUND", 404],
      [{ repoUrl: `http://${USER}:wrong-${PASSWORD}@${base.slice(7)}/private/repo.git`, targetDir: `${agent.workspace}/wp` }, "GIT_AUTH_FAILED", 401],
      [{ repoUrl: `${base}/private/repo.git`, targetDir: `${agent.workspace}/nc` }, "GIT_AUTH_FAILED", 401],
      [{ repoUrl: `${base}/repo.git`, targetDir: `${agent.workspace}/shallow` }, "GIT_CLONE_FAILED", 500],
    ];
    for (const [body, code, status] of cases) {
      const r = await checkout(body);
      assert.equal(r.body?.code, code, `${JSON.stringify(body)} → ${r.text}`);
      assert.equal(r.status, status);
      assert.match(r.body.message, /^Cannot clone /);
      assert.ok(!r.text.includes(PASSWORD), `password leaked: ${r.text}`);
    }
    // Failed clones leave no directory behind; the existing one is untouched.
    assert.ok(!fs.existsSync(`${agent.workspace}/nb`) && !fs.existsSync(`${agent.workspace}/wp`));
    assert.ok(fs.existsSync(`${agent.workspace}/shallow/feature.txt`));
    assert.ok(!agent.logs().includes(PASSWORD), "password leaked into the agent log");
  });

  test("network errors: refused port, black-holed http and git:// hosts", async () => {
    const closed = await freePort();
    for (const repoUrl of [`http://${USER}:${PASSWORD}@127.0.0.1:${closed}/r.git`, `http://127.0.0.1:${silentPort}/r.git`, `git://127.0.0.1:${silentPort}/r.git`]) {
      const t0 = Date.now();
      const r = await checkout({ repoUrl, targetDir: `${agent.workspace}/net` });
      assert.equal(r.body?.code, "GIT_NETWORK_ERROR", `${repoUrl} → ${r.text}`);
      assert.equal(r.status, 502);
      assert.ok(Date.now() - t0 < 15_000, "stalled clones are cut off by the stall timeout");
      assert.ok(!r.text.includes(PASSWORD));
    }
    assert.ok(!fs.existsSync(`${agent.workspace}/net`));
  });

  test("invalid URLs are refused before git runs", async () => {
    for (const repoUrl of ["ftp://x", "garbage", "not a url", "-oProxyCommand=touch /tmp/pwned", "ext::sh -c touch% /tmp/pwned", "https://", "", 42]) {
      const r = await checkout({ repoUrl });
      assert.equal(r.body?.code, "INVALID_GIT_URL", `${String(repoUrl)} → ${r.text}`);
      assert.equal(r.status, 400);
    }
    const badDepth = await checkout({ repoUrl: `${base}/repo.git`, depth: -1 });
    assert.deepEqual([badDepth.status, badDepth.body.code], [400, "VALIDATION_FAILED"]);
    const badBranch = await checkout({ repoUrl: `${base}/repo.git`, branch: "--upload-pack=x" });
    assert.deepEqual([badBranch.status, badBranch.body.code], [400, "VALIDATION_FAILED"]);
  });
});
