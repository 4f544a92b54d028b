// Template registry: validation, create from archive/rootfs, list/resolve, conflicts, deletion
// guarded by sandboxes in use. Real SQLite (in memory) and real files under a temp data dir.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { openDatabase, type Db } from "../src/store/db.js";
import { AtollError } from "@atoll/protocol";
import { TemplateRegistry } from "../src/templates/registry.js";
import { dockerSave, tarOf } from "./templates-fixtures.js";

let tmp: string;
let archive: string;
let rootfsDir: string;
const inUse = new Map<string, string[]>();
let reg: TemplateRegistry;
let db: Db;

before(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), "atoll-tpl-reg-"));
  archive = path.join(tmp, "img.tar");
  const layer = await tarOf([
    { name: "bin/sh", body: "#!", mode: 0o755 },
    { name: "bin/bash", body: "#!", mode: 0o755 },
    { name: "usr/bin/tini", body: "#!", mode: 0o755 },
    { name: "usr/local/bin/node", body: "#!", mode: 0o755 },
    { name: "app/server.js", body: "//" },
  ]);
  await writeFile(archive, await dockerSave([layer]));
  rootfsDir = path.join(tmp, "rootfs");
  await mkdir(path.join(rootfsDir, "usr/bin"), { recursive: true });
  for (const f of ["sh", "bash", "tini", "node"]) await writeFile(path.join(rootfsDir, "usr/bin", f), "#!");
  const { symlink } = await import("node:fs/promises");
  await symlink("usr/bin", path.join(rootfsDir, "bin")); // merged-/usr layout
  db = openDatabase(":memory:");
  reg = new TemplateRegistry({ db, dataDir: path.join(tmp, "data"), sandboxesUsing: (n) => inUse.get(n) ?? [] });
});
after(async () => {
  db.close();
  await rm(tmp, { recursive: true, force: true });
});

const code = (c: string, re?: RegExp) => (e: AtollError) => e instanceof AtollError && e.code === c && (!re || re.test(e.message));

