// Node helpers to copy between the local filesystem and a sandbox: files go through the raw
// route (streamed), directories through the tar route. Archives are built and unpacked in-process
// (node-tar); what comes back from a sandbox is unpacked as hostile input (node-archive.ts).
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { SandboxError } from "./errors.js";
import type { SessionApi } from "./session-api.js";
import * as tar from "tar";
import { extractUntrusted, type ExtractLimits, type SkippedEntry } from "./node-archive.js";

export { extractUntrusted, type ExtractLimits, type ExtractReport, type SkippedEntry } from "./node-archive.js";

/** Copies a local file or directory to `remotePath` in the sandbox. Returns bytes sent and what was left out. */
export async function copyToSandbox(sandbox: SessionApi, localPath: string, remotePath: string): Promise<{ kind: "file" | "directory"; bytes: number; skipped: SkippedEntry[] }> {
  const st = await stat(localPath);
  if (st.isDirectory()) {
    const skipped: SkippedEntry[] = [];
    let failed: Error | null = null;
    const pack = tar.c(
      {
        cwd: localPath,
        portable: true,
        // Sockets, FIFOs and devices cannot travel in a tar (node-tar would also corrupt the stream).
        filter: (p, s) => {
          const ok = !("isFile" in s) || s.isFile() || s.isDirectory() || s.isSymbolicLink();
          if (!ok) skipped.push({ path: p, reason: "not a file, directory or symlink" });
          return ok;
        },
        onwarn: (_c, m) => (failed ??= new Error(`Cannot archive ${localPath}: ${m}`)),
      },
      ["."],
    );
    const r = await sandbox.uploadDirectory(remotePath, Readable.toWeb(Readable.from(pack)) as ReadableStream<Uint8Array>);
    if (failed) throw failed;
    return { kind: "directory", bytes: r.bytesReceived, skipped: [...skipped, ...(r.skipped ?? [])] };
  }
  // cp semantics: a destination ending in "/" or naming an existing directory receives the file by name.
  const send = (dest: string) => sandbox.uploadFile(dest, Readable.toWeb(createReadStream(localPath)) as ReadableStream<Uint8Array>);
  const into = (dir: string) => `${dir.replace(/\/+$/, "")}/${basename(localPath)}`;
  try {
    const r = await send(remotePath.endsWith("/") ? into(remotePath) : remotePath);
    return { kind: "file", bytes: r.bytesWritten, skipped: [] };
  } catch (e) {
    if (!(e instanceof SandboxError) || e.code !== "IS_DIRECTORY" || remotePath.endsWith("/")) throw e;
    const r = await send(into(remotePath));
    return { kind: "file", bytes: r.bytesWritten, skipped: [] };
  }
}

/**
 * Copies `remotePath` from the sandbox to `localPath`. A directory is extracted into localPath
 * (created when missing) as an untrusted archive: `skipped` lists every entry that was refused
 * (devices, setuid bits, links leaving localPath, …; see node-archive.ts); a file is written to localPath.
 */
export async function copyFromSandbox(sandbox: SessionApi, remotePath: string, localPath: string, limits: ExtractLimits = {}): Promise<{ kind: "file" | "directory"; skipped: SkippedEntry[] }> {
  const isDir = (await sandbox.exec(`test -d ${quote(remotePath)}`)).exitCode === 0;
  if (isDir) {
    await mkdir(localPath, { recursive: true });
    const body = await sandbox.downloadDirectory(remotePath);
    const input = Readable.fromWeb(body as import("node:stream/web").ReadableStream);
    const report = await extractUntrusted(input, localPath, limits, `${remotePath} into ${localPath}`);
    return { kind: "directory", skipped: report.skipped };
  }
  const body = await sandbox.downloadFile(remotePath);
  const isLocalDir = localPath.endsWith("/") || (await stat(localPath).then((s) => s.isDirectory(), () => false));
  const target = isLocalDir ? join(localPath, basename(remotePath)) : localPath;
  await mkdir(dirname(target), { recursive: true });
  await pipeline(Readable.fromWeb(body as import("node:stream/web").ReadableStream), createWriteStream(target) as Writable);
  return { kind: "file", skipped: [] };
}

function quote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
