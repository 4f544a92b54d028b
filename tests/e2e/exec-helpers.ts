// Helpers for the exec/process/sessions e2e tests: agent calls through the control plane
// (/v1/sandboxes/:id/api/*) and an SSE reader that records arrival times.
import { SSEDecoder } from "@atoll/protocol";
import { exec, type Atoll } from "./harness.js";

export interface Timed {
  at: number;
  ev: any;
}

/** Opens an SSE route through the control plane; events are read with next()/until(). */
export class Stream {
  private queue: Timed[] = [];
  private waiters: Array<() => void> = [];
  ended = false;
  status = 0;
  private readonly ctl = new AbortController();

  constructor(atoll: Atoll, id: string, route: string, body?: unknown) {
    void (async () => {
      try {
        const res = await atoll.api(`/v1/sandboxes/${id}/api${route}`, { method: body === undefined ? "GET" : "POST", json: body, signal: this.ctl.signal });
        this.status = res.status;
        const dec = new SSEDecoder();
        const td = new TextDecoder();
        if (res.status !== 200) {
          this.queue.push({ at: Date.now(), ev: await res.json() });
        } else {
          for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
            for (const ev of dec.push(td.decode(chunk, { stream: true }))) this.queue.push({ at: Date.now(), ev });
            this.wake();
          }
        }
      } catch {
        /* aborted or failed: ends the stream */
      }
      this.ended = true;
      this.wake();
    })();
  }

  private wake() {
    for (const w of this.waiters.splice(0)) w();
  }

  async nextTimed(timeoutMs = 15_000): Promise<Timed | null> {
    const deadline = Date.now() + timeoutMs;
    while (this.queue.length === 0) {
      if (this.ended) return null;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error("timed out waiting for an SSE event");
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => (clearTimeout(t), r()));
      });
    }
    return this.queue.shift()!;
  }

  async until(type: string, timeoutMs = 15_000): Promise<any[]> {
    const out: any[] = [];
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const t = await this.nextTimed(Math.max(1, deadline - Date.now()));
      if (!t) throw new Error(`stream ended before a ${type} event; got ${JSON.stringify(out).slice(0, 400)}`);
      out.push(t.ev);
      if (t.ev.type === type) return out;
    }
  }

  close(): void {
    this.ctl.abort();
  }
}

/** POST/GET/DELETE an agent route through the control plane. */
export function agentCall(atoll: Atoll, id: string, method: string, route: string, body?: unknown) {
  return atoll.json(method, `/v1/sandboxes/${id}/api${route}`, body);
}

/** Runs a command and returns the ExecResult body (asserting HTTP 200). */
export async function run(atoll: Atoll, id: string, command: string, extra: Record<string, unknown> = {}): Promise<any> {
  const r = await exec(atoll, id, command, extra);
  if (r.status !== 200) throw new Error(`execute ${command} → ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/** Live pids inside the sandbox whose environment has KEY=value (checked from inside). */
export async function taggedPids(atoll: Atoll, id: string, tag: string): Promise<number[]> {
  const cmd = `for e in /proc/[0-9]*/environ; do p=\${e#/proc/}; p=\${p%/environ}; [ "$p" = "$$" ] && continue; tr '\\0' '\\n' < "$e" 2>/dev/null | grep -qxF '${tag}' && [ "$(cut -d' ' -f3 /proc/$p/stat 2>/dev/null)" != Z ] && echo $p; done; true`;
  const r = await run(atoll, id, cmd, { sessionId: "probe" }).catch(async (e) => {
    await agentCall(atoll, id, "POST", "/session/create", { id: "probe" });
    return run(atoll, id, cmd, { sessionId: "probe" }).catch(() => {
      throw e;
    });
  });
  return r.stdout.split("\n").filter(Boolean).map(Number);
}