describe("template registry", () => {
  it("validates requests with INVALID_TEMPLATE", async () => {
    await assert.rejects(reg.create({ name: "Bad_Name", source: { type: "rootfs", path: rootfsDir } }), code("INVALID_TEMPLATE", /name/));
    await assert.rejects(reg.create({ name: "base", source: { type: "rootfs", path: rootfsDir } }), code("INVALID_TEMPLATE", /built-in/));
    await assert.rejects(reg.create({ name: "t", source: { type: "zip", path: rootfsDir } }), code("INVALID_TEMPLATE", /source.type/));
    await assert.rejects(reg.create({ name: "t", source: { type: "rootfs", path: "relative/dir" } }), code("INVALID_TEMPLATE", /absolute/));
    await assert.rejects(reg.create({ name: "t", source: { type: "rootfs", path: "/" } }), code("INVALID_TEMPLATE", /host root/));
    await assert.rejects(reg.create({ name: "t", source: { type: "rootfs", path: path.join(tmp, "nope") } }), code("INVALID_TEMPLATE", /does not exist/));
    await assert.rejects(reg.create({ name: "t", source: { type: "oci-archive", path: rootfsDir } }), code("INVALID_TEMPLATE", /not a file/));
    await assert.rejects(reg.create({ name: "t", source: { type: "rootfs", path: rootfsDir }, ports: [3000] }), code("INVALID_TEMPLATE", /reserved/));
    await assert.rejects(reg.create({ name: "t", source: { type: "rootfs", path: rootfsDir }, env: { "A-B": "x" } }), code("INVALID_TEMPLATE", /variable name/));
    await assert.rejects(reg.create({ name: "t", source: { type: "rootfs", path: rootfsDir }, workdir: "app" }), code("INVALID_TEMPLATE", /workdir/));
    await assert.rejects(reg.create({ name: "t", source: { type: "rootfs", path: tmp } }), code("INVALID_TEMPLATE", /lacks \/bin\/sh, \/usr\/bin\/tini, node \(>= 18\), bash/));
    assert.deepEqual(reg.list().map((t) => t.name), ["base"]);
  });

  it("registers an OCI archive: image config defaults, request overrides", async () => {
    const info = await reg.create({ name: "web", source: { type: "oci-archive", path: archive }, env: { GREETING: "hi", EXTRA: "1" }, startup: "node /app/server.js &" });
    assert.equal(info.name, "web");
    assert.deepEqual(info.env, { PATH: "/usr/local/bin:/usr/bin:/bin", GREETING: "hi", EXTRA: "1" });
    assert.equal(info.workdir, "/app");
    assert.deepEqual(info.ports, [8080]);
    assert.equal(info.startup, "node /app/server.js &");
    const r = reg.resolve("web");
    assert.match(r.rootfs, /data\/templates\/web\.[0-9a-f]{8}\/rootfs$/);
    assert.ok(existsSync(path.join(r.rootfs, "app/server.js")));
    assert.deepEqual(r.ports, [8080]);
    assert.equal(r.startup, "node /app/server.js &");
    assert.deepEqual(reg.get("web"), info);
    await assert.rejects(reg.create({ name: "web", source: { type: "rootfs", path: rootfsDir } }), code("TEMPLATE_EXISTS"));
  });

  it("registers a rootfs directory in place; empty startup disables the image's", async () => {
    const info = await reg.create({ name: "dir", source: { type: "rootfs", path: rootfsDir }, ports: [8080, 9000], startup: "" });
    assert.equal(info.startup, undefined);
    assert.equal(reg.resolve("dir").rootfs, rootfsDir);
    assert.deepEqual(reg.list().map((t) => t.name), ["base", "dir", "web"]);
  });

  it("refuses concurrent registration of the same name", async () => {
    const a = reg.create({ name: "twice", source: { type: "oci-archive", path: archive } });
    const b = reg.create({ name: "twice", source: { type: "oci-archive", path: archive } });
    const [ra, rb] = await Promise.allSettled([a, b]);
    assert.equal(ra.status, "fulfilled");
    assert.equal(rb.status, "rejected");
    assert.equal((rb as PromiseRejectedResult).reason.code, "TEMPLATE_EXISTS");
    await reg.remove("twice");
  });

  it("resolves base and refuses unknown names", () => {
    assert.equal(reg.resolve("base").rootfs, path.join(tmp, "data/images/base/current/rootfs"));
    assert.equal(reg.resolve().name, "base");
    assert.throws(() => reg.resolve("missing"), code("TEMPLATE_NOT_FOUND"));
    assert.throws(() => reg.get("missing"), code("TEMPLATE_NOT_FOUND"));
  });

  it("refuses to delete a template in use (409), then deletes it and its files", async () => {
    const dir = path.dirname(reg.resolve("web").rootfs);
    inUse.set("web", ["sb-1"]);
    await assert.rejects(reg.remove("web"), (e: AtollError) => e.code === "RESOURCE_BUSY" && e.httpStatus === 409 && /sb-1/.test(e.message));
    inUse.delete("web");
    await reg.remove("web");
    assert.equal(existsSync(dir), false);
    await assert.rejects(reg.remove("web"), code("TEMPLATE_NOT_FOUND"));
    await assert.rejects(reg.remove("base"), code("INVALID_TEMPLATE", /built in/));
    await reg.remove("dir");
    assert.ok(existsSync(path.join(rootfsDir, "usr/bin/sh")), "an in-place rootfs is never deleted");
    assert.deepEqual(await readdir(path.join(tmp, "data/templates")), [], "no staging leftovers");
  });

  it("sweeps leftovers of interrupted imports but keeps registered images", async () => {
    await reg.create({ name: "kept", source: { type: "oci-archive", path: archive } });
    const keptDir = path.dirname(reg.resolve("kept").rootfs);
    await mkdir(path.join(tmp, "data/templates/crashed.0badf00d.partial/rootfs"), { recursive: true });
    await mkdir(path.join(tmp, "data/templates/orphan.12345678/rootfs"), { recursive: true });
    assert.deepEqual((await reg.sweep()).sort(), ["crashed.0badf00d.partial", "orphan.12345678"]);
    assert.ok(existsSync(path.join(keptDir, "rootfs/app/server.js")));
    await reg.remove("kept");
  });

  it("limits sources to ATOLL_TEMPLATE_SOURCE_DIRS when set", async () => {
    const limited = new TemplateRegistry({ db, dataDir: path.join(tmp, "data"), sourceDirs: [path.join(tmp, "elsewhere")] });
    await assert.rejects(limited.create({ name: "outside", source: { type: "rootfs", path: rootfsDir } }), code("INVALID_TEMPLATE", /allowed source directories/));
  });

  it("cleans up after a failed import", async () => {
    const broken = path.join(tmp, "broken.tar");
    await writeFile(broken, await dockerSave([await tarOf([{ name: "../x", body: "" }])]));
    await assert.rejects(reg.create({ name: "broken", source: { type: "oci-archive", path: broken } }), code("INVALID_TEMPLATE", /escapes/));
    assert.deepEqual(await readdir(path.join(tmp, "data/templates")), []);
    const noShell = path.join(tmp, "noshell.tar");
    await writeFile(noShell, await dockerSave([await tarOf([{ name: "app/x", body: "" }])]));
    await assert.rejects(reg.create({ name: "noshell", source: { type: "oci-archive", path: noShell } }), code("INVALID_TEMPLATE", /lacks \/bin\/sh/));
    assert.deepEqual(await readdir(path.join(tmp, "data/templates")), []);
    assert.throws(() => reg.resolve("noshell"), code("TEMPLATE_NOT_FOUND"));
  });

  it("falls back to the sandboxes table to find users", async () => {
    const db2 = openDatabase(":memory:");
    const reg2 = new TemplateRegistry({ db: db2, dataDir: path.join(tmp, "data2") });
    await reg2.create({ name: "d", source: { type: "rootfs", path: rootfsDir } });
    const now = new Date().toISOString();
    db2.prepare("INSERT INTO sandboxes (id, status, driver, template, limits, sleep_after_ms, created_at, last_active_at) VALUES ('x1', 'running', 'oci', 'd', '{}', 0, ?, ?)").run(now, now);
    await assert.rejects(reg2.remove("d"), code("RESOURCE_BUSY"));
    db2.prepare("DELETE FROM sandboxes").run();
    await reg2.remove("d");
    db2.close();
  });
});
