// Builds small image archives for the template tests: layer tars (tar-stream pack), then
// docker-save tars and OCI layouts (directory or tar) around them.
import { createHash } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { gzipSync } from "node:zlib";
import tar from "tar-stream";

export interface Entry {
  name: string;
  type?: "file" | "directory" | "symlink" | "link" | "character-device" | "fifo";
  body?: string;
  /** Binary body (outer archives). */
  data?: Buffer;
  mode?: number;
  linkname?: string;
  uid?: number;
  gid?: number;
}

/** A tar (Buffer) of the given entries, in order. */
export async function tarOf(entries: Entry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const c of pack as AsyncIterable<Buffer>) chunks.push(c);
  })();
  for (const e of entries) {
    const type = e.type ?? "file";
    const header = {
      name: e.name,
      type,
      mode: e.mode ?? (type === "directory" ? 0o755 : 0o644),
      linkname: e.linkname,
      uid: e.uid ?? 0,
      gid: e.gid ?? 0,
      mtime: new Date(1_700_000_000_000),
      devmajor: type === "character-device" ? 1 : undefined,
      devminor: type === "character-device" ? 3 : undefined,
    };
    await new Promise<void>((res, rej) => {
      const cb = (err?: unknown) => (err ? rej(err) : res());
      if (type === "file") pack.entry(header, e.body ?? "", cb);
      else pack.entry(header, cb);
    });
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

export const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

export const CONFIG = {
  architecture: "amd64",
  os: "linux",
  config: {
    Env: ["PATH=/usr/local/bin:/usr/bin:/bin", "GREETING=hello"],
    WorkingDir: "/app",
    ExposedPorts: { "8080/tcp": {}, "53/udp": {}, "80/tcp": {} },
    Entrypoint: ["/bin/sh", "-c"],
    Cmd: ["echo it's up"],
  },
  rootfs: { type: "layers", diff_ids: [] as string[] },
};

/** `docker save`-style tar: <hex>/layer.tar per layer, <hex>.json config, manifest.json. */
export async function dockerSave(layers: Buffer[], config: object = CONFIG): Promise<Buffer> {
  const cfg = Buffer.from(JSON.stringify({ ...config, rootfs: { type: "layers", diff_ids: layers.map((l) => `sha256:${sha256(l)}`) } }));
  const entries: Entry[] = [];
  const names: string[] = [];
  for (const l of layers) {
    const id = sha256(l);
    names.push(`${id}/layer.tar`);
    entries.push({ name: `${id}/`, type: "directory" }, { name: `${id}/layer.tar`, data: l });
  }
  entries.push({ name: `${sha256(cfg)}.json`, data: cfg });
  entries.push({ name: "manifest.json", body: JSON.stringify([{ Config: `${sha256(cfg)}.json`, RepoTags: ["test:latest"], Layers: names }]) });
  return tarOfBuffers(entries);
}

/** A tar of members with binary bodies (outer archives; also used by tests/e2e). */
export async function tarOfBuffers(entries: Entry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const c of pack as AsyncIterable<Buffer>) chunks.push(c);
  })();
  for (const e of entries) {
    const header = { name: e.name, type: e.type ?? "file", mode: 0o644 } as const;
    await new Promise<void>((res, rej) => {
      const cb = (err?: unknown) => (err ? rej(err) : res());
      if (e.type === "directory") pack.entry(header, cb);
      else pack.entry(header, e.data ?? Buffer.from(e.body ?? ""), cb);
    });
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** OCI image layout files (relative path → bytes); layers gzip-compressed when gzip=true. */
export function ociLayoutFiles(layers: Buffer[], opts: { gzip?: boolean; config?: object } = {}): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const blob = (b: Buffer) => {
    const h = sha256(b);
    files.set(`blobs/sha256/${h}`, b);
    return { digest: `sha256:${h}`, size: b.length };
  };
  const cfg = blob(Buffer.from(JSON.stringify(opts.config ?? CONFIG)));
  const layerDescs = layers.map((l) => ({
    mediaType: opts.gzip ? "application/vnd.oci.image.layer.v1.tar+gzip" : "application/vnd.oci.image.layer.v1.tar",
    ...blob(opts.gzip ? gzipSync(l) : l),
  }));
  const manifest = blob(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json", config: { mediaType: "application/vnd.oci.image.config.v1+json", ...cfg }, layers: layerDescs })));
  files.set("oci-layout", Buffer.from(JSON.stringify({ imageLayoutVersion: "1.0.0" })));
  files.set("index.json", Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: "application/vnd.oci.image.manifest.v1+json", ...manifest, platform: { os: "linux", architecture: "amd64" } }] })));
  return files;
}

export async function writeLayoutDir(dir: string, files: Map<string, Buffer>): Promise<void> {
  for (const [name, b] of files) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), b);
  }
}

export async function layoutTar(files: Map<string, Buffer>): Promise<Buffer> {
  return tarOfBuffers([...files].map(([name, b]) => ({ name, data: b })));
}
