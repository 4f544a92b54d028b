// Builds a small `docker save`-style image for the template e2e tests from the base rootfs:
//   layer 1: the merged-/usr top-level symlinks and a few directories/files of /etc (system tar)
//   layer 2: node (+ /usr/share/nodejs), bash, dash, tini, a few coreutils and the libraries `ldd` lists, archived
//            through symlinked parents (lib/… → usr/lib/…) to exercise in-root link resolution
//   layer 3: /app/server.js and a whiteout that deletes /usr/bin/cat again
// About 105 MB instead of the base image's 1.6 GB, so import and the driver's uid shift stay fast.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { tarOfBuffers } from "../../packages/server/test/templates-fixtures.js";

const BINARIES = ["usr/bin/node", "usr/bin/bash", "usr/bin/dash", "usr/bin/sh", "usr/bin/tini", "usr/bin/date", "usr/bin/sleep", "usr/bin/cat", "usr/bin/env", "usr/bin/ls"];
const SKELETON = ["bin", "lib", "lib64", "sbin", "usr", "usr/bin", "usr/lib", "usr/lib64", "usr/lib/x86_64-linux-gnu", "etc", "etc/passwd", "etc/group", "etc/hosts", "tmp", "root", "workspace", "var", "var/tmp"];

export const SERVER_JS = `
const http = require("http");
http.createServer((req, res) => {
  res.setHeader("content-type", "application/json");
  res.end(JSON.stringify({ hello: "from-template", greeting: process.env.GREETING ?? null, cwd: process.cwd(), path: req.url }));
}).listen(8080, "0.0.0.0");
`;

export const IMAGE_CONFIG = {
  architecture: "amd64",
  os: "linux",
  config: {
    Env: ["PATH=/usr/local/bin:/usr/bin:/bin", "GREETING=from-image"],
    WorkingDir: "/app",
    ExposedPorts: { "8080/tcp": {} },
    Cmd: ["node", "/app/server.js"],
  },
};

function systemTar(base: string, args: string[], names: string[]): Buffer {
  return execFileSync("tar", ["-C", base, "--numeric-owner", ...args, "-cf", "-", ...names], { maxBuffer: 1024 * 1024 * 1024 });
}

/** Libraries the binaries need, as paths relative to the root (as ldd prints them). */
function libraries(base: string): string[] {
  const out = execFileSync("chroot", [base, "/usr/bin/ldd", ...BINARIES.map((b) => `/${b}`)], { encoding: "utf8" });
  const libs = new Set<string>();
  for (const m of out.matchAll(/(?:=>\s*)?(\/[^\s]+)\s+\(0x/g)) libs.add(m[1]!.slice(1));
  return [...libs];
}

/** The slim image's three uncompressed layer tars. */
export async function slimLayers(base: string): Promise<Buffer[]> {
  return [
    systemTar(base, ["--no-recursion"], SKELETON),
    // Debian's node loads some builtins from /usr/share/nodejs
    systemTar(base, ["--dereference"], [...BINARIES, ...libraries(base), "usr/share/nodejs", "etc/ssl/certs/ca-certificates.crt"]),
    await tarOfBuffers([
      { name: "app/server.js", body: SERVER_JS },
      { name: "usr/bin/.wh.cat" },
    ]),
  ];
}

/** Writes a docker-save tar of the slim image to `file`; returns its size in bytes. */
export async function buildSlimImage(base: string, file: string, layers?: Buffer[]): Promise<number> {
  layers ??= await slimLayers(base);
  const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
  // a complete config (diff_ids of the uncompressed layers), so other tools (skopeo) accept the archive too
  const config = Buffer.from(JSON.stringify({ ...IMAGE_CONFIG, rootfs: { type: "layers", diff_ids: layers.map((l) => `sha256:${sha(l)}`) } }));
  const members: { name: string; data: Buffer }[] = layers.map((l) => ({ name: `${sha(l)}/layer.tar`, data: l }));
  members.push({ name: `${sha(config)}.json`, data: config });
  members.push({ name: "manifest.json", data: Buffer.from(JSON.stringify([{ Config: `${sha(config)}.json`, RepoTags: ["slim-node:test"], Layers: layers.map((l) => `${sha(l)}/layer.tar`) }])) });
  const archive = await tarOfBuffers(members);
  writeFileSync(file, archive);
  return archive.length;
}
