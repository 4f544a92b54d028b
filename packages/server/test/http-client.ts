// Raw node:http client helpers for preview tests (unit and e2e): fetch cannot set a Host header.
import { request, type Agent, type IncomingHttpHeaders } from "node:http";

export interface Res {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** One request to 127.0.0.1:port with an explicit Host header (agent: false = fresh socket). */
export function send(
  port: number,
  host: string,
  opts: { method?: string; path?: string; headers?: Record<string, string>; body?: Buffer | string; agent?: Agent } = {},
): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port, method: opts.method ?? "GET", path: opts.path ?? "/", headers: { host, ...opts.headers }, agent: opts.agent ?? false },
      (res) => {
        const parts: Buffer[] = [];
        res.on("data", (c: Buffer) => parts.push(c));
        res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(parts) }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(opts.body);
  });
}

/** GETs an SSE path and records when each event ("\n\n"-terminated) arrived, in Date.now() ms. */
export function sseArrivals(port: number, host: string, path: string): Promise<{ headers: IncomingHttpHeaders; arrivals: number[] }> {
  const arrivals: number[] = [];
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, headers: { host }, agent: false }, (res) => {
      let buf = "";
      res.on("data", (c: Buffer) => {
        buf += c.toString();
        let k: number;
        while ((k = buf.indexOf("\n\n")) >= 0) {
          buf = buf.slice(k + 2);
          arrivals.push(Date.now());
        }
      });
      res.on("end", () => resolve({ headers: res.headers, arrivals }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}
