// Image import: docker-save and OCI layouts, layer order, whiteouts, opaque dirs, and refusal
// of entries that would escape the root. Archives are built in the test.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { lstat, mkdtemp, readFile, readlink, rm, stat, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { AtollError } from "@atoll/protocol";
import { importImage, imageDefaults } from "../src/templates/oci.js";
import { applyLayer } from "../src/templates/layer.js";
import { dockerSave, layoutTar, ociLayoutFiles, tarOf, writeLayoutDir } from "./templates-fixtures.js";

let tmp: string;
before(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), "atoll-tpl-oci-"));
});
after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const fresh = async (name: string) => {
  const d = path.join(tmp, name);
  await mkdir(d, { recursive: true });
  return d;
};

async function layers(): Promise<Buffer[]> {
  const l1 = await tarOf([
    { name: "./", type: "directory" },
    { name: "bin/", type: "directory" },
    { name: "bin/sh", body: "#!fake shell\n", mode: 0o755 },
    { name: "bin/su", body: "setuid\n", mode: 0o4755 },
    { name: "etc/", type: "directory" },
    { name: "etc/keep", body: "keep\n" },
    { name: "etc/gone", body: "gone\n" },
    { name: "etc/hard", type: "link", linkname: "etc/keep" },
    { name: "etc/owned", body: "x", uid: 1000, gid: 1000 },
    { name: "opt/old/a", body: "a" },
    { name: "opt/old/sub/b", body: "b" },
    { name: "usr/lib/libx.so", body: "lib" },
    { name: "lib", type: "symlink", linkname: "usr/lib" },
    { name: "dev/null", type: "character-device" },
  ]);
  const l2 = await tarOf([
    { name: "etc/.wh.gone" },
    { name: "opt/old/", type: "directory" },
    { name: "opt/old/.wh..wh..opq" },
    { name: "opt/old/c", body: "c" },
    { name: "app/server.js", body: "console.log('hi')\n" },
    { name: "etc/keep", body: "replaced\n" },
  ]);
  return [l1, l2];
}

async function checkRoot(root: string) {
  assert.equal(await readFile(path.join(root, "bin/sh"), "utf8"), "#!fake shell\n");
  assert.equal((await stat(path.join(root, "bin/sh"))).mode & 0o7777, 0o755);
  assert.equal((await stat(path.join(root, "bin/su"))).mode & 0o7777, 0o4755, "setuid bit kept");
  assert.equal((await stat(path.join(root, "etc/owned"))).uid, 1000, "owner kept");
  assert.equal(existsSync(path.join(root, "etc/gone")), false, "whiteout deleted the lower file");
  assert.equal(await readFile(path.join(root, "etc/keep"), "utf8"), "replaced\n", "upper layer wins");
  assert.equal(await readFile(path.join(root, "etc/hard"), "utf8"), "keep\n", "hard link kept the lower content");
  assert.equal(existsSync(path.join(root, "opt/old/a")), false, "opaque dir hides lower files");
  assert.equal(existsSync(path.join(root, "opt/old/sub")), false, "opaque dir hides lower dirs");
  assert.equal(await readFile(path.join(root, "opt/old/c"), "utf8"), "c", "opaque dir keeps its own layer's files");
  assert.equal(await readlink(path.join(root, "lib")), "usr/lib");
  assert.equal(existsSync(path.join(root, "dev/null")), false, "device nodes are not created");
  assert.equal(await readFile(path.join(root, "app/server.js"), "utf8"), "console.log('hi')\n");
}

