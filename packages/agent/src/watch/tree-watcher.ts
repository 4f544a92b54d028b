// A recursive directory watcher built from one non-recursive fs.watch per directory (Node 18 on
// Linux has no recursive fs.watch). Raw events are processed strictly in order through one queue;
// each is checked with lstat against a snapshot of known entries to tell create, modify and delete
// apart. New subdirectories get their own watcher and are scanned, so files created in them
// before the watcher was in place are still reported.
import fs, { type Stats } from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";

export type TreeEventType = "create" | "modify" | "delete" | "rename";
export interface TreeEvent {
  type: TreeEventType;
  path: string;
  oldPath?: string;
  isDirectory: boolean;
}

export interface TreeWatcherOptions {
  recursive: boolean;
  includeHidden: boolean;
  /** Most directories watched at once (inotify watches are a shared, limited resource). */
  maxDirectories?: number;
  onEvent: (ev: TreeEvent) => void;
  onError: (err: Error) => void;
  /** The watched root itself was deleted or moved away; no more events will come. */
  onRootGone: () => void;
}

interface Entry {
  isDir: boolean;
  ino: number;
  /** size, mtime and mode when last reported: a change event that alters none of them is not a modify. */
  sig: string;
}

const sigOf = (st: Stats) => `${st.size}:${st.mtimeMs}:${st.mode}`;
const entryOf = (st: Stats): Entry => ({ isDir: st.isDirectory(), ino: st.ino, sig: sigOf(st) });

interface RawEvent {
  dir: string;
  kind: "rename" | "change";
  name: string | null;
}

export class TreeWatcher {
  private watchers = new Map<string, fs.FSWatcher>();
  /** Known entries per watched directory: name → {isDir, ino}. */
  private known = new Map<string, Map<string, Entry>>();
  private queue: RawEvent[] = [];
  private draining = false;
  private closed = false;
  /** Deletes held back until the end of the current batch, to pair them with a create (rename). */
  private pendingDeletes: Array<{ path: string; entry: Entry }> = [];

  constructor(private root: string, private opts: TreeWatcherOptions) {}

  /** Installs watchers on root (and, if recursive, every subdirectory). Resolves when all are in place. */
  async start(): Promise<void> {
    await this.addDir(this.root, false);
  }

  close(): void {
    this.closed = true;
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
    this.known.clear();
    this.queue = [];
  }

  get directoryCount(): number {
    return this.watchers.size;
  }

  private hidden(name: string): boolean {
    return !this.opts.includeHidden && name.startsWith(".");
  }

  /** Watches dir and snapshots its entries; reportNew emits create events for what is found. */
  private async addDir(dir: string, reportNew: boolean): Promise<void> {
    if (this.closed || this.watchers.has(dir)) return;
    if (this.watchers.size >= (this.opts.maxDirectories ?? 10_000)) {
      this.opts.onError(new Error(`Cannot watch ${dir}: more than ${this.opts.maxDirectories ?? 10_000} directories`));
      return;
    }
    let w: fs.FSWatcher;
    try {
      w = fs.watch(dir, { persistent: false }, (kind, name) => this.push({ dir, kind: kind as RawEvent["kind"], name: name ? String(name) : null }));
    } catch (e) {
      if (dir === this.root) throw e;
      return; // vanished or unreadable subdirectory
    }
    w.on("error", () => this.dropDir(dir));
    this.watchers.set(dir, w);
    const entries = new Map<string, Entry>();
    this.known.set(dir, entries);
    let names: string[] = [];
    try {
      names = await fsp.readdir(dir);
    } catch {
      /* removed meanwhile: its delete event follows */
    }
    for (const name of names) {
      if (this.hidden(name) || entries.has(name)) continue;
      const st = await fsp.lstat(path.join(dir, name)).catch(() => null);
      if (!st || entries.has(name)) continue;
      entries.set(name, entryOf(st));
      if (reportNew) this.opts.onEvent({ type: "create", path: path.join(dir, name), isDirectory: st.isDirectory() });
      if (st.isDirectory() && this.opts.recursive) await this.addDir(path.join(dir, name), reportNew);
    }
  }

