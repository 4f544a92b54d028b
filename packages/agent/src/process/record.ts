// One background process: its bash, status, bounded logs and live subscribers.
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import type { ProcessInfo, ProcessStatus } from "@atoll/protocol";
import { noteBytesRead } from "./gc.js";
import { LogRing } from "./ring.js";
import { signalNumber } from "./tree.js";
import type { Job } from "./jobs.js";

export type StreamName = "stdout" | "stderr";

/** A live reader: told when a stream has new output (it reads it from the ring with its own
 *  cursor, so a slow reader never makes the agent hold more than the ring), and at the end. */
export interface ProcSubscriber {
  output(stream: StreamName): void;
  exit(rec: ProcRecord): void;
}

export const TERMINAL: readonly ProcessStatus[] = ["completed", "failed", "killed", "error"];

export class ProcRecord {
  pid?: number;
  status: ProcessStatus = "starting";
  readonly startTime = new Date();
  endTime?: Date;
  exitCode?: number;
  signal?: string;
  timedOut = false;
  /** The signal a kill request sent first; the record ends as "killed". */
  killSignal?: NodeJS.Signals;
  readonly logs: Record<StreamName, LogRing>;
  readonly subs = new Set<ProcSubscriber>();
  child?: ChildProcess;
  timer?: NodeJS.Timeout;
  /** Its job cgroup (jobs.ts), null without job cgroups. */
  job: Job | null = null;
  private resolveEnded!: () => void;
  readonly ended = new Promise<void>((r) => (this.resolveEnded = r));

  constructor(
    readonly id: string,
    readonly command: string,
    readonly sessionId: string,
    logBytes: number,
  ) {
    this.logs = { stdout: new LogRing(logBytes), stderr: new LogRing(logBytes) };
  }

  get done(): boolean {
    return TERMINAL.includes(this.status);
  }

  /** Random per start: the env entry (ATOLL_PROCESS_KEY) that marks this record's tree for kills,
   *  unique even when two agents on one host reuse a process id. */
  readonly key = randomBytes(8).toString("hex");

  get envTag(): string {
    return `ATOLL_PROCESS_KEY=${this.key}`;
  }

  /** Wires the child's pipes and exit into this record. */
  attach(child: ChildProcess): void {
    this.child = child;
    this.pid = child.pid;
    const onData = (stream: StreamName) => (b: Buffer) => {
      noteBytesRead(b.length);
      if (this.done) return; // output of leftovers after the end is not part of the record
      this.emit(stream, b);
    };
    child.stdout!.on("data", onData("stdout"));
    child.stderr!.on("data", onData("stderr"));
    child.once("spawn", () => {
      if (this.status === "starting") this.status = "running";
    });
    child.once("error", (e) => {
      if (this.done) return;
      this.emit("stderr", Buffer.from(`Cannot start process: ${e.message}\n`));
      this.finish("error", 127, undefined);
    });
    child.once("exit", (code, signal) => {
      // Let the pipes drain; they stay open only if a detached leftover still holds them.
      let ends = 0;
      let settled = false;
      const fin = () => {
        if (settled) return;
        settled = true;
        const exitCode = code ?? 128 + signalNumber(signal ?? "SIGKILL");
        const status: ProcessStatus = this.killSignal || signal ? "killed" : code === 0 ? "completed" : "failed";
        this.finish(status, exitCode, signal ?? undefined);
      };
      const onEnd = () => ++ends === 2 && fin();
      for (const st of [child.stdout!, child.stderr!]) {
        if (st.readableEnded) onEnd();
        else st.once("end", onEnd);
      }
      setTimeout(fin, 100).unref();
    });
  }

  private emit(stream: StreamName, b: Buffer): void {
    if (!b.length) return;
    this.logs[stream].push(b);
    for (const sub of this.subs) sub.output(stream);
  }

  private finish(status: ProcessStatus, exitCode: number, signal: string | undefined): void {
    if (this.done) return;
    if (this.timer) clearTimeout(this.timer);
    this.status = status;
    this.exitCode = exitCode;
    this.signal = signal ?? this.killSignal;
    this.endTime = new Date();
    this.logs.stdout.seal();
    this.logs.stderr.seal();
    for (const sub of [...this.subs]) sub.exit(this);
    this.subs.clear();
    this.resolveEnded();
  }

  info(): ProcessInfo {
    return {
      id: this.id,
      pid: this.pid,
      command: this.command,
      status: this.status,
      startTime: this.startTime.toISOString(),
      endTime: this.endTime?.toISOString(),
      exitCode: this.exitCode,
      sessionId: this.sessionId,
      ...(this.signal ? { signal: this.signal } : {}),
      ...(this.timedOut ? { timedOut: true } : {}),
    };
  }
}