describe("image import", () => {
  it("unpacks a docker save tar with whiteouts, opaque dirs and config defaults", async () => {
    const archive = path.join(tmp, "img.tar");
    await writeFile(archive, await dockerSave(await layers()));
    const root = await fresh("docker-root");
    const res = await importImage(archive, root);
    await checkRoot(root);
    assert.equal(res.layers, 2);
    assert.equal(res.stats.skipped, 1);
    assert.equal(res.stats.whiteouts, 2);
    assert.deepEqual(res.env, { PATH: "/usr/local/bin:/usr/bin:/bin", GREETING: "hello" });
    assert.equal(res.workdir, "/app");
    assert.deepEqual(res.ports, [8080], "udp and privileged ports are not preview ports");
    assert.equal(res.startup, "/bin/sh -c 'echo it'\\''s up'");
  });

  it("unpacks an OCI layout directory with gzip layers", async () => {
    const dir = await fresh("layout");
    await writeLayoutDir(dir, ociLayoutFiles(await layers(), { gzip: true }));
    const root = await fresh("oci-root");
    const res = await importImage(dir, root, { prefer: "oci-layout" });
    await checkRoot(root);
    assert.equal(res.workdir, "/app");
  });

  it("unpacks an OCI layout tar with plain layers", async () => {
    const archive = path.join(tmp, "layout.tar");
    await writeFile(archive, await layoutTar(ociLayoutFiles(await layers())));
    const root = await fresh("oci-tar-root");
    await importImage(archive, root, { prefer: "oci-layout" });
    await checkRoot(root);
  });

  it("refuses a corrupt OCI blob by digest", async () => {
    const files = ociLayoutFiles(await layers());
    for (const [name, b] of files) {
      if (name.startsWith("blobs/") && b.length > 2048) {
        b[1024] = b[1024]! ^ 0xff; // flip a byte inside the first layer's file data
        break;
      }
    }
    const dir = await fresh("corrupt");
    await writeLayoutDir(dir, files);
    await assert.rejects(importImage(dir, await fresh("corrupt-root"), { prefer: "oci-layout" }), (e: AtollError) => e.code === "INVALID_TEMPLATE" && /corrupt/.test(e.message));
  });

  it("refuses an OCI config blob whose bytes do not match its digest", async () => {
    const files = ociLayoutFiles(await layers());
    for (const [name, b] of files) {
      if (name.startsWith("blobs/") && b.toString().includes('"WorkingDir"')) files.set(name, Buffer.from(b.toString().replace('"/app"', '"/evil"')));
    }
    const dir = await fresh("corrupt-config");
    await writeLayoutDir(dir, files);
    await assert.rejects(importImage(dir, await fresh("corrupt-config-root"), { prefer: "oci-layout" }), (e: AtollError) => e.code === "INVALID_TEMPLATE" && /corrupt/.test(e.message));
  });

  it("refuses archives that are not images", async () => {
    const f = path.join(tmp, "not-image.tar");
    await writeFile(f, await tarOf([{ name: "hello.txt", body: "hi" }]));
    await assert.rejects(importImage(f, await fresh("x1")), (e: AtollError) => e.code === "INVALID_TEMPLATE" && /manifest\.json/.test(e.message));
    const g = path.join(tmp, "garbage.tar");
    await writeFile(g, Buffer.alloc(4096, 7));
    await assert.rejects(importImage(g, await fresh("x2")), (e: AtollError) => e.code === "INVALID_TEMPLATE");
  });

  it("answers INVALID_TEMPLATE for layers that are not tars, plain or gzip", async () => {
    const notTar = path.join(tmp, "not-tar-layer.tar");
    await writeFile(notTar, await dockerSave([Buffer.alloc(2048, 0x41)]));
    await assert.rejects(importImage(notTar, await fresh("x4")), (e: AtollError) => e.code === "INVALID_TEMPLATE" && /not a valid tar/.test(e.message));
    const badGzip = path.join(tmp, "bad-gzip-layer.tar");
    await writeFile(badGzip, await dockerSave([Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0]), Buffer.alloc(600, 7)])]));
    await assert.rejects(importImage(badGzip, await fresh("x5")), (e: AtollError) => e.code === "INVALID_TEMPLATE" && /not a valid tar/.test(e.message));
  });

  it("refuses a manifest that points outside the archive", async () => {
    const dir = await fresh("evil-manifest");
    await writeFile(path.join(dir, "manifest.json"), JSON.stringify([{ Config: "../../etc/hostname", Layers: [] }]));
    await assert.rejects(importImage(dir, await fresh("x3")), (e: AtollError) => e.code === "INVALID_TEMPLATE" && /bad member name/.test(e.message));
  });
});

