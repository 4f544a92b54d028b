// Integration tests of /api/execute and /api/execute/stream against the real bundled agent and bash.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { SSE, alive, exec, memoryOf, pidsWithEnv, post, startAgent, until, type Agent } from "./exec-harness.js";

let agent: Agent;
/** Env tags unique to this run, so leftovers of other runs never match. */
const tag = (name: string) => `${name}-${process.pid}-${Date.now()}`;
before(async () => {
  agent = await startAgent();
});
after(async () => {
  await agent?.stop();
});

describe("execute (buffered)", () => {
  test("result shape; non-zero exit is a result, not an error", async () => {
    const r = await exec(agent.url, "echo out; echo err >&2; exit_code() { return 3; }; exit_code");
    assert.equal(r.success, false);
    assert.equal(r.exitCode, 3);
    assert.equal(r.stdout, "out\n");
    assert.equal(r.stderr, "err\n");
    assert.equal(r.sessionId, "default");
    assert.equal(typeof r.duration, "number");
    assert.ok(!Number.isNaN(Date.parse(r.timestamp)));
    assert.equal(r.command, "echo out; echo err >&2; exit_code() { return 3; }; exit_code");
  });

  test("unknown command → 127 and 'not found' on stderr", async () => {
    const r = await exec(agent.url, "definitely-not-a-command-xyz");
    assert.equal(r.exitCode, 127);
    assert.match(r.stderr, /not found/);
  });

  test("stdin is /dev/null", async () => {
    const r = await exec(agent.url, "cat; read x; echo \"rc=$? x=$x\"");
    assert.equal(r.stdout, "rc=1 x=\n");
  });

  test("`exit 1` gives exitCode 1; exported vars, functions, aliases and cwd survive the restart", async () => {
    await post(agent.url, "/api/session/create", { id: "exit-s" });
    await exec(agent.url, "cd /tmp && export KEEP='a b' && f() { echo fn; } && alias al='echo al' && LOCAL=1", { sessionId: "exit-s" });
    const r = await exec(agent.url, "echo bye; exit 1", { sessionId: "exit-s" });
    assert.equal(r.exitCode, 1);
    assert.equal(r.stdout, "bye\n");
    assert.equal(r.shellRestarted, true);
    const r2 = await exec(agent.url, 'pwd; echo "$KEEP"; f; al; echo "[${LOCAL-}]"', { sessionId: "exit-s" });
    assert.equal(r2.stdout, "/tmp\na b\nfn\nal\n[]\n");
  });

  test("syntax errors are results (exit 2), the session keeps working", async () => {
    const r = await exec(agent.url, "if then fi (");
    assert.equal(r.exitCode, 2);
    assert.match(r.stderr, /syntax error/);
    assert.equal((await exec(agent.url, "echo ok")).stdout, "ok\n");
  });

  test("a command that redirects the shell's own stdout/stderr does not hang the session", async () => {
    await post(agent.url, "/api/session/create", { id: "redir" });
    const r = await exec(agent.url, "exec 2>&1; echo to-err >&2", { sessionId: "redir", timeoutMs: 5000 });
    assert.equal(r.timedOut, undefined);
    assert.equal(r.stdout, "to-err\n");
    const r2 = await exec(agent.url, "exec >/dev/null; echo gone", { sessionId: "redir", timeoutMs: 5000 });
    assert.deepEqual([r2.exitCode, r2.stdout, r2.timedOut], [0, "", undefined]);
  });

  test("a long command (200 KB heredoc with quotes and backslashes) arrives byte for byte", async () => {
    const line = `q'uote "dq" \\back $notvar \`tick\` tab\tend  `;
    const body = Array.from({ length: 4000 }, (_, i) => `${i} ${line}`).join("\n");
    const f = `${agent.workdir}/long.txt`;
    const r = await exec(agent.url, `cat > ${f} <<'ATOLL_EOF'\n${body}\nATOLL_EOF\necho written`);
    assert.equal(r.stdout, "written\n");
    const { readFileSync } = await import("node:fs");
    assert.equal(readFileSync(f, "utf8"), body + "\n");
  });

  test("10 000 lines of output arrive complete and in order", async () => {
    const r = await exec(agent.url, "seq 1 10000");
    const lines = r.stdout.trimEnd().split("\n");
    assert.equal(lines.length, 10000);
    assert.equal(lines[0], "1");
    assert.equal(lines[9999], "10000");
    assert.ok(lines.every((l: string, i: number) => l === String(i + 1)));
  });

  test("output without a trailing newline and with NUL-free binary-ish bytes", async () => {
    const r = await exec(agent.url, "printf 'no newline'; printf 'é€😀' >&2");
    assert.equal(r.stdout, "no newline");
    assert.equal(r.stderr, "é€😀");
  });

  test("per-command env and cwd apply to that command only", async () => {
    const value = `it's "quoted" $HOME \`x\` \\ back\nline2`;
    const r = await exec(agent.url, 'printf "%s|" "$V"; pwd', { env: { V: value }, cwd: "/usr" });
    assert.equal(r.stdout, `${value}|/usr\n`);
    const r2 = await exec(agent.url, 'echo "[${V-unset}]"; pwd');
    assert.equal(r2.stdout.split("\n")[0], "[unset]");
    assert.notEqual(r2.stdout.split("\n")[1], "/usr");
  });

  test("a missing per-command cwd fails the command with a message", async () => {
    const r = await exec(agent.url, "echo never", { cwd: "/no/such/dir" });
    assert.equal(r.exitCode, 1);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /No such file or directory/);
  });

  test("timeoutMs kills the command and its children; timedOut and exit 124", async () => {
    const t0 = Date.now();
    const t = tag("to");
    const r = await exec(agent.url, `export ATOLL_T=${t}; sleep 30 & sleep 30; echo after`, { timeoutMs: 300 });
    assert.ok(Date.now() - t0 < 5000, "returned promptly");
    assert.equal(r.timedOut, true);
    assert.equal(r.exitCode, 124);
    assert.equal(r.success, false);
    assert.doesNotMatch(r.stdout, /after/);
    await until(() => pidsWithEnv(`ATOLL_T=${t}`).length === 0, 3000, "timed-out children to be gone");
    // The session still works afterwards.
    assert.equal((await exec(agent.url, "echo alive")).stdout, "alive\n");
  });

  test("timeout also stops a shell-builtin busy loop", async () => {
    const r = await exec(agent.url, "while :; do :; done", { timeoutMs: 200 });
    assert.equal(r.timedOut, true);
    assert.equal((await exec(agent.url, "echo next")).stdout, "next\n");
  });

  test("earlier background jobs survive a later command's timeout", async () => {
    await post(agent.url, "/api/session/create", { id: "bg-s" });
    const r = await exec(agent.url, "sleep 30 >/dev/null 2>&1 & echo $!", { sessionId: "bg-s" });
    const pid = Number(r.stdout.trim());
    assert.ok(alive(pid));
    await exec(agent.url, "sleep 30", { sessionId: "bg-s", timeoutMs: 200 });
    assert.ok(alive(pid), "the earlier job is still running");
    process.kill(pid, "SIGKILL");
  });

  test("10 concurrent execs on one session are serialized; output never interleaves", async () => {
    const cmds = Array.from({ length: 10 }, (_, i) => `for j in $(seq 1 200); do echo "c${i}-$j"; done; echo "c${i}-err" >&2`);
    const results = await Promise.all(cmds.map((c) => exec(agent.url, c)));
    results.forEach((r, i) => {
      const lines = r.stdout.trimEnd().split("\n");
      assert.equal(lines.length, 200);
      assert.ok(lines.every((l: string, j: number) => l === `c${i}-${j + 1}`), `command ${i} output is its own`);
      assert.equal(r.stderr, `c${i}-err\n`);
    });
  });

  test("different sessions run in parallel", async () => {
    await post(agent.url, "/api/session/create", { id: "par-a" });
    await post(agent.url, "/api/session/create", { id: "par-b" });
    const t0 = Date.now();
    await Promise.all([exec(agent.url, "sleep 0.6", { sessionId: "par-a" }), exec(agent.url, "sleep 0.6", { sessionId: "par-b" })]);
    assert.ok(Date.now() - t0 < 1100, `took ${Date.now() - t0} ms`);
  });

  test("bad input gets coded 4xx errors", async () => {
    let r = await post(agent.url, "/api/execute", { command: "" });
    assert.equal(r.status, 400);
    assert.equal(r.body.code, "INVALID_COMMAND");
    r = await post(agent.url, "/api/execute", { command: "echo a\u0000b" });
    assert.equal(r.body.code, "INVALID_COMMAND");
    r = await post(agent.url, "/api/execute", { command: "true", timeoutMs: -1 });
    assert.equal(r.body.code, "VALIDATION_FAILED");
    r = await post(agent.url, "/api/execute", { command: "true", env: { "BAD-NAME": "x" } });
    assert.equal(r.body.code, "VALIDATION_FAILED");
    r = await post(agent.url, "/api/execute", { command: "true", sessionId: "nope" });
    assert.equal(r.status, 404);
    assert.equal(r.body.code, "SESSION_NOT_FOUND");
  });
});

