// Compatibility: the published SandboxClient of @cloudflare/sandbox@0.4.18 drives the agent's files,
// file-stream and git routes, and its own helpers (streamFile/collectFile, error classes) accept the
// results. @cloudflare/containers is mapped to a stub so the client loads in Node.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import { loadCloudflareSandbox } from "./cf-loader.js";
import { startAgent, type TestAgent } from "./files-helper.js";


// eslint-disable-next-line @typescript-eslint/no-explicit-any
let cf: any;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
let client: any;
let agent: TestAgent;
let ws: string;

before(async () => {
  cf = await loadCloudflareSandbox();
  agent = await startAgent();
  ws = agent.workspace;
  client = new cf.SandboxClient({ baseUrl: agent.url });
});
after(async () => {
  await agent?.stop();
});

test("readFileStream + collectFile: binary comes back as bytes, text as a string", async () => {
  const bin = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(200_000, 0xab)]);
  fs.writeFileSync(`${ws}/pic.png`, bin);
  const b = await cf.collectFile(await client.files.readFileStream(`${ws}/pic.png`, "default"));
  assert.deepEqual(b.metadata, { mimeType: "image/png", size: bin.length, isBinary: true, encoding: "base64" });
  assert.ok(Buffer.from(b.content).equals(bin));
  const text = "line ✓\n".repeat(20_000);
  fs.writeFileSync(`${ws}/t.txt`, text);
  const t = await cf.collectFile(await client.files.readFileStream(`${ws}/t.txt`, "default"));
  assert.equal(t.metadata.isBinary, false);
  assert.equal(t.content, text);
});

test("rename, move, delete and list through the client; a directory delete is a coded error", async () => {
  await client.files.writeFile(`${ws}/m/a.txt`, "a", "default");
  const ren = await client.files.renameFile(`${ws}/m/a.txt`, `${ws}/m/b.txt`, "default");
  assert.equal(ren.success, true);
  await client.files.mkdir(`${ws}/m/into`, "default");
  const mv = await client.files.moveFile(`${ws}/m/b.txt`, `${ws}/m/into/c.txt`, "default");
  assert.equal(mv.success, true);
  const list = await client.files.listFiles(`${ws}/m`, "default", { recursive: true });
  assert.deepEqual(list.files.map((f: any) => f.relativePath), ["into", "into/c.txt"]);
  await assert.rejects(client.files.deleteFile(`${ws}/m/into`, "default"), (e: any) => e.code === "IS_DIRECTORY" && e.httpStatus === 400);
  await assert.rejects(client.files.readFile(`${ws}/m/none`, "default"), (e: any) => e.name === "FileNotFoundError" && e.path === `${ws}/m/none`);
  assert.equal((await client.files.deleteFile(`${ws}/m/into/c.txt`, "default")).success, true);
});

test("git checkout through the client: success and the SDK's git error classes", async () => {
  const src = `${ws}/src-repo`;
  const env = { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@t", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@t", GIT_CONFIG_NOSYSTEM: "1" };
  execFileSync("sh", ["-c", `git init -q -b main ${src} && cd ${src} && echo x > x && git add x && git commit -q -m x`], { env });
  const ok = await client.git.checkout(`file://${src}`, "default", { targetDir: `${ws}/cloned` });
  assert.deepEqual([ok.success, ok.branch, ok.targetDir], [true, "main", `${ws}/cloned`]);
  assert.equal(fs.readFileSync(`${ws}/cloned/x`, "utf8"), "x\n");
  await assert.rejects(client.git.checkout(`file://${ws}/nope.git`, "default", { targetDir: `${ws}/n` }), (e: any) => e.name === "GitRepositoryNotFoundError" && e.repository === `file://${ws}/nope.git`);
  await assert.rejects(client.git.checkout(`file://${src}`, "default", { branch: "nope", targetDir: `${ws}/n` }), (e: any) => e.name === "GitBranchNotFoundError" && e.branch === "nope");
  await assert.rejects(client.git.checkout("ftp://x", "default", { targetDir: `${ws}/n` }), (e: any) => e.name === "InvalidGitUrlError");
});
