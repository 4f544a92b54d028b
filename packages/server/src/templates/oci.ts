// Reads an OCI image from files (no registry): a `docker save` tar (manifest.json + layer tars),
// an OCI image layout directory or its tar (index.json → manifest → config + layers), and
// unpacks its layers in order into a root filesystem. Layers may be plain or gzip tars; OCI
// blobs are checked against their sha256 digest while they stream.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { open, stat } from "node:fs/promises";
import { PassThrough, Transform, type Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { AtollError, ErrorCode } from "@atoll/protocol";
import { dirFiles, readJson, tarFiles, type BlobRef, type ImageFiles } from "./archive.js";
import { applyLayer, type LayerStats } from "./layer.js";

/** Defaults an image config carries (request fields override them). */
export interface ImageDefaults {
  env: Record<string, string>;
  workdir?: string;
  ports: number[];
  /** Entrypoint + Cmd as one shell command, when the image has a real one (not just a shell). */
  startup?: string;
}

interface Layer {
  name: string;
  digest?: string;
}

export interface ImageLayout {
  format: "docker-save" | "oci-layout";
  files: ImageFiles;
  layers: Layer[];
  config: Record<string, unknown>;
}

export interface ImportResult extends ImageDefaults {
  layers: number;
  stats: LayerStats;
}

function bad(why: string, ctx: Record<string, unknown> = {}): AtollError {
  return new AtollError(ErrorCode.INVALID_TEMPLATE, `Cannot read image: ${why}`, ctx);
}

const obj = (v: unknown): Record<string, unknown> => (v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

/** Opens a docker-save tar, OCI layout tar or OCI layout directory and finds its layers. */
export async function openImage(p: string, prefer: "docker-save" | "oci-layout" = "docker-save"): Promise<ImageLayout> {
  const st = await stat(p).catch(() => null);
  if (!st) throw bad(`${p} does not exist`, { path: p });
  const files = st.isDirectory() ? dirFiles(p) : await tarFiles(p);
  const hasManifest = (await files.locate("manifest.json")) !== null;
  const hasIndex = (await files.locate("index.json")) !== null;
  if (!hasManifest && !hasIndex) throw bad(`${p} has neither manifest.json (docker save) nor index.json (OCI layout)`, { path: p });
  const useDocker = hasManifest && (prefer === "docker-save" || !hasIndex);
  return useDocker ? dockerSave(files) : ociLayout(files);
}

async function dockerSave(files: ImageFiles): Promise<ImageLayout> {
  const manifest = await readJson(files, "manifest.json");
  if (!Array.isArray(manifest) || manifest.length === 0) throw bad("manifest.json lists no image");
  const m = obj(manifest[0]);
  if (typeof m.Config !== "string" || !Array.isArray(m.Layers)) throw bad("manifest.json entry lacks Config or Layers");
  const config = obj(await readJson(files, m.Config));
  const layers = m.Layers.map((l) => {
    if (typeof l !== "string") throw bad("manifest.json has a non-string layer");
    // docker ≥ 25 names layers blobs/sha256/<hex>: verifiable like OCI blobs
    const d = /^blobs\/sha256\/([0-9a-f]{64})$/.exec(l);
    return { name: l, digest: d ? `sha256:${d[1]}` : undefined };
  });
  return { format: "docker-save", files, layers, config };
}

function blobName(digest: unknown): string {
  const m = typeof digest === "string" ? /^([a-z0-9]+):([0-9a-f]{32,128})$/.exec(digest) : null;
  if (!m) throw bad(`bad digest ${JSON.stringify(digest)}`);
  return `blobs/${m[1]}/${m[2]}`;
}

const INDEX_TYPES = new Set(["application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json"]);
const GOARCH: Record<string, string> = { x64: "amd64", arm64: "arm64", arm: "arm", ppc64: "ppc64le", s390x: "s390x", riscv64: "riscv64" };

/** Picks the manifest for this host's platform (linux/<arch>) from an index, else the first. */
function pickManifest(list: unknown[]): Record<string, unknown> {
  const ms = list.map(obj).filter((d) => typeof d.digest === "string");
  if (ms.length === 0) throw bad("index lists no manifest");
  const arch = GOARCH[process.arch] ?? process.arch;
  return ms.find((d) => obj(d.platform).os === "linux" && obj(d.platform).architecture === arch) ?? ms.find((d) => !d.platform) ?? ms[0]!;
}

async function ociLayout(files: ImageFiles): Promise<ImageLayout> {
  let doc = obj(await readJson(files, "index.json"));
  for (let depth = 0; Array.isArray(doc.manifests); depth++) {
    if (depth > 4) throw bad("image indexes nest too deeply");
    const pick = pickManifest(doc.manifests);
    doc = obj(await readJson(files, blobName(pick.digest), String(pick.digest)));
    if (!Array.isArray(doc.manifests) && !doc.config && INDEX_TYPES.has(String(pick.mediaType))) throw bad("index entry is not a manifest");
  }
  const cfg = obj(doc.config);
  if (!Array.isArray(doc.layers)) throw bad("manifest has no layers");
  const config = obj(await readJson(files, blobName(cfg.digest), String(cfg.digest)));
  const layers = doc.layers.map((l) => {
    const o = obj(l);
    if (String(o.mediaType ?? "").includes("zstd")) throw bad("zstd-compressed layers are not supported; re-save the image with gzip or no compression");
    return { name: blobName(o.digest), digest: String(o.digest) };
  });
  return { format: "oci-layout", files, layers, config };
}

/** Env/WorkingDir/ExposedPorts/Entrypoint+Cmd from an image config. */
export function imageDefaults(config: Record<string, unknown>): ImageDefaults {
  const c = obj(config.config ?? config.Config);
  const env: Record<string, string> = {};
  for (const kv of Array.isArray(c.Env) ? c.Env : []) {
    if (typeof kv !== "string") continue;
    const eq = kv.indexOf("=");
    if (eq > 0) env[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  const ports: number[] = [];
  for (const key of Object.keys(obj(c.ExposedPorts))) {
    const m = /^(\d+)(?:\/(tcp|udp|sctp))?$/.exec(key);
    const n = m ? Number(m[1]) : NaN;
    if (m && (m[2] ?? "tcp") === "tcp" && n >= 1024 && n <= 65535 && n !== 3000 && !ports.includes(n)) ports.push(n);
  }
  const argv = [...(Array.isArray(c.Entrypoint) ? c.Entrypoint : []), ...(Array.isArray(c.Cmd) ? c.Cmd : [])].filter((a): a is string => typeof a === "string");
  const shellOnly = argv.length === 1 && /^(\/(usr\/)?bin\/)?(sh|bash|ash|dash|zsh)$/.test(argv[0]!);
  const workdir = typeof c.WorkingDir === "string" && c.WorkingDir.startsWith("/") ? c.WorkingDir : undefined;
  return { env, workdir, ports, startup: argv.length && !shellOnly ? argv.map(shellQuote).join(" ") : undefined };
}

export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_\/.,:=@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

async function peek(ref: BlobRef, n: number): Promise<Buffer> {
  const fh = await open(ref.file, "r");
  try {
    const b = Buffer.alloc(Math.min(n, ref.size));
    await fh.read(b, 0, b.length, ref.start);
    return b;
  } finally {
    await fh.close();
  }
}

/** The uncompressed tar stream of a layer blob, verifying its digest when known. */
async function layerStream(ref: BlobRef, digest: string | undefined, onDigestMismatch: (e: Error) => void): Promise<Readable> {
  const magic = await peek(ref, 4);
  if (magic[0] === 0x28 && magic[1] === 0xb5 && magic[2] === 0x2f && magic[3] === 0xfd) throw bad("zstd-compressed layers are not supported; re-save the image with gzip or no compression");
  const raw: Readable = ref.size === 0 ? new PassThrough().end() : createReadStream(ref.file, { start: ref.start, end: ref.start + ref.size - 1 });
  let src: Readable = raw;
  const algo = digest?.split(":")[0];
  if (digest && algo === "sha256") {
    const h = createHash("sha256");
    const tap = new Transform({
      transform(chunk, _enc, cb) {
        h.update(chunk);
        cb(null, chunk);
      },
      flush(cb) {
        const got = `sha256:${h.digest("hex")}`;
        if (got !== digest) {
          const e = bad(`layer ${digest} is corrupt (its sha256 is ${got})`, { digest });
          onDigestMismatch(e);
          cb(e);
        } else cb();
      },
    });
    raw.on("error", (e) => tap.destroy(e));
    src = raw.pipe(tap);
  }
  if (magic[0] === 0x1f && magic[1] === 0x8b) {
    const gz = createGunzip();
    src.on("error", (e) => gz.destroy(e));
    gz.on("error", () => raw.destroy());
    src = src.pipe(gz);
  }
  return src;
}

/** Unpacks every layer of the image at `p` into `root` (an empty directory) in order. */
export async function importImage(p: string, root: string, opts: { prefer?: "docker-save" | "oci-layout"; maxBytes?: number; maxEntries?: number } = {}): Promise<ImportResult> {
  const image = await openImage(p, opts.prefer);
  const total: LayerStats = { entries: 0, bytes: 0, whiteouts: 0, skipped: 0 };
  for (const layer of image.layers) {
    const ref = await image.files.locate(layer.name);
    if (!ref) throw bad(`layer ${layer.name} is missing from the archive`, { layer: layer.name });
    let mismatch: Error | null = null;
    const input = await layerStream(ref, layer.digest, (e) => (mismatch = e));
    let s: LayerStats;
    try {
      s = await applyLayer(root, input, { maxBytes: opts.maxBytes, bytesBefore: total.bytes, maxEntries: opts.maxEntries ?? 5_000_000, entriesBefore: total.entries });
    } catch (e) {
      // file system errors (ENOSPC, ...) keep their errno mapping; tar/gzip parse errors are the image's fault
      if (e instanceof AtollError || (e as NodeJS.ErrnoException).syscall) throw e;
      throw bad(`layer ${layer.name} is not a valid tar (or gzip tar): ${(e as Error).message}`, { layer: layer.name });
    }
    if (mismatch) throw mismatch;
    total.entries += s.entries;
    total.bytes += s.bytes;
    total.whiteouts += s.whiteouts;
    total.skipped += s.skipped;
  }
  return { ...imageDefaults(image.config), layers: image.layers.length, stats: total };
}