describe("execute/stream", () => {
  test("events start, stdout, stderr, complete; a line before `sleep` arrives before the sleep ends", async () => {
    const s = new SSE(agent.url + "/api/execute/stream", "POST", { command: "echo first; sleep 1.5; echo second >&2; exit 4" });
    const start = await s.nextTimed();
    assert.equal(start!.ev.type, "start");
    const first = await s.nextTimed();
    assert.deepEqual([first!.ev.type, first!.ev.data], ["stdout", "first\n"]);
    const second = await s.nextTimed();
    assert.deepEqual([second!.ev.type, second!.ev.data], ["stderr", "second\n"]);
    assert.ok(second!.at - first!.at >= 1200, `first line arrived ${second!.at - first!.at} ms before the second`);
    const complete = await s.next();
    assert.equal(complete.type, "complete");
    assert.equal(complete.exitCode, 4);
    assert.equal(await s.next(), null);
  });

  test("client abort kills the running command", async () => {
    const t = tag("abort");
    const s = new SSE(agent.url + "/api/execute/stream", "POST", { command: `export ATOLL_T=${t}; echo go; sleep 60` });
    try {
      await s.until("stdout");
      await until(() => pidsWithEnv(`ATOLL_T=${t}`).length === 1, 3000, "sleep to run");
    } finally {
      s.close();
    }
    await until(() => pidsWithEnv(`ATOLL_T=${t}`).length === 0, 3000, "aborted command to be killed");
    assert.equal((await exec(agent.url, "echo after-abort")).stdout, "after-abort\n");
  });

  test("timeout in a stream ends with complete {timedOut, exitCode 124}", async () => {
    const s = new SSE(agent.url + "/api/execute/stream", "POST", { command: "sleep 20", timeoutMs: 200 });
    const evs = await s.until("complete");
    const c = evs.at(-1);
    assert.equal(c.exitCode, 124);
    assert.equal(c.timedOut, true);
  });

  test("a stalled reader loses nothing when the shell exits meanwhile", async () => {
    await post(agent.url, "/api/session/create", { id: "stall-exit" });
    const total = 20 * 1024 * 1024;
    const s = new SSE(agent.url + "/api/execute/stream", "POST", { command: `head -c ${total} /dev/zero | tr '\\0' a; exit 3`, sessionId: "stall-exit" }, { keep: false });
    await until(() => s.bytes > 1024 * 1024, 10_000, "first MiB");
    s.res!.pause();
    await new Promise((r) => setTimeout(r, 800));
    s.res!.resume();
    const evs = await s.until("complete", 30_000);
    assert.equal(evs.at(-1).exitCode, 3);
    assert.equal(s.dataChars, total);
  });

  test("200 MiB through execute/stream in bounded agent memory, with a stalled reader", { timeout: 120_000 }, async () => {
    await post(agent.url, "/api/session/create", { id: "big" });
    const total = 200 * 1024 * 1024;
    const before = memoryOf(agent.pid).rss;
    let peak = before;
    const sampler = setInterval(() => {
      try {
        peak = Math.max(peak, memoryOf(agent.pid).rss);
      } catch {
        /* agent gone: the test fails below */
      }
    }, 25);
    try {
      const s = new SSE(agent.url + "/api/execute/stream", "POST", { command: `head -c ${total} /dev/zero | tr '\\0' 'a'`, sessionId: "big" }, { keep: false });
      await until(() => s.bytes > 8 * 1024 * 1024, 20_000, "first 8 MiB");
      // Stall the reader: the agent must stop reading the shell instead of buffering.
      s.res!.pause();
      await new Promise((r) => setTimeout(r, 1500));
      const stalledPeak = peak;
      s.res!.resume();
      const evs = await s.until("complete", 100_000);
      assert.equal(evs.at(-1).exitCode, 0);
      // Payload is 'a' * total plus per-event JSON framing.
      assert.ok(s.bytes >= total, `received ${s.bytes} bytes`);
      assert.ok(stalledPeak - before < 96 * 1024 * 1024, `RSS grew ${((stalledPeak - before) / 1048576).toFixed(1)} MiB while stalled`);
      assert.ok(peak - before < 128 * 1024 * 1024, `RSS grew ${((peak - before) / 1048576).toFixed(1)} MiB`);
      console.log(`# 200 MiB stream: agent RSS before ${(before / 1048576).toFixed(0)} MiB, peak ${(peak / 1048576).toFixed(0)} MiB`);
    } finally {
      clearInterval(sampler);
    }
  });
});
