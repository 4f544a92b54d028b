// git/checkout in a real sandbox through the control plane. Sandboxes cannot reach the host, so the
// git servers run inside the sandbox itself on 127.0.0.1: `git daemon` for a bare repo with two
// branches, and a tiny Node server that always answers 401 for the auth case.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createSandbox, startAtoll, type Atoll } from "./harness.js";

const ID = "e2e-git";
const PASSWORD = "Sup3r-s3cret-t0ken";
let atoll: Atoll;
const api = (route: string, body: unknown) => atoll.json("POST", `/v1/sandboxes/${ID}/api${route}`, body);
const sh = async (command: string) => {
  const r = await api("/execute", { command, timeoutMs: 60_000 });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.exitCode, 0, `${command}\n${r.body.stdout}\n${r.body.stderr}`);
  return r.body.stdout as string;
};
const checkout = (body: Record<string, unknown>) => api("/git/checkout", body);

before(async () => {
  atoll = await startAtoll();
  await createSandbox(atoll, ID);
  await sh([
    "set -e",
    "export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@t GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@t",
    "mkdir -p /srv/work /srv/git && cd /srv/work && git init -q -b main .",
    "echo one > README.md && git add . && git commit -q -m one",
    "echo two > main.txt && git add . && git commit -q -m two",
    "git checkout -q -b feature && echo f > feature.txt && git add . && git commit -q -m three && git checkout -q main",
    "git clone -q --bare /srv/work /srv/git/repo.git",
  ].join("\n"));
  const daemon = await api("/process/start", { command: "git daemon --reuseaddr --export-all --base-path=/srv/git --listen=127.0.0.1 --port=9418 /srv/git" });
  assert.equal(daemon.status, 200, JSON.stringify(daemon.body));
  const deny = await api("/process/start", {
    command: `node -e "require('http').createServer((q,s)=>{s.writeHead(401,{'www-authenticate':'Basic realm=x'});s.end()}).listen(8401,'127.0.0.1')"`,
  });
  assert.equal(deny.status, 200, JSON.stringify(deny.body));
  // Both servers listen within a few seconds (bounded poll inside the sandbox).
  await sh("for i in $(seq 200); do git ls-remote git://127.0.0.1/repo.git >/dev/null 2>&1 && curl -s -o /dev/null http://127.0.0.1:8401/ && exit 0; sleep 0.05; done; exit 1");
});
after(async () => {
  await atoll?.stop();
});

describe("git checkout in a real sandbox", () => {
  test("branch + targetDir + depth", async () => {
    const r = await checkout({ repoUrl: "git://127.0.0.1/repo.git", branch: "feature", targetDir: "/workspace/shallow", depth: 1 });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual([r.body.success, r.body.branch, r.body.targetDir, r.body.repoUrl], [true, "feature", "/workspace/shallow", "git://127.0.0.1/repo.git"]);
    assert.equal(await sh("cd /workspace/shallow && cat feature.txt && git rev-list --count HEAD"), "f\n1\n");
  });

  test("defaults: the remote's default branch into /workspace/<repo>", async () => {
    const r = await checkout({ repoUrl: "git://127.0.0.1/repo.git" });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual([r.body.branch, r.body.targetDir], ["main", "/workspace/repo"]);
    assert.equal(await sh("git -C /workspace/repo rev-list --count HEAD"), "2\n");
  });

  test("error codes, and a password in the URL never comes back", async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ repoUrl: "git://127.0.0.1/missing.git", targetDir: "/workspace/e1" }, "GIT_REPOSITORY_NOT_FOUND"],
      [{ repoUrl: "git://127.0.0.1/repo.git", branch: "nope", targetDir: "/workspace/e2" }, "GIT_BRANCH_NOT_FOUND"],
      [{ repoUrl: `http://bob:${PASSWORD}@127.0.0.1:8401/repo.git`, targetDir: "/workspace/e3" }, "GIT_AUTH_FAILED"],
      [{ repoUrl: `https://bob:${PASSWORD}@127.0.0.1:1/repo.git`, targetDir: "/workspace/e4" }, "GIT_NETWORK_ERROR"],
      [{ repoUrl: "git://127.0.0.1:1/repo.git", targetDir: "/workspace/e5" }, "GIT_NETWORK_ERROR"],
      [{ repoUrl: "ftp://x" }, "INVALID_GIT_URL"],
      [{ repoUrl: "garbage" }, "INVALID_GIT_URL"],
    ];
    for (const [body, code] of cases) {
      const r = await checkout(body);
      assert.equal(r.body?.code, code, `${JSON.stringify(body)} → ${JSON.stringify(r.body)}`);
      assert.ok(!JSON.stringify(r.body).includes(PASSWORD), `password leaked: ${JSON.stringify(r.body)}`);
    }
    assert.equal(await sh("ls /workspace"), "repo\nshallow\n");
  });
});
