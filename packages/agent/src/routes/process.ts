// Background processes: /api/process/start, list, :id, :id/logs, :id/stream, :id/wait, kill-all, cleanup.
import { AtollError, ErrorCode, type KillAllResult, type ProcessLogEvent, type ProcessLogsResult } from "@atoll/protocol";
import { nowIso, readJson, sendJson, startSSE, type Route } from "../http.js";
import { parseExecParams } from "../exec/request.js";
import type { ProcRecord, ProcSubscriber } from "../process/record.js";
import { parseSignal } from "../process/tree.js";
import { agentState } from "../session/state.js";

/** Unsent bytes a live stream reader may have queued before it stops getting live chunks and
 *  catches up from the log rings on drain (so a slow reader costs at most this + the rings). */
const STREAM_LAG_BYTES = 256 * 1024;
/** Largest stdout/stderr event of a stream: small strings die young in V8 (cheap to collect). */
const STREAM_CHUNK_BYTES = 64 * 1024;

export function startResponse(rec: ProcRecord) {
  return { success: true, processId: rec.id, pid: rec.pid, command: rec.command, timestamp: nowIso() };
}

function signalFrom(v: unknown): NodeJS.Signals {
  const sig = parseSignal(v);
  if (!sig) throw new AtollError(ErrorCode.VALIDATION_FAILED, `Cannot kill process: unknown signal ${JSON.stringify(String(v).slice(0, 40))}`, { signal: String(v).slice(0, 40) });
  return sig;
}

/** The signal of a kill request: ?signal=..., or a JSON body {signal}. */
function requestedSignal(body: Record<string, unknown>, url: URL): NodeJS.Signals {
  const q = url.searchParams.get("signal");
  return signalFrom(q || body.signal);
}

/** kill-all's `everything`: ?everything=1|true or a JSON body {everything: true}. */
function wantsEverything(body: Record<string, unknown>, url: URL): boolean {
  const q = url.searchParams.get("everything");
  if (q !== null) return q === "1" || q === "true";
  if (body.everything !== undefined && typeof body.everything !== "boolean") {
    throw new AtollError(ErrorCode.VALIDATION_FAILED, `Cannot kill all processes: "everything" must be a boolean`, { field: "everything" });
  }
  return body.everything === true;
}

function logsResult(rec: ProcRecord): ProcessLogsResult {
  const d = { stdout: rec.logs.stdout.dropped, stderr: rec.logs.stderr.dropped };
  return {
    success: true,
    processId: rec.id,
    stdout: rec.logs.stdout.text(),
    stderr: rec.logs.stderr.text(),
    timestamp: nowIso(),
    truncated: d.stdout > 0 || d.stderr > 0,
    droppedBytes: d,
  };
}

function exitEvent(rec: ProcRecord): ProcessLogEvent {
  return { type: "exit", timestamp: nowIso(), processId: rec.id, exitCode: rec.exitCode, status: rec.status, data: `Process ${rec.status} with exit code ${rec.exitCode}` };
}

