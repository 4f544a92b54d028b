// Interpreter contexts: no internal ATOLL_* variables in the executor's environment, and the
// executor runs with a raised oom_score_adj (it dies before the agent under memory pressure).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { createContext, runCode, startAgent, type Agent } from "./interpreter-helpers.js";

let agent: Agent;
before(async () => {
  process.env.ATOLL_STARTUP = "sleep 1"; // as the driver sets it
  agent = await startAgent(); // sets more ATOLL_* (runner paths, NO_LISTEN) in this process
});
after(async () => {
  await agent?.close();
});

test("a JavaScript context sees no ATOLL_* variables and runs at the raised oom_score_adj", async () => {
  assert.ok(Object.keys(process.env).filter((k) => k.startsWith("ATOLL_")).length >= 3, "the agent has internal settings to hide");
  const ctx = await createContext(agent.base, { language: "javascript" });
  const code = `console.log(JSON.stringify(Object.keys(process.env).filter((k) => k.startsWith("ATOLL_")))); console.log(require("fs").readFileSync("/proc/self/oom_score_adj", "utf8").trim())`;
  const r = await runCode(agent.base, { context_id: ctx, code });
  assert.equal(r.execError, undefined, JSON.stringify(r.execError));
  const [names, adj] = r.stdout.trim().split("\n");
  assert.deepEqual(JSON.parse(names!), []);
  const own = Number(fs.readFileSync("/proc/self/oom_score_adj", "utf8"));
  assert.equal(Number(adj), Math.min(1000, own + 500));
});
