// Load generators for bench/proxy.ts: wrk for HTTP, a `ws` client pool for WebSocket echo,
// curl for the 100 MiB download. Each returns plain numbers.
import { spawn } from "node:child_process";
import WebSocket from "ws";

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    c.stdout.on("data", (d) => (out += d));
    c.stderr.on("data", (d) => (out += d));
    c.on("error", reject);
    c.on("exit", (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} exited ${code}: ${out}`))));
  });
}

const ms = (v: string, unit: string): number => Number(v) * ({ us: 0.001, ms: 1, s: 1000 }[unit] ?? 1);

export interface HttpResult {
  rps: number;
  p50: number;
  p99: number;
}

/** wrk -t1 -c<conns> --latency against url with a Host header. */
export async function wrk(url: string, host: string, seconds: number, conns = 50): Promise<HttpResult> {
  const out = await run("wrk", ["-t1", `-c${conns}`, `-d${seconds}s`, "--latency", "-H", `Host: ${host}`, url]);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const lat = (p: string): number => {
    const m = new RegExp(`\\s${p}%\\s+([\\d.]+)(us|ms|s)`).exec(out);
    return m ? ms(m[1]!, m[2]!) : NaN;
  };
  if (!rps) throw new Error(`Cannot parse wrk output:\n${out}`);
  return { rps, p50: lat("50"), p99: lat("99") };
}

export interface WsResult {
  msgs: number;
  p50: number;
}

/** `conns` WebSockets each echoing a 64-byte message back and forth for `seconds`. */
export async function wsEcho(url: string, headers: Record<string, string>, seconds: number, conns = 50): Promise<WsResult> {
  const payload = Buffer.alloc(64, 120);
  const rtts: number[] = [];
  let count = 0;
  let running = true;
  const socks = await Promise.all(
    Array.from(
      { length: conns },
      () =>
        new Promise<WebSocket>((resolve, reject) => {
          const ws = new WebSocket(url, { headers, perMessageDeflate: false });
          let sent = 0;
          // Handler attached at creation: the fixture's greeting (not 64 bytes) may come with the 101.
          ws.on("message", (data: Buffer) => {
            if (data.length !== payload.length || !running) return;
            count++;
            if ((count & 15) === 0) rtts.push(performance.now() - sent);
            sent = performance.now();
            ws.send(payload);
          });
          ws.once("open", () => resolve(ws));
          ws.once("error", reject);
        }),
    ),
  );
  const t0 = performance.now();
  for (const ws of socks) ws.send(payload);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  running = false;
  const elapsed = (performance.now() - t0) / 1000;
  for (const s of socks) s.terminate();
  rtts.sort((a, b) => a - b);
  return { msgs: count / elapsed, p50: rtts[Math.floor(rtts.length / 2)] ?? NaN };
}

/** MB/s of one download with curl (body discarded). */
export async function download(url: string, host: string): Promise<number> {
  const out = await run("curl", ["-s", "-o", "/dev/null", "-H", `Host: ${host}`, "-w", "%{speed_download} %{size_download}", url]);
  const [speed, size] = out.trim().split(" ").map(Number);
  if (!size) throw new Error(`Cannot download ${url}: ${out}`);
  return speed! / 1e6;
}
