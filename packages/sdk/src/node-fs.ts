// Node helpers to copy between the local filesystem and a sandbox: files go through the raw
// route (streamed), directories through the tar route (the host's `tar` builds and unpacks them).
import { spawn } from "node:child_process";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { SandboxError } from "./errors.js";
import type { SessionApi } from "./session-api.js";

/** Copies a local file or directory to `remotePath` in the sandbox. Returns bytes sent. */
export async function copyToSandbox(sandbox: SessionApi, localPath: string, remotePath: string): Promise<{ kind: "file" | "directory"; bytes: number }> {
  const st = await stat(localPath);
  if (st.isDirectory()) {
    const tar = spawn("tar", ["-C", localPath, "-cf", "-", "."], { stdio: ["ignore", "pipe", "pipe"] });
    let err = "";
    tar.stderr.on("data", (d) => (err += d));
    const exited = new Promise<number>((r) => tar.on("close", (c) => r(c ?? 1)));
    const r = await sandbox.uploadDirectory(remotePath, Readable.toWeb(tar.stdout) as ReadableStream<Uint8Array>);
    if ((await exited) !== 0) throw new Error(`Cannot archive ${localPath}: tar failed: ${err.trim()}`);
    return { kind: "directory", bytes: r.bytesReceived };
  }
  // cp semantics: a destination ending in "/" or naming an existing directory receives the file by name.
  const send = (dest: string) => sandbox.uploadFile(dest, Readable.toWeb(createReadStream(localPath)) as ReadableStream<Uint8Array>);
  const into = (dir: string) => `${dir.replace(/\/+$/, "")}/${basename(localPath)}`;
  try {
    const r = await send(remotePath.endsWith("/") ? into(remotePath) : remotePath);
    return { kind: "file", bytes: r.bytesWritten };
  } catch (e) {
    if (!(e instanceof SandboxError) || e.code !== "IS_DIRECTORY" || remotePath.endsWith("/")) throw e;
    const r = await send(into(remotePath));
    return { kind: "file", bytes: r.bytesWritten };
  }
}

/**
 * Copies `remotePath` from the sandbox to `localPath`. A directory is extracted into localPath
 * (created when missing); a file is written to localPath.
 */
export async function copyFromSandbox(sandbox: SessionApi, remotePath: string, localPath: string): Promise<{ kind: "file" | "directory" }> {
  const isDir = (await sandbox.exec(`test -d ${quote(remotePath)}`)).exitCode === 0;
  if (isDir) {
    await mkdir(localPath, { recursive: true });
    const body = await sandbox.downloadDirectory(remotePath);
    const tar = spawn("tar", ["-C", localPath, "-xf", "-"], { stdio: ["pipe", "ignore", "pipe"] });
    let err = "";
    tar.stderr.on("data", (d) => (err += d));
    const exited = new Promise<number>((r) => tar.on("close", (c) => r(c ?? 1)));
    await pipeline(Readable.fromWeb(body as import("node:stream/web").ReadableStream), tar.stdin);
    if ((await exited) !== 0) throw new Error(`Cannot extract ${remotePath} into ${localPath}: tar failed: ${err.trim()}`);
    return { kind: "directory" };
  }
  const body = await sandbox.downloadFile(remotePath);
  const isLocalDir = localPath.endsWith("/") || (await stat(localPath).then((s) => s.isDirectory(), () => false));
  const target = isLocalDir ? join(localPath, basename(remotePath)) : localPath;
  await mkdir(dirname(target), { recursive: true });
  await pipeline(Readable.fromWeb(body as import("node:stream/web").ReadableStream), createWriteStream(target) as Writable);
  return { kind: "file" };
}

function quote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
