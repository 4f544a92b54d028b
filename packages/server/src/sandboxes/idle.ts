// Idle tracking for running sandboxes: last activity, open holds (streams, WebSockets) and a
// sweeper that asks the manager to sleep those idle for longer than their sleepAfter.
// touch() and hold() are on the request hot path: plain field writes, no I/O.

interface Entry {
  last: number;
  holds: number;
  sleepAfterMs: number;
  keepAlive: boolean;
  /** Activity not yet written to the db. */
  dirty: boolean;
  /** A sleep for this entry is in progress. */
  sleeping: boolean;
}

const FLUSH_EVERY_MS = 5000;

export class IdleTracker {
  private entries = new Map<string, Entry>();
  private timer?: NodeJS.Timeout;
  private lastFlush = Date.now();

  constructor(
    private readonly checkEveryMs: number,
    private readonly persist: (id: string, lastActiveMs: number) => void,
    private readonly onIdle: (id: string) => Promise<void>,
  ) {}

  track(id: string, sleepAfterMs: number, keepAlive: boolean): void {
    this.entries.set(id, { last: Date.now(), holds: 0, sleepAfterMs, keepAlive, dirty: true, sleeping: false });
  }

  untrack(id: string): void {
    const e = this.entries.get(id);
    this.entries.delete(id);
    if (!e?.dirty) return;
    try {
      this.persist(id, e.last);
    } catch {
      /* last-activity is advisory: a full disk or a vanished row must not stop a sleep or destroy */
    }
  }

  configure(id: string, sleepAfterMs: number, keepAlive: boolean): void {
    const e = this.entries.get(id);
    if (e) {
      e.sleepAfterMs = sleepAfterMs;
      e.keepAlive = keepAlive;
    }
  }

  touch(id: string): void {
    const e = this.entries.get(id);
    if (e) {
      e.last = Date.now();
      e.dirty = true;
    }
  }

  /** Keeps the sandbox awake until the returned function is called (once; later calls are no-ops). */
  hold(id: string): () => void {
    const e = this.entries.get(id);
    if (!e) return () => {};
    e.holds++;
    e.last = Date.now();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      e.holds--;
      e.last = Date.now();
      e.dirty = true;
    };
  }

  lastActive(id: string): number | undefined {
    return this.entries.get(id)?.last;
  }

  holds(id: string): number {
    return this.entries.get(id)?.holds ?? 0;
  }

  isIdle(id: string, now = Date.now()): boolean {
    const e = this.entries.get(id);
    return !!e && !e.keepAlive && e.holds === 0 && now - e.last >= e.sleepAfterMs;
  }

  start(): void {
    this.timer = setInterval(() => this.sweep(), this.checkEveryMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.flush();
  }

  private sweep(): void {
    const now = Date.now();
    for (const [id, e] of this.entries) {
      if (e.sleeping || !this.isIdle(id, now)) continue;
      e.sleeping = true;
      this.onIdle(id)
        .catch(() => undefined)
        .finally(() => {
          e.sleeping = false;
        });
    }
    if (now - this.lastFlush >= FLUSH_EVERY_MS) this.flush();
  }

  private flush(): void {
    this.lastFlush = Date.now();
    for (const [id, e] of this.entries) {
      if (!e.dirty) continue;
      e.dirty = false;
      try {
        this.persist(id, e.last);
      } catch {
        /* the row may be gone (destroyed meanwhile) */
      }
    }
  }
}