describe("layer safety", () => {
  const apply = async (root: string, entries: Parameters<typeof tarOf>[0]) => applyLayer(root, Readable.from([await tarOf(entries)]));

  it("refuses ../ entries and writes nothing outside the root", async () => {
    const root = await fresh("evil1/root");
    await assert.rejects(apply(root, [{ name: "ok", body: "1" }, { name: "../escaped", body: "pwned" }]), (e: AtollError) => e.code === "INVALID_TEMPLATE" && /escapes/.test(e.message));
    assert.equal(existsSync(path.join(tmp, "evil1/escaped")), false);
    await assert.rejects(apply(root, [{ name: "a/../../escaped2", body: "pwned" }]), (e: AtollError) => e.code === "INVALID_TEMPLATE");
    assert.equal(existsSync(path.join(tmp, "evil1/escaped2")), false);
  });

  it("keeps writes through symlinks inside the root (absolute and ../ link targets)", async () => {
    const outside = await fresh("outside");
    const root = await fresh("evil2");
    await apply(root, [
      { name: "abs", type: "symlink", linkname: outside },
      { name: "rel", type: "symlink", linkname: "../../../../../../.." + outside },
    ]);
    await apply(root, [
      { name: "abs/pwned", body: "x" },
      { name: "rel/pwned2", body: "y" },
    ]);
    assert.equal(existsSync(path.join(outside, "pwned")), false, "host dir untouched");
    assert.equal(existsSync(path.join(outside, "pwned2")), false, "host dir untouched");
    assert.equal(await readFile(path.join(root, outside, "pwned"), "utf8"), "x", "landed inside the root instead");
    assert.equal(await readFile(path.join(root, outside, "pwned2"), "utf8"), "y");
  });

  it("refuses hard links to files outside the root and whiteouts never follow links out", async () => {
    const outside = await fresh("outside2");
    await writeFile(path.join(outside, "secret"), "s");
    const root = await fresh("evil3");
    await assert.rejects(apply(root, [{ name: "h", type: "link", linkname: "../outside2/secret" }]), (e: AtollError) => e.code === "INVALID_TEMPLATE");
    await assert.rejects(apply(root, [{ name: "h", type: "link", linkname: path.join(outside, "secret") }]), (e: AtollError) => e.code === "INVALID_TEMPLATE" && /missing/.test(e.message));
    await apply(root, [{ name: "o", type: "symlink", linkname: outside }]);
    await apply(root, [{ name: "o/.wh.secret" }, { name: "o/.wh..wh..opq" }]);
    assert.equal(await readFile(path.join(outside, "secret"), "utf8"), "s", "host file survived whiteouts through a link");
    assert.equal((await lstat(path.join(root, "o"))).isSymbolicLink(), true);
  });

  it("replaces a symlink by a file instead of writing through it", async () => {
    const outside = await fresh("outside3");
    await writeFile(path.join(outside, "target"), "orig");
    const root = await fresh("evil4");
    await apply(root, [{ name: "f", type: "symlink", linkname: path.join(outside, "target") }]);
    await apply(root, [{ name: "f", body: "new" }]);
    assert.equal(await readFile(path.join(outside, "target"), "utf8"), "orig");
    assert.equal(await readFile(path.join(root, "f"), "utf8"), "new");
  });

  it("stops at maxEntries (inode bomb guard)", async () => {
    const root = await fresh("inodes");
    const many = Array.from({ length: 20 }, (_, i) => ({ name: `f${i}`, body: "" }));
    await assert.rejects(applyLayer(root, Readable.from([await tarOf(many)]), { maxEntries: 10 }), (e: AtollError) => e.code === "INVALID_TEMPLATE" && /more than 10 entries/.test(e.message));
  });

  it("stops at maxBytes (tar bomb guard)", async () => {
    const root = await fresh("bomb");
    await assert.rejects(
      applyLayer(root, Readable.from([await tarOf([{ name: "big", body: "x".repeat(10_000) }])]), { maxBytes: 4096 }),
      (e: AtollError) => e.code === "INVALID_TEMPLATE" && /more than 4096 bytes/.test(e.message),
    );
  });
});

describe("image defaults", () => {
  it("ignores a bare shell Cmd and keeps a real one", () => {
    assert.equal(imageDefaults({ config: { Cmd: ["/bin/bash"] } }).startup, undefined);
    assert.equal(imageDefaults({ config: { Cmd: ["bash"] } }).startup, undefined);
    assert.equal(imageDefaults({ config: { Entrypoint: ["node"], Cmd: ["server.js"] } }).startup, "node server.js");
    assert.deepEqual(imageDefaults({}), { env: {}, workdir: undefined, ports: [], startup: undefined });
  });
});