  /** Stops watching dir and everything below it. */
  private dropDir(dir: string): void {
    for (const d of [...this.watchers.keys()]) {
      if (d === dir || d.startsWith(dir + "/")) {
        this.watchers.get(d)!.close();
        this.watchers.delete(d);
        this.known.delete(d);
      }
    }
  }

  private push(ev: RawEvent): void {
    if (this.closed) return;
    this.queue.push(ev);
    if (!this.draining) void this.drain();
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.queue.length > 0 && !this.closed) {
        const ev = this.queue.shift()!;
        await this.handle(ev);
        // The batch is over when nothing else is queued: unpaired deletes are real deletes.
        if (this.queue.length === 0) this.flushDeletes();
      }
    } catch (e) {
      this.opts.onError(e as Error);
    } finally {
      this.draining = false;
    }
  }

  private flushDeletes(): void {
    for (const d of this.pendingDeletes.splice(0)) this.opts.onEvent({ type: "delete", path: d.path, isDirectory: d.entry.isDir });
  }

  private async handle(ev: RawEvent): Promise<void> {
    const entries = this.known.get(ev.dir);
    if (!entries) return; // directory no longer watched
    if (ev.name === null) return;
    const name = ev.name;
    if (this.hidden(name)) return;
    const full = path.join(ev.dir, name);
    const before = entries.get(name);
    const st = await fsp.lstat(full).catch(() => null);
    if (this.closed || !this.known.has(ev.dir)) return;

    if (ev.kind === "change") {
      if (!st || !before) return; // the create/delete event for it tells the story
      // Several writes in one batch are one modify.
      if (this.queue.some((q) => q.dir === ev.dir && q.name === name && q.kind === "change")) return;
      if (st.isDirectory() || sigOf(st) === before.sig) return;
      before.sig = sigOf(st);
      this.opts.onEvent({ type: "modify", path: full, isDirectory: false });
      return;
    }

    if (st && !before) {
      entries.set(name, entryOf(st));
      // Changes already queued for this new file are part of its creation.
      this.queue = this.queue.filter((q) => !(q.dir === ev.dir && q.name === name && q.kind === "change"));
      const i = this.pendingDeletes.findIndex((d) => d.entry.ino === st.ino && d.entry.isDir === st.isDirectory());
      if (i >= 0) {
        const [old] = this.pendingDeletes.splice(i, 1);
        this.flushDeletes(); // earlier deletes keep their order before this rename
        this.opts.onEvent({ type: "rename", path: full, oldPath: old!.path, isDirectory: st.isDirectory() });
        if (old!.entry.isDir && this.opts.recursive) await this.addDir(full, false);
      } else {
        this.flushDeletes();
        this.opts.onEvent({ type: "create", path: full, isDirectory: st.isDirectory() });
        if (st.isDirectory() && this.opts.recursive) await this.addDir(full, true);
      }
    } else if (!st && before) {
      entries.delete(name);
      if (before.isDir) this.dropDir(full);
      this.pendingDeletes.push({ path: full, entry: before });
    } else if (st && before) {
      // Replaced in place (e.g. an editor's atomic save renames a temp file over it).
      if (st.ino !== before.ino) {
        entries.set(name, entryOf(st));
        this.flushDeletes();
        this.opts.onEvent({ type: "modify", path: full, isDirectory: st.isDirectory() });
      }
    }
    else if (!st && !before && ev.dir === this.root && name === path.basename(this.root)) {
      // inotify's DELETE_SELF/MOVE_SELF arrive on the directory's own watch, named after it.
      const self = await fsp.stat(this.root).catch(() => null);
      if (!self && !this.closed) {
        this.flushDeletes();
        this.opts.onEvent({ type: "delete", path: this.root, isDirectory: true });
        this.opts.onRootGone();
      }
    }
  }
}
