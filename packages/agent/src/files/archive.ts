// Directory transfer as a tar stream, built and unpacked in-process with the bundled `tar` library:
// the agent never runs the sandbox's own `tar` (root in the sandbox can replace it, and the
// agent's output must not depend on what the sandbox put in its PATH).
import type { Stats } from "node:fs";
import fsp from "node:fs/promises";
import { once } from "node:events";
import type { IncomingMessage, ServerResponse } from "node:http";
import { pipeline } from "node:stream/promises";
import * as tar from "tar";
import { AtollError, ErrorCode, codeForErrno, type SkippedEntry } from "@atoll/protocol";

/** At most this many skipped entries are listed in an extract result (the count is exact). */
const SKIPPED_LIST_CAP = 1000;

async function requireDir(p: string): Promise<void> {
  const st = await fsp.stat(p);
  if (!st.isDirectory()) throw new AtollError(ErrorCode.NOT_DIRECTORY, `Cannot archive ${p}: not a directory`, { path: p });
}

/** Only what a tar can carry portably: sockets, FIFOs and devices are left out (tar also corrupts its output on them). */
function archivable(p: string, st: Stats | tar.ReadEntry, dir: string): boolean {
  if (!("isFile" in st) || st.isFile() || st.isDirectory() || st.isSymbolicLink()) return true;
  console.error(`[agent] archive of ${dir}: skipped ${p} (not a file, directory or symlink)`);
  return false;
}

/** GET /api/archive: tar of the directory's contents (entries relative, "./…"), streamed. */
export async function sendArchive(dir: string, gzip: boolean, res: ServerResponse): Promise<void> {
  await requireDir(dir);
  // Readable up front: a directory we cannot list is a proper error response, not a cut stream.
  await fsp.readdir(dir);
  const pack = tar.c(
    {
      cwd: dir,
      gzip: gzip || undefined,
      filter: (p, st) => archivable(p, st, dir),
      // A file that vanishes or cannot be read while archiving is left out, as GNU tar does.
      onwarn: (code, message) => console.error(`[agent] archive of ${dir}: ${code} ${message}`),
    },
    ["."],
  );
  res.writeHead(200, { "content-type": gzip ? "application/gzip" : "application/x-tar", "x-accel-buffering": "no" });
  try {
    await pipeline(pack as unknown as NodeJS.ReadableStream, res);
  } catch (e) {
    // Client gone, or a read error mid-way: a truncated tar tells the client.
    if (!res.destroyed) console.error(`[agent] archive of ${dir} failed: ${(e as Error).message}`);
    res.destroy();
  }
}

export interface ExtractOutcome {
  bytesReceived: number;
  skipped: SkippedEntry[];
  skippedCount: number;
}

/** What a tar warning means for one entry: skipped (bad path, unsupported type) or fatal (disk errors). */
function classify(code: string, data: { code?: string }): "skip" | "info" | "fatal" {
  if (code === "TAR_ENTRY_INFO") return "info";
  const errno = data.code ?? "";
  if (/^E[A-Z0-9]+$/.test(errno) && !["ELOOP", "ENOTDIR", "EEXIST", "EISDIR", "ENOTEMPTY"].includes(errno)) return "fatal";
  return "skip";
}

/** PUT /api/archive: extracts the uploaded tar (gzip auto-detected) into dir, creating it. */
export async function receiveArchive(dir: string, req: IncomingMessage): Promise<ExtractOutcome> {
  const st = await fsp.stat(dir).catch(() => null);
  if (st && !st.isDirectory()) throw new AtollError(ErrorCode.NOT_DIRECTORY, `Cannot extract into ${dir}: not a directory`, { path: dir });
  await fsp.mkdir(dir, { recursive: true });
  const skipped: SkippedEntry[] = [];
  let skippedCount = 0;
  let fatal: AtollError | null = null;
  const unpack = tar.x({
    cwd: dir,
    // Uploaded uids mean nothing inside the sandbox's user namespace (GNU tar's --no-same-owner).
    preserveOwner: false,
    onwarn: (code, message, data) => {
      const kind = classify(code, data);
      const entryPath = String((data.entry as { path?: string } | undefined)?.path ?? data.path ?? "");
      if (kind === "fatal" && !fatal) {
        const errno = String(data.code);
        fatal = new AtollError(codeForErrno(errno), `Cannot extract into ${dir}: ${message}`, { path: dir, entry: entryPath, errno });
        unpack.abort(fatal);
      } else if (kind === "skip") {
        skippedCount++;
        if (skipped.length < SKIPPED_LIST_CAP) skipped.push({ path: entryPath, reason: message });
      }
    },
  });
  // The unpacker is an EventEmitter-style writable (not a Node stream): feed it with backpressure.
  let bytes = 0;
  const finished = new Promise<void>((resolve, reject) => {
    unpack.once("finish", resolve);
    unpack.once("error", reject);
  });
  finished.catch(() => {}); // observed below
  try {
    await pipeline(req, async (src: AsyncIterable<Buffer>) => {
      for await (const c of src) {
        bytes += c.length;
        if (!unpack.write(c)) await Promise.race([once(unpack, "drain"), finished]);
      }
      unpack.end();
    });
    await finished;
  } catch (e) {
    if (fatal) throw fatal;
    const err = e as NodeJS.ErrnoException & { tarCode?: string };
    if (err.tarCode === "TAR_BAD_ARCHIVE" || err.tarCode === "TAR_ABORT" || /^TAR_/.test(String(err.code))) {
      throw new AtollError(ErrorCode.VALIDATION_FAILED, `Cannot extract into ${dir}: ${err.message.replace(/^TAR_[A-Z_]+: /, "")}`, { path: dir, bytesReceived: bytes });
    }
    throw e;
  }
  if (fatal) throw fatal;
  return { bytesReceived: bytes, skipped, skippedCount };
}
