// POST /api/execute (buffered; background: true starts a process) and POST /api/execute/stream (SSE).
import type { ServerResponse } from "node:http";
import { StringDecoder } from "node:string_decoder";
import type { ExecEvent } from "@atoll/protocol";
import { nowIso, readJson, sendJson, startSSE, type Route } from "../http.js";
import { parseExecParams } from "../exec/request.js";
import { agentState } from "../session/state.js";
import { startResponse } from "./process.js";

/** Per-stream cap of a buffered result (env ATOLL_EXEC_MAX_OUTPUT_BYTES, default 32 MiB); more is dropped and reported. */
function maxBuffered(): number {
  const v = Number(process.env.ATOLL_EXEC_MAX_OUTPUT_BYTES);
  return Number.isFinite(v) && v > 0 ? v : 32 * 1024 * 1024;
}

/** Kills the command when the client goes away before the response finished. */
function killOnDisconnect(res: ServerResponse, kill: () => void): () => void {
  let finished = false;
  res.on("close", () => {
    if (!finished) kill();
  });
  return () => {
    finished = true;
  };
}

export function executeRoutes(): Route[] {
  return [
    {
      method: "POST",
      path: "/api/execute",
      handler: async (req, res) => {
        const body = await readJson(req);
        const p = parseExecParams(body);
        const { sessions, processes } = agentState();
        if (body.background === true) {
          const rec = processes.start({ ...p, processId: typeof body.processId === "string" ? body.processId : undefined });
          return sendJson(res, 200, { ...startResponse(rec), exitCode: 0, stdout: "", stderr: "", sessionId: rec.sessionId });
        }
        const session = sessions.get(p.sessionId);
        const t0 = Date.now();
        const timestamp = nowIso();
        const cap = maxBuffered();
        const bufs = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
        const sizes = { stdout: 0, stderr: 0 };
        const dropped = { stdout: 0, stderr: 0 };
        const collect = (k: "stdout" | "stderr") => (b: Buffer) => {
          const room = cap - sizes[k];
          if (room >= b.length) {
            bufs[k].push(b);
            sizes[k] += b.length;
          } else {
            if (room > 0) bufs[k].push(b.subarray(0, room));
            sizes[k] += Math.max(0, room);
            dropped[k] += b.length - Math.max(0, room);
          }
        };
        const h = session.exec(p.command, { env: p.env, cwd: p.cwd, timeoutMs: p.timeoutMs }, { stdout: collect("stdout"), stderr: collect("stderr") });
        const done = killOnDisconnect(res, h.kill);
        const o = await h.done;
        done();
        const truncated = dropped.stdout > 0 || dropped.stderr > 0;
        sendJson(res, 200, {
          success: o.exitCode === 0,
          exitCode: o.exitCode,
          stdout: Buffer.concat(bufs.stdout).toString("utf8"),
          stderr: Buffer.concat(bufs.stderr).toString("utf8"),
          command: p.command,
          duration: Date.now() - t0,
          timestamp,
          sessionId: session.id,
          ...(o.timedOut ? { timedOut: true } : {}),
          ...(o.shellRestarted ? { shellRestarted: true } : {}),
          ...(truncated ? { truncated: true, droppedBytes: dropped } : {}),
        });
      },
    },
    {
      method: "POST",
      path: "/api/execute/stream",
      handler: async (req, res) => {
        const p = parseExecParams(await readJson(req));
        const session = agentState().sessions.get(p.sessionId);
        const t0 = Date.now();
        const send = startSSE(res);
        const emit = (e: ExecEvent): boolean => (res.destroyed ? true : send(e));
        emit({ type: "start", timestamp: nowIso(), command: p.command, sessionId: session.id });
        const dec = { stdout: new StringDecoder("utf8"), stderr: new StringDecoder("utf8") };
        let paused = false;
        // Backpressure: stop reading the shell's pipes while the response is not draining.
        const onOutput = (k: "stdout" | "stderr") => (b: Buffer) => {
          const data = dec[k].write(b);
          if (!data) return;
          if (!emit({ type: k, timestamp: nowIso(), data }) && !paused && !res.destroyed) {
            paused = true;
            h.pause();
            res.once("drain", () => {
              paused = false;
              h.resume();
            });
          }
        };
        const h = session.exec(p.command, { env: p.env, cwd: p.cwd, timeoutMs: p.timeoutMs }, { stdout: onOutput("stdout"), stderr: onOutput("stderr") });
        const done = killOnDisconnect(res, () => {
          h.kill();
          if (paused) h.resume();
        });
        const o = await h.done;
        done();
        for (const k of ["stdout", "stderr"] as const) {
          const rest = dec[k].end();
          if (rest) emit({ type: k, timestamp: nowIso(), data: rest });
        }
        const complete = {
          type: "complete" as const,
          timestamp: nowIso(),
          exitCode: o.exitCode,
          command: p.command,
          sessionId: session.id,
          duration: Date.now() - t0,
          ...(o.timedOut ? { timedOut: true } : {}),
          ...(o.shellRestarted ? { shellRestarted: true } : {}),
        };
        emit(complete);
        res.end();
      },
    },
  ];
}
