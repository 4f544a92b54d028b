// Random access to the members of an outer image archive (docker save tar, OCI layout tar) or
// an OCI layout directory, without unpacking it: a tar is indexed once (headers only), then each
// blob is read in place as a byte range of the archive file.
import { createHash } from "node:crypto";
import { open, stat } from "node:fs/promises";
import path from "node:path";
import { AtollError, ErrorCode } from "@atoll/protocol";

/** A member's bytes: `size` bytes of `file` from `start`. */
export interface BlobRef {
  file: string;
  start: number;
  size: number;
}

export interface ImageFiles {
  /** Where `name` (a path inside the archive or layout) lives, or null when absent. */
  locate(name: string): Promise<BlobRef | null>;
}

function bad(why: string, ctx: Record<string, unknown> = {}): AtollError {
  return new AtollError(ErrorCode.INVALID_TEMPLATE, `Cannot read image: ${why}`, ctx);
}

/** Clean relative name inside the archive; names come from untrusted manifests. */
export function cleanName(name: string): string {
  const parts = String(name).split("/").filter((p) => p !== "" && p !== ".");
  if (parts.length === 0 || parts.includes("..") || name.includes("\0")) throw bad(`bad member name ${JSON.stringify(String(name).slice(0, 200))}`);
  return parts.join("/");
}

export async function readBlob(ref: BlobRef, limit = 8 * 1024 * 1024): Promise<Buffer> {
  if (ref.size > limit) throw bad(`metadata file is over ${limit} bytes`);
  const fh = await open(ref.file, "r");
  try {
    const buf = Buffer.alloc(ref.size);
    let off = 0;
    while (off < ref.size) {
      const { bytesRead } = await fh.read(buf, off, ref.size - off, ref.start + off);
      if (bytesRead === 0) throw bad("archive is truncated");
      off += bytesRead;
    }
    return buf;
  } finally {
    await fh.close();
  }
}

/** Parses a JSON member; with `digest` ("sha256:<hex>") its bytes must match it. */
export async function readJson(files: ImageFiles, name: string, digest?: string): Promise<unknown> {
  const ref = await files.locate(name);
  if (!ref) throw bad(`${name} is missing`);
  const bytes = await readBlob(ref);
  if (digest?.startsWith("sha256:") && `sha256:${createHash("sha256").update(bytes).digest("hex")}` !== digest) {
    throw bad(`${name} is corrupt (its sha256 does not match ${digest})`, { digest });
  }
  try {
    return JSON.parse(bytes.toString("utf8"));
  } catch (e) {
    if (e instanceof AtollError) throw e;
    throw bad(`${name} is not valid JSON`);
  }
}

/** An OCI layout directory (or any directory of image files). */
export function dirFiles(root: string): ImageFiles {
  return {
    async locate(name) {
      const p = path.join(root, cleanName(name));
      const st = await stat(p).catch(() => null);
      return st?.isFile() ? { file: p, start: 0, size: st.size } : null;
    },
  };
}

interface TarMember {
  start: number;
  size: number;
  type: string;
  linkname: string;
}

/** Indexes a tar archive by reading its headers only. */
export async function tarFiles(file: string): Promise<ImageFiles> {
  const members = new Map<string, TarMember>();
  const fh = await open(file, "r");
  try {
    const total = (await fh.stat()).size;
    const hdr = Buffer.alloc(512);
    let off = 0;
    let longName: string | null = null;
    let longLink: string | null = null;
    let pax: Record<string, string> = {};
    while (off + 512 <= total) {
      const { bytesRead } = await fh.read(hdr, 0, 512, off);
      if (bytesRead < 512) break;
      if (hdr.every((b) => b === 0)) break; // end of archive
      if (!checksumOk(hdr)) throw bad("not a tar archive (bad header checksum)", { offset: off });
      const type = String.fromCharCode(hdr[156]!) || "0";
      let size = parseNumber(hdr.subarray(124, 136));
      const dataStart = off + 512;
      const next = dataStart + Math.ceil(size / 512) * 512;
      if (type === "x" || type === "L" || type === "K") {
        if (size > 1024 * 1024) throw bad("oversized tar extended header");
        const body = Buffer.alloc(size);
        await fh.read(body, 0, size, dataStart);
        if (type === "x") pax = parsePax(body);
        else if (type === "L") longName = cstr(body);
        else longLink = cstr(body);
        off = next;
        continue;
      }
      if (type === "g") {
        off = next;
        continue;
      }
      const prefix = hdr.subarray(257, 262).toString("latin1") === "ustar" ? cstr(hdr.subarray(345, 500)) : "";
      let name = pax.path ?? longName ?? (prefix ? `${prefix}/${cstr(hdr.subarray(0, 100))}` : cstr(hdr.subarray(0, 100)));
      const linkname = pax.linkpath ?? longLink ?? cstr(hdr.subarray(157, 257));
      if (pax.size) size = Number(pax.size);
      const clean = name.split("/").filter((p) => p !== "" && p !== ".").join("/");
      if (clean && !clean.split("/").includes("..")) members.set(clean, { start: dataStart, size, type, linkname });
      off = dataStart + Math.ceil(size / 512) * 512;
      pax = {};
      longName = longLink = null;
      name = "";
    }
  } finally {
    await fh.close();
  }
  if (members.size === 0) throw bad(`${file} is not a tar archive or is empty`);

  return {
    async locate(name) {
      let key = cleanName(name);
      for (let hops = 0; hops < 8; hops++) {
        const m = members.get(key);
        if (!m) return null;
        if (m.type === "2") {
          // symlink inside the archive (docker save links legacy paths to blobs/)
          key = cleanName(m.linkname.startsWith("/") ? m.linkname : path.posix.join(path.posix.dirname(key), m.linkname));
          continue;
        }
        if (m.type === "1") {
          key = cleanName(m.linkname);
          continue;
        }
        if (m.type !== "0" && m.type !== "\0" && m.type !== "7") return null;
        return { file, start: m.start, size: m.size };
      }
      throw bad(`too many links resolving ${name}`);
    },
  };
}

function cstr(b: Buffer): string {
  const z = b.indexOf(0);
  return b.subarray(0, z === -1 ? b.length : z).toString("utf8");
}

/** Octal, or GNU base-256 when the high bit of the first byte is set. */
function parseNumber(b: Buffer): number {
  if (b[0]! & 0x80) {
    let v = 0;
    for (let i = 1; i < b.length; i++) v = v * 256 + b[i]!;
    return v;
  }
  const s = cstr(b).trim();
  return s ? parseInt(s, 8) : 0;
}

function checksumOk(h: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : h[i]!;
  return parseNumber(h.subarray(148, 156)) === sum;
}

function parsePax(body: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < body.length) {
    const sp = body.indexOf(0x20, i);
    if (sp === -1) break;
    const len = parseInt(body.subarray(i, sp).toString("latin1"), 10);
    if (!(len > 0)) break;
    const rec = body.subarray(sp + 1, i + len - 1).toString("utf8");
    const eq = rec.indexOf("=");
    if (eq > 0) out[rec.slice(0, eq)] = rec.slice(eq + 1);
    i += len;
  }
  return out;
}
