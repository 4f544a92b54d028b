// Connection admission for the control plane's port (the front door and the API behind it): which
// connections are accepted and which are closed to make room, so that slow or idle clients cannot
// hold every file descriptor and lock the API and preview URLs out.
//
//  - per client address: at most `perAddress` open connections; one more is refused with a coded
//    429 TOO_MANY_CONNECTIONS (0 = no cap; behind a reverse proxy every client has its address).
//  - in all: at most `total` open connections, derived from the fd limit so that an upstream
//    socket for each and the control plane's own files still fit. At the cap a new connection
//    makes room by closing the oldest connection that has no request in flight (a client still
//    sending its head, or an idle keep-alive one); when every connection is busy the new one gets
//    a coded 503 SERVER_BUSY.
//
// Each accepted socket has an Entry; the front door's connection says whether it is sheddable,
// and after a hand-off to node:http the app reports requests in flight (requestStarted/Ended).
import { readFileSync } from "node:fs";
import type { Socket } from "node:net";
import { ErrorCode } from "@atoll/protocol";
import { errorResponse } from "./raw-response.js";

export interface AdmissionOptions {
  /** Most open connections from one client address; 0 = no cap. */
  perAddress: number;
  /** Most open connections in all; 0 = no cap. */
  total: number;
}

interface Entry {
  readonly socket: Socket;
  readonly ip: string;
  /** Requests in flight on node:http after a hand-off (WebSocket upgrades stay counted). */
  busy: number;
  /** While the front door owns the socket: whether closing it loses no request. */
  idle: (() => boolean) | null;
}

/** Files the process may open (RLIMIT_NOFILE soft limit), or undefined when it cannot be read. */
export function openFileLimit(): number | undefined {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync("/proc/self/limits", "utf8"));
    return m && m[1] !== "unlimited" ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Default total cap for an fd limit: each connection may need two fds (client and sandbox
 * upstream), and a reserve stays for the database, the driver's processes and agent connections.
 */
export function defaultMaxConnections(fdLimit: number | undefined): number {
  if (!fdLimit) return 0;
  const reserve = Math.max(128, Math.floor(fdLimit / 10));
  return Math.max(32, Math.floor((fdLimit - reserve) / 2));
}

/** How long a refused connection may linger to read our answer before it is closed. */
const REFUSE_LINGER_MS = 500;

export class ConnectionAdmission {
  /** Open connections, oldest first (Set keeps insertion order). */
  private readonly open = new Set<Entry>();
  private readonly bySocket = new WeakMap<Socket, Entry>();
  private readonly perIp = new Map<string, number>();
  readonly stats = { refusedPerAddress: 0, refusedBusy: 0, shed: 0 };

  constructor(readonly o: AdmissionOptions) {}

  get size(): number {
    return this.open.size;
  }

  /**
   * Called for every accepted socket before anything is read. True when it may proceed; false when
   * it was refused (answered with a coded error and closed).
   */
  admit(socket: Socket): boolean {
    const ip = clientIp(socket);
    const n = this.perIp.get(ip) ?? 0;
    if (this.o.perAddress > 0 && n >= this.o.perAddress) {
      this.stats.refusedPerAddress++;
      refuse(socket, ErrorCode.TOO_MANY_CONNECTIONS, `Cannot accept connection: ${n} connections are open from ${ip}, at most ${this.o.perAddress} (ATOLL_MAX_CONNECTIONS_PER_IP)`, { max: this.o.perAddress });
      return false;
    }
    if (this.o.total > 0 && this.open.size >= this.o.total && !this.shedOne()) {
      this.stats.refusedBusy++;
      refuse(socket, ErrorCode.SERVER_BUSY, `Cannot accept connection: ${this.open.size} connections are open and all are busy (ATOLL_MAX_CONNECTIONS)`, { max: this.o.total });
      return false;
    }
    const e: Entry = { socket, ip, busy: 0, idle: null };
    this.open.add(e);
    this.bySocket.set(socket, e);
    this.perIp.set(ip, n + 1);
    socket.once("close", () => this.forget(e));
    return true;
  }

  /** The front door's connection on `socket` reports whether it can be closed without loss. */
  watch(socket: Socket, idle: () => boolean): void {
    const e = this.bySocket.get(socket);
    if (e) e.idle = idle;
  }

  /** The socket went to node:http: from now on the app's request counts say whether it is idle. */
  handedOff(socket: Socket): void {
    const e = this.bySocket.get(socket);
    if (e) e.idle = null;
  }

  requestStarted(socket: Socket): void {
    const e = this.bySocket.get(socket);
    if (e) e.busy++;
  }

  requestEnded(socket: Socket): void {
    const e = this.bySocket.get(socket);
    if (e && e.busy > 0) e.busy--;
  }

  /** Closes the oldest connection with no request in flight; false when there is none. */
  private shedOne(): boolean {
    for (const e of this.open) {
      if (e.socket.destroyed) continue;
      if (e.idle ? e.idle() : e.busy === 0) {
        this.stats.shed++;
        this.forget(e); // its fd is closed now (destroy), so the count is right at once
        e.socket.destroy();
        return true;
      }
    }
    return false;
  }

  private forget(e: Entry): void {
    if (!this.open.delete(e)) return;
    const n = (this.perIp.get(e.ip) ?? 1) - 1;
    if (n > 0) this.perIp.set(e.ip, n);
    else this.perIp.delete(e.ip);
  }
}

export function clientIp(socket: Socket): string {
  const ip = socket.remoteAddress ?? "";
  return ip.startsWith("::ffff:") ? ip.slice(7) : ip;
}

/** Answers a connection we will not serve with a coded error, lets it read that briefly, then closes it. */
function refuse(socket: Socket, code: ErrorCode, message: string, context: Record<string, unknown>): void {
  socket.on("error", () => socket.destroy());
  socket.end(errorResponse(code, message, context));
  socket.resume(); // read and drop what the client sends, so closing does not reset our answer away
  socket.once("end", () => socket.destroy());
  setTimeout(() => socket.destroy(), REFUSE_LINGER_MS).unref();
}
