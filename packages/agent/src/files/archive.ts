// Directory transfer as a tar stream through the image's `tar` binary, with streaming pipes both ways.
import { spawn, type ChildProcess } from "node:child_process";
import fsp from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { pipeline } from "node:stream/promises";
import { AtollError, ErrorCode } from "@atoll/protocol";

const STDERR_CAP = 8192;

function collectStderr(child: ChildProcess): () => string {
  let err = "";
  child.stderr?.on("data", (c: Buffer) => {
    if (err.length < STDERR_CAP) err += c.toString("utf8");
  });
  return () => err.slice(0, STDERR_CAP).trim();
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code, signal) => resolve({ code, signal }));
  });
}

function tarError(verb: string, p: string, stderr: string, code: number | null): AtollError {
  const ec = /No space left/i.test(stderr) ? ErrorCode.NO_SPACE
    : /Permission denied/i.test(stderr) ? ErrorCode.PERMISSION_DENIED
    : /not look like a tar archive|unexpected EOF|Unexpected EOF|invalid tar/i.test(stderr) ? ErrorCode.VALIDATION_FAILED
    : ErrorCode.FILESYSTEM_ERROR;
  const first = stderr.split("\n").find((l) => l.trim()) ?? `tar exited with ${code}`;
  return new AtollError(ec, `Cannot ${verb} ${p}: ${first.replace(/^tar: /, "")}`, { path: p, stderr, exitCode: code });
}

async function requireDir(p: string): Promise<void> {
  const st = await fsp.stat(p);
  if (!st.isDirectory()) throw new AtollError(ErrorCode.NOT_DIRECTORY, `Cannot archive ${p}: not a directory`, { path: p });
}

/** GET /api/archive: tar of the directory's contents (entries relative, "./…"), streamed. */
export async function sendArchive(dir: string, gzip: boolean, res: ServerResponse): Promise<void> {
  await requireDir(dir);
  const child = spawn("tar", [gzip ? "-czf" : "-cf", "-", "-C", dir, "."], { stdio: ["ignore", "pipe", "pipe"] });
  const stderr = collectStderr(child);
  const done = exited(child);
  // Wait for the first bytes (or the exit) so an immediate failure is still a proper error response.
  const first = await new Promise<Buffer | null>((resolve) => {
    child.stdout!.once("readable", () => resolve(child.stdout!.read() as Buffer | null));
    child.once("close", () => resolve(null));
    child.once("error", () => resolve(null));
  });
  if (first === null) {
    const { code } = await done;
    if (code !== 0) throw tarError("archive", dir, stderr(), code);
  }
  res.writeHead(200, { "content-type": gzip ? "application/gzip" : "application/x-tar", "x-accel-buffering": "no" });
  const onClose = () => {
    if (child.exitCode === null) child.kill("SIGKILL");
  };
  res.on("close", onClose);
  try {
    if (first) res.write(first);
    await pipeline(child.stdout!, res, { end: false });
    const { code } = await done;
    // tar exits 1 when files changed while being read: the archive is still complete.
    if (code !== 0 && code !== 1) {
      console.error(`[agent] archive of ${dir} failed: ${stderr()}`);
      res.destroy();
      return;
    }
    res.end();
  } catch {
    res.destroy();
    child.kill("SIGKILL");
  } finally {
    res.off("close", onClose);
  }
}

/** PUT /api/archive: extracts the uploaded tar (gzip auto-detected) into dir, creating it. */
export async function receiveArchive(dir: string, req: IncomingMessage): Promise<number> {
  const st = await fsp.stat(dir).catch(() => null);
  if (st && !st.isDirectory()) throw new AtollError(ErrorCode.NOT_DIRECTORY, `Cannot extract into ${dir}: not a directory`, { path: dir });
  await fsp.mkdir(dir, { recursive: true });
  const gzip = /gzip/.test(String(req.headers["content-type"] ?? "")) || req.headers["content-encoding"] === "gzip";
  // --no-same-owner: uploaded uids mean nothing inside the sandbox's user namespace.
  const args = ["-x", ...(gzip ? ["-z"] : []), "-f", "-", "-C", dir, "--no-same-owner", "--no-overwrite-dir"];
  const child = spawn("tar", args, { stdio: ["pipe", "ignore", "pipe"] });
  const stderr = collectStderr(child);
  const done = exited(child);
  let bytes = 0;
  const counter = async function* (src: AsyncIterable<Buffer>) {
    for await (const c of src) {
      bytes += c.length;
      yield c;
    }
  };
  try {
    await pipeline(req, counter, child.stdin!);
  } catch (e) {
    // tar closing stdin early (bad archive) surfaces as EPIPE: its exit status tells the story.
    if ((e as NodeJS.ErrnoException).code !== "EPIPE") {
      child.kill("SIGKILL");
      await done.catch(() => {});
      throw e;
    }
  }
  const { code } = await done;
  if (code !== 0) throw tarError("extract into", dir, stderr(), code);
  return bytes;
}