export function processRoutes(): Route[] {
  const killAll = async (req: Parameters<Route["handler"]>[0], res: Parameters<Route["handler"]>[1], _p: unknown, url: URL) => {
    const body = await readJson(req);
    const sig = requestedSignal(body, url);
    let result: KillAllResult;
    if (wantsEverything(body, url)) {
      const r = await agentState().processes.killEverything();
      result = { success: true, cleanedCount: r.processes, killedPids: r.pids, timestamp: nowIso() };
    } else {
      result = { success: true, cleanedCount: await agentState().processes.killAll(sig), timestamp: nowIso() };
    }
    sendJson(res, 200, result);
  };
  return [
    {
      method: "POST",
      path: "/api/process/start",
      handler: async (req, res) => {
        const body = await readJson(req);
        const p = parseExecParams(body);
        if (body.processId !== undefined && typeof body.processId !== "string") {
          throw new AtollError(ErrorCode.VALIDATION_FAILED, `Cannot start process: "processId" must be a string`, { field: "processId" });
        }
        const rec = agentState().processes.start({ ...p, processId: (body.processId as string | undefined) || undefined });
        sendJson(res, 200, startResponse(rec));
      },
    },
    {
      method: "GET",
      path: "/api/process/list",
      handler: (_q, res, _p, url) => {
        const status = url.searchParams.get("status");
        const procs = agentState().processes.list().filter((r) => !status || r.status === status);
        sendJson(res, 200, { success: true, processes: procs.map((r) => r.info()), timestamp: nowIso() });
      },
    },
    { method: "DELETE", path: "/api/process/kill-all", handler: killAll },
    { method: "POST", path: "/api/process/kill-all", handler: killAll },
    {
      method: "POST",
      path: "/api/process/cleanup",
      handler: (_q, res) => sendJson(res, 200, { success: true, cleanedCount: agentState().processes.cleanup(), timestamp: nowIso() }),
    },
    {
      method: "GET",
      path: "/api/process/:id",
      handler: (_q, res, p) => sendJson(res, 200, { success: true, process: agentState().processes.get(p.id!).info(), timestamp: nowIso() }),
    },
    {
      method: "DELETE",
      path: "/api/process/:id",
      handler: async (req, res, p, url) => {
        const sig = requestedSignal(await readJson(req), url);
        const procs = agentState().processes;
        procs.get(p.id!);
        await procs.kill(p.id!, sig);
        sendJson(res, 200, { success: true, processId: p.id, signal: sig, process: procs.get(p.id!).info(), timestamp: nowIso() });
      },
    },
    {
      method: "GET",
      path: "/api/process/:id/logs",
      handler: (_q, res, p) => sendJson(res, 200, logsResult(agentState().processes.get(p.id!))),
    },
    {
      // Atoll: waits until the process ends or timeoutMs (default 30 s) passes; returns its info.
      method: "GET",
      path: "/api/process/:id/wait",
      handler: async (_q, res, p, url) => {
        const rec = agentState().processes.get(p.id!);
        const t = Number(url.searchParams.get("timeoutMs") ?? 30_000);
        const ms = Number.isFinite(t) && t >= 0 ? Math.min(t, 3_600_000) : 30_000;
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([rec.ended, new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
        clearTimeout(timer);
        sendJson(res, 200, { success: true, process: rec.info(), done: rec.done, timestamp: nowIso() });
      },
    },
    {
      method: "GET",
      path: "/api/process/:id/stream",
      handler: (_q, res, p) => {
        const rec = agentState().processes.get(p.id!);
        const send = startSSE(res);
        const emit = (e: ProcessLogEvent) => {
          if (!res.destroyed) send(e);
        };
        emit({ type: "process_info", timestamp: nowIso(), processId: rec.id, command: rec.command, status: rec.status, pid: rec.pid });
        // Replay what the rings hold (reporting what they dropped), then follow live. Each reader
        // has a cursor per stream and reads from the rings itself, in events of at most
        // STREAM_CHUNK_BYTES; past STREAM_LAG_BYTES unsent it waits for 'drain'. So a slow reader
        // costs the agent about those two sizes, never pauses the process, and loses only what
        // the ring dropped before it caught up (reported as `truncated`).
        const sent = { stdout: 0, stderr: 0 };
        for (const k of ["stdout", "stderr"] as const) {
          const ring = rec.logs[k];
          sent[k] = ring.dropped;
          if (ring.dropped > 0) emit({ type: "truncated", timestamp: nowIso(), processId: rec.id, stream: k, droppedBytes: ring.dropped, data: `${ring.dropped} earlier bytes of ${k} were dropped (log ring of ${ring.limit} bytes)` });
        }
        let waiting = false;
        let ended = false;
        const catchUp = () => {
          waiting = false;
          if (ended || res.destroyed) return;
          for (const k of ["stdout", "stderr"] as const) {
            const ring = rec.logs[k];
            while (sent[k] < ring.end) {
              if (res.writableLength > STREAM_LAG_BYTES) {
                waiting = true;
                res.once("drain", catchUp);
                return;
              }
              if (sent[k] < ring.dropped) {
                const n = ring.dropped - sent[k];
                emit({ type: "truncated", timestamp: nowIso(), processId: rec.id, stream: k, droppedBytes: n, data: `${n} bytes of ${k} were dropped because this reader fell more than the log ring (${ring.limit} bytes) behind` });
              }
              const r = ring.read(sent[k], STREAM_CHUNK_BYTES);
              if (r.end <= sent[k]) break; // nothing readable yet (a character still incomplete)
              if (r.text) emit({ type: k, timestamp: nowIso(), processId: rec.id, data: r.text });
              sent[k] = r.end;
            }
          }
          if (rec.done) {
            ended = true;
            emit(exitEvent(rec));
            res.end();
          }
        };
        const sub: ProcSubscriber = {
          output() {
            if (!waiting) catchUp(); // while waiting, the 'drain' handler sends it
          },
          exit() {
            if (!waiting) catchUp();
          },
        };
        catchUp();
        if (ended) return;
        rec.subs.add(sub);
        res.on("close", () => rec.subs.delete(sub));
      },
    },
  ];
}
