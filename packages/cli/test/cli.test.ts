// CLI pieces that need no server: argument parsing, remote-path parsing, dispatch and exit codes,
// and the built command (scripts/build.mjs) next to the source launcher.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { VERSION } from "@atoll/protocol";
import { UsageError, parseArgs, parseEnvPairs } from "../src/args.js";
import { parseRemote } from "../src/commands/cp.js";
import { apiKeyFromEnv } from "../src/connect.js";
import { run } from "../src/index.js";
import type { IO } from "../src/io.js";

function capture(): IO & { outText: () => string; errText: () => string } {
  let out = "";
  let err = "";
  const w = (f: (s: string) => void) => ({ write: (s: string) => (f(s), true) }) as unknown as NodeJS.WritableStream;
  return {
    out: (s) => (out += s + "\n"),
    err: (s) => (err += s + "\n"),
    stdout: w((s) => (out += s)),
    stderr: w((s) => (err += s)),
    outText: () => out,
    errText: () => err,
  };
}

test("parseArgs: flags, aliases, repeats, booleans, and words after -- kept verbatim", () => {
  const p = parseArgs(["box", "-e", "A=1", "--env=B=2", "--cwd", "/tmp", "--json", "--", "ls", "-la", "--env"], { string: ["cwd"], multi: ["env"], bool: ["json"], alias: { e: "env" } });
  assert.deepEqual(p.positionals, ["box"]);
  assert.deepEqual(p.multi.env, ["A=1", "B=2"]);
  assert.equal(p.flags.cwd, "/tmp");
  assert.equal(p.flags.json, true);
  assert.deepEqual(p.rest, ["ls", "-la", "--env"]);
  assert.throws(() => parseArgs(["--cwd"]), /unknown option '--cwd'/);
  assert.throws(() => parseArgs(["--cwd"], { string: ["cwd"] }), UsageError);
  assert.throws(() => parseArgs(["--json=1"], { bool: ["json"] }), UsageError);
  assert.deepEqual(parseEnvPairs(["A=x=y", "B="]), { A: "x=y", B: "" });
  assert.throws(() => parseEnvPairs(["=x"]), UsageError);
});

test("parseRemote: <id>:<path> is remote; absolute, ./ and invalid ids are local", () => {
  assert.deepEqual(parseRemote("my-box:/workspace/a"), { id: "my-box", path: "/workspace/a" });
  assert.deepEqual(parseRemote("box:"), { id: "box", path: "/workspace" });
  assert.equal(parseRemote("/abs/path:x"), null);
  assert.equal(parseRemote("./a:b"), null);
  assert.equal(parseRemote("Upper:x"), null);
  assert.equal(parseRemote("plain.txt"), null);
});

test("API key: ATOLL_API_KEY wins, else <ATOLL_DATA_DIR>/api-key, else none", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "atoll-cli-"));
  try {
    writeFileSync(path.join(dir, "api-key"), "from-file\n");
    assert.equal(apiKeyFromEnv({ ATOLL_API_KEY: "from-env", ATOLL_DATA_DIR: dir }), "from-env");
    assert.equal(apiKeyFromEnv({ ATOLL_DATA_DIR: dir }), "from-file");
    assert.equal(apiKeyFromEnv({ ATOLL_DATA_DIR: path.join(dir, "missing") }), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("run: help is 0 on request and 2 when no command; unknown commands and usage errors are 2", async () => {
  let io = capture();
  assert.equal(await run(["--help"], io, {}), 0);
  assert.match(io.outText(), /atoll exec <id>/);
  io = capture();
  assert.equal(await run([], io, {}), 2);
  io = capture();
  assert.equal(await run(["frobnicate"], io, {}), 2);
  assert.match(io.errText(), /unknown command "frobnicate"/);
  io = capture();
  assert.equal(await run(["expose", "box", "99999"], io, {}), 2);
  assert.match(io.errText(), /port must be an integer 1-65535/);
});

test("run: an unreachable server is exit 1 with 'Cannot …' and the registry code", async () => {
  const io = capture();
  assert.equal(await run(["--url", "http://127.0.0.1:1", "ls"], io, {}), 1);
  assert.match(io.errText(), /^atoll: Cannot list sandboxes: no answer from http:\/\/127\.0\.0\.1:1 .*\[SANDBOX_UNAVAILABLE\]/);
});

test("run: --version is the one VERSION; <command> --help is its usage; unknown flags are exit 2 with the usage line", async () => {
  let io = capture();
  assert.equal(await run(["--version"], io, {}), 0);
  assert.equal(io.outText(), `atoll ${VERSION}\n`);
  io = capture();
  assert.equal(await run(["exec", "--help"], io, {}), 0);
  assert.match(io.outText(), /^usage: atoll exec <id> /);
  io = capture();
  assert.equal(await run(["exec", "box", "--", "grep", "--help"], io, { ATOLL_URL: "http://127.0.0.1:1" }), 1, "--help after -- belongs to the command");
  io = capture();
  assert.equal(await run(["ls", "--bogus"], io, {}), 2);
  assert.match(io.errText(), /^atoll ls: unknown option '--bogus'\nusage: atoll ls /);
  io = capture();
  assert.equal(await run(["--bogus", "ls"], io, {}), 2);
  assert.match(io.errText(), /unknown option '--bogus'/);
  io = capture();
  assert.equal(await run(["--url"], io, {}), 2);
});

test("the built command (packages/cli/dist/atoll.mjs) and the source launcher (bin/atoll) both answer --version and --help", () => {
  for (const argv of [[fileURLToPath(new URL("../dist/atoll.mjs", import.meta.url))], [fileURLToPath(new URL("../bin/atoll", import.meta.url))]]) {
    const [cmd, ...pre] = argv[0]!.endsWith(".mjs") ? [process.execPath, ...argv] : argv;
    const v = spawnSync(cmd!, [...pre, "--version"], { encoding: "utf8" });
    assert.equal(v.status, 0, v.stderr);
    assert.equal(v.stdout, `atoll ${VERSION}\n`);
    const h = spawnSync(cmd!, [...pre, "--help"], { encoding: "utf8" });
    assert.equal(h.status, 0, h.stderr);
    assert.match(h.stdout, /atoll template add <name>/);
  }
});
