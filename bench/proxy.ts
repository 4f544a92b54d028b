// Preview proxy benchmark: the same server inside a real sandbox (tests/e2e/fixtures/preview-server.js
// under Bun) reached directly (sandbox IP), through Atoll's front door (preview URL), and through
// nginx (1 worker, keep-alive upstream) — interleaved, in one run. Prints figures and ratios vs nginx.
//   node --import tsx bench/proxy.ts [--seconds 5] [--rounds 2] [--conns 50]
import { parseArgs } from "node:util";
import { createClient, getSandbox } from "@atoll/sdk";
import { freePort, hostResources, joinControlPlaneGroup, startAtoll } from "../tests/e2e/harness.js";
import { startFixture } from "../tests/e2e/preview-helpers.js";
import { download, wrk, wsEcho, type HttpResult, type WsResult } from "./proxy-load.js";
import { startNginx } from "./proxy-nginx.js";

const { values } = parseArgs({ options: { seconds: { type: "string", default: "5" }, rounds: { type: "string", default: "2" }, conns: { type: "string", default: "50" } } });
const SECONDS = Number(values.seconds);
const ROUNDS = Number(values.rounds);
const CONNS = Number(values.conns);
const PORT = 8080;
const MIB100 = 100 * 1024 * 1024;

const step = (m: string): void => void process.stderr.write(`[bench] ${m}\n`);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const atoll = await startAtoll({ poolSize: 0 });
let nginx: Awaited<ReturnType<typeof startNginx>> | undefined;
try {
  const client = createClient({ url: atoll.url, apiKey: atoll.apiKey });
  const sb = getSandbox(client, "bench-proxy");
  step("starting the fixture server in a sandbox");
  await startFixture(sb, PORT);
  const { url } = await sb.exposePort(PORT);
  const previewHost = new URL(url).host;
  const ip = (await hostResources(atoll.dataDir, "bench-proxy")).ip!;
  step(`sandbox ip ${ip}; starting nginx`);
  // nginx and the direct load generator reach the sandbox as the control plane does (host firewall)
  joinControlPlaneGroup();
  nginx = await startNginx(`${ip}:${PORT}`, await freePort());

  type Target = { name: string; base: string; host: string };
  const targets: Target[] = [
    { name: "direct", base: `http://${ip}:${PORT}`, host: `${ip}:${PORT}` },
    { name: "atoll", base: `http://127.0.0.1:${atoll.port}`, host: previewHost },
    { name: "nginx", base: `http://127.0.0.1:${nginx.port}`, host: `127.0.0.1:${nginx.port}` },
  ];
  const http: Record<string, HttpResult[]> = {};
  const ws: Record<string, WsResult[]> = {};
  const dl: Record<string, number[]> = {};
  for (const t of targets) {
    http[t.name] = [];
    ws[t.name] = [];
    dl[t.name] = [];
    step(`warm-up ${t.name}`);
    await wrk(`${t.base}/1k`, t.host, 1, CONNS); // warm-up
  }
  for (let r = 0; r < ROUNDS; r++) {
    for (const t of targets) http[t.name]!.push(await wrk(`${t.base}/1k`, t.host, SECONDS, CONNS));
    step(`round ${r + 1}: WebSocket`);
    for (const t of targets) ws[t.name]!.push(await wsEcho(`${t.base.replace("http", "ws")}/ws/bench`, { host: t.host }, SECONDS, CONNS));
    step(`round ${r + 1}: download`);
    for (const t of targets) for (let k = 0; k < 2; k++) dl[t.name]!.push(await download(`${t.base}/big?n=${MIB100}`, t.host));
  }

  const row = (name: string) => {
    const h = http[name]!;
    const w = ws[name]!;
    return {
      rps: median(h.map((x) => x.rps)),
      p50: median(h.map((x) => x.p50)),
      p99: median(h.map((x) => x.p99)),
      msgs: median(w.map((x) => x.msgs)),
      rtt: median(w.map((x) => x.p50)),
      mbps: median(dl[name]!),
    };
  };
  const R = Object.fromEntries(targets.map((t) => [t.name, row(t.name)]));
  const n = R.nginx!;
  const f = (v: number, d = 0) => v.toFixed(d).padStart(9);
  console.log(`\nPreview proxy, same Bun server in a sandbox; ${CONNS} connections, ${SECONDS}s x ${ROUNDS} rounds (medians)`);
  console.log(`${"".padEnd(8)}${"HTTP 1KB req/s".padStart(15)}${"p50 ms".padStart(9)}${"p99 ms".padStart(9)}${"WS msg/s".padStart(11)}${"WS p50 ms".padStart(11)}${"100MiB MB/s".padStart(13)}`);
  for (const t of targets) {
    const x = R[t.name]!;
    console.log(`${t.name.padEnd(8)}${f(x.rps).padStart(15)}${f(x.p50, 2)}${f(x.p99, 2)}${f(x.msgs).padStart(11)}${f(x.rtt, 2).padStart(11)}${f(x.mbps).padStart(13)}`);
  }
  const a = R.atoll!;
  console.log(`\natoll / nginx: HTTP req/s ${(a.rps / n.rps).toFixed(2)}x, p99 ${(a.p99 / n.p99).toFixed(2)}x (lower is better), WS msg/s ${(a.msgs / n.msgs).toFixed(2)}x, WS p50 RTT ${(a.rtt / n.rtt).toFixed(2)}x (lower is better), download ${(a.mbps / n.mbps).toFixed(2)}x`);
  console.log(`atoll / direct: HTTP ${(a.rps / R.direct!.rps).toFixed(2)}x, WS ${(a.msgs / R.direct!.msgs).toFixed(2)}x, download ${(a.mbps / R.direct!.mbps).toFixed(2)}x`);
} finally {
  await nginx?.stop();
  await atoll.stop();
}
