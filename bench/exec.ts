// Exec round trip: exec("true") on a warm sandbox through the control plane (keep-alive client),
// beside the same call straight to the sandbox's agent and a local child_process spawn of `true`,
// all in the same run. Usage: node --import tsx bench/exec.ts [--n 500] [--warmup 50]
import { spawn } from "node:child_process";
import http from "node:http";
import { parseArgs } from "node:util";
import { AGENT_KEY_HEADER } from "@atoll/protocol";
import { agentKeyOf, hostResources, joinControlPlaneGroup, startAtoll } from "../tests/e2e/harness.js";

const { values } = parseArgs({ options: { n: { type: "string", default: "500" }, warmup: { type: "string", default: "50" } } });
const N = Number(values.n);
const WARM = Number(values.warmup);

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * p))]!;
};

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
function post(host: string, port: number, path: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  const data = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port, path, method: "POST", agent, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(data), ...headers } }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on("error", reject);
    req.end(data);
  });
}

async function timeIt(n: number, fn: () => Promise<void>): Promise<number[]> {
  const xs: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    xs.push(performance.now() - t);
  }
  return xs;
}

const spawnTrue = () =>
  new Promise<void>((resolve, reject) => {
    const c = spawn("true", { stdio: "ignore" });
    c.on("error", reject);
    c.on("exit", () => resolve());
  });

const atoll = await startAtoll({ poolSize: 0 });
try {
  const put = await atoll.json("PUT", "/v1/sandboxes/bench-exec", {});
  if (put.status !== 201) throw new Error(`PUT: ${put.status} ${JSON.stringify(put.body)}`);
  const res = await hostResources(atoll.dataDir, "bench-exec");
  const cp = () => post("127.0.0.1", atoll.port, "/v1/sandboxes/bench-exec/api/execute", { command: "true" }, { authorization: `Bearer ${atoll.apiKey}` });
  // "direct" acts as the control plane would: its group (host firewall) and the sandbox's agent key
  joinControlPlaneGroup();
  const key = await agentKeyOf(atoll.dataDir, "bench-exec");
  const direct = () => post(res.ip!, 3000, "/api/execute", { command: "true" }, { [AGENT_KEY_HEADER]: key });
  const check = (r: { status: number; text: string }) => {
    if (r.status !== 200 || !r.text.includes('"exitCode":0')) throw new Error(`exec failed: ${r.status} ${r.text}`);
  };
  for (let i = 0; i < WARM; i++) {
    check(await cp());
    check(await direct());
    await spawnTrue();
  }
  // Interleave rounds so noise hits all three alike.
  const rows: Record<string, number[]> = { "local spawn(true)": [], "agent direct": [], "through control plane": [] };
  for (let round = 0; round < 10; round++) {
    rows["local spawn(true)"]!.push(...(await timeIt(N / 10, spawnTrue)));
    rows["agent direct"]!.push(...(await timeIt(N / 10, async () => check(await direct()))));
    rows["through control plane"]!.push(...(await timeIt(N / 10, async () => check(await cp()))));
  }
  const spawn50 = pct(rows["local spawn(true)"]!, 0.5);
  console.log(`\nexec("true") round trip, ms (n=${N} each)`);
  console.log(`${"what".padEnd(24)}${"p50".padStart(8)}${"p95".padStart(8)}${"× spawn p50".padStart(13)}`);
  for (const [name, xs] of Object.entries(rows)) {
    console.log(`${name.padEnd(24)}${pct(xs, 0.5).toFixed(2).padStart(8)}${pct(xs, 0.95).toFixed(2).padStart(8)}${(pct(xs, 0.5) / spawn50).toFixed(2).padStart(13)}`);
  }
  const over = pct(rows["through control plane"]!, 0.5) - pct(rows["agent direct"]!, 0.5);
  console.log(`control-plane overhead (p50 difference): ${over.toFixed(2)} ms; target: through control plane p50 ≤ 3 ms`);
} finally {
  agent.destroy();
  await atoll.stop();
}
