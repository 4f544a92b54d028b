// Templates end to end, through the real control plane (harness: `atoll serve`, crun, netns, agent):
// a docker-save image built here from a slim subset of the base rootfs (3 layers, a symlinked
// parent, a hard link and a whiteout) whose Cmd starts a Node HTTP server on 8080; and the base
// rootfs registered in place as a "rootfs" template with an explicit startup command.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { dockerSave, ociLayoutFiles, tarOf, writeLayoutDir } from "../../packages/server/test/templates-fixtures.js";
import { BASE_IMAGE, startAtoll, type Atoll } from "./harness.js";
import { IMAGE_CONFIG, buildSlimImage, slimLayers } from "./template-image.js";

let atoll: Atoll;
let dir: string;
let archive: string;
let layers: Buffer[];
const suffix = Math.random().toString(36).slice(2, 8);
const SB = `tpl-web-${suffix}`;
const SB2 = `tpl-dir-${suffix}`;

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "atoll-tpl-e2e-"));
  archive = path.join(dir, "slim.tar");
  const t0 = performance.now();
  layers = await slimLayers(BASE_IMAGE);
  const size = await buildSlimImage(BASE_IMAGE, archive, layers);
  console.log(`# slim image: ${(size / 1e6).toFixed(1)} MB built in ${(performance.now() - t0).toFixed(0)} ms`);
  atoll = await startAtoll();
});

after(async () => {
  await atoll?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** Runs a command in the sandbox through the agent's execute API. */
async function exec(id: string, command: string): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const r = await atoll.json("POST", `/v1/sandboxes/${id}/api/execute`, { command, timeout: 20_000 });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body;
}

/** GET through the preview router with a preview Host header (fetch() cannot set Host). */
function previewGet(host: string, pathname: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port: atoll.port, path: pathname, headers: { host } }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("templates (e2e)", () => {
  it("registers a docker-save archive with the image's env, workdir, ports and Cmd as defaults", async () => {
    const t0 = performance.now();
    const r = await atoll.json("POST", "/v1/templates", { name: "slim-web", source: { type: "oci-archive", path: archive } });
    console.log(`# import: ${(performance.now() - t0).toFixed(0)} ms`);
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal(r.body.name, "slim-web");
    assert.equal(r.body.env.GREETING, "from-image");
    assert.equal(r.body.workdir, "/app");
    assert.deepEqual(r.body.ports, [8080]);
    assert.equal(r.body.startup, "node /app/server.js");
    assert.equal(r.body.rootfs, undefined, "host paths of the unpacked rootfs stay on the server");
    const list = await atoll.json("GET", "/v1/templates");
    assert.deepEqual(list.body.templates.map((t: { name: string }) => t.name), ["base", "slim-web"]);
  });

  it("registers an OCI layout directory with gzip layers", async () => {
    const layout = path.join(dir, "layout");
    await writeLayoutDir(layout, ociLayoutFiles(layers, { gzip: true, config: IMAGE_CONFIG }));
    const r = await atoll.json("POST", "/v1/templates", { name: "slim-oci", source: { type: "oci-layout", path: layout }, startup: "" });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal(r.body.startup, undefined, "an empty startup disables the image's Cmd");
    assert.deepEqual(r.body.ports, [8080]);
    assert.equal((await atoll.json("DELETE", "/v1/templates/slim-oci")).status, 200);
  });

  it("answers bad requests with coded errors", async () => {
    const dup = await atoll.json("POST", "/v1/templates", { name: "slim-web", source: { type: "oci-archive", path: archive } });
    assert.equal(dup.status, 409);
    assert.equal(dup.body.code, "TEMPLATE_EXISTS");
    const badName = await atoll.json("POST", "/v1/templates", { name: "../x", source: { type: "oci-archive", path: archive } });
    assert.equal(badName.status, 400);
    assert.equal(badName.body.code, "INVALID_TEMPLATE");
    const missing = await atoll.json("PUT", `/v1/sandboxes/tpl-missing-${suffix}`, { template: "no-such-template" });
    assert.equal(missing.status, 404);
    assert.equal(missing.body.code, "TEMPLATE_NOT_FOUND");

    // an image whose layer tries to write outside the root
    const evil = path.join(dir, "evil.tar");
    await writeFile(evil, await dockerSave([await tarOf([{ name: "../../etc/evil", body: "x" }])]));
    const r = await atoll.json("POST", "/v1/templates", { name: "evil", source: { type: "oci-archive", path: evil } });
    assert.equal(r.status, 400);
    assert.equal(r.body.code, "INVALID_TEMPLATE");
    assert.match(r.body.message, /escapes the image root/);
    assert.equal(existsSync(path.join(atoll.dataDir, "etc/evil")), false);
  });

  it("creates a sandbox from it whose startup server answers once PUT returns", async () => {
    const t0 = performance.now();
    const put = await atoll.json("PUT", `/v1/sandboxes/${SB}`, { template: "slim-web", envVars: { EXTRA: "from-sandbox" } });
    console.log(`# create from template (agent up + port 8080 listening): ${(performance.now() - t0).toFixed(0)} ms`);
    assert.ok(put.status === 200 || put.status === 201, JSON.stringify(put.body));
    assert.equal(put.body.template, "slim-web");

    // No retry: the manager waited for the template's first port before answering.
    const get = await exec(SB, `node -e "fetch('http://127.0.0.1:8080/hi').then(r => r.text()).then(t => console.log(t))"`);
    assert.equal(get.exitCode, 0, get.stderr);
    const body = JSON.parse(get.stdout);
    assert.deepEqual(body, { hello: "from-template", greeting: "from-image", cwd: "/app", path: "/hi" });

    const env = await exec(SB, `echo "$GREETING $EXTRA"; command -v cat || echo no-cat; test -L /lib && echo lib-is-a-link`);
    assert.equal(env.stdout, "from-image from-sandbox\nno-cat\nlib-is-a-link\n", "image env + sandbox env; whiteout removed cat; symlink kept");
  });

  it("serves the startup server through its preview URL", async () => {
    const exp = await atoll.json("POST", `/v1/sandboxes/${SB}/ports`, { port: 8080 });
    assert.equal(exp.status, 200, JSON.stringify(exp.body));
    const host = new URL(exp.body.url).host;
    const res = await previewGet(host, "/via-preview");
    assert.equal(res.status, 200, res.body);
    assert.equal(JSON.parse(res.body).path, "/via-preview");
  });

  it("refuses to delete a template in use (409), deletes it once its sandboxes are gone", async () => {
    const busy = await atoll.json("DELETE", "/v1/templates/slim-web");
    assert.equal(busy.status, 409);
    assert.equal(busy.body.code, "RESOURCE_BUSY");
    assert.deepEqual(busy.body.context.sandboxes, [SB]);
    assert.equal((await atoll.json("DELETE", `/v1/sandboxes/${SB}`)).status, 200);
    const del = await atoll.json("DELETE", "/v1/templates/slim-web");
    assert.equal(del.status, 200, JSON.stringify(del.body));
    const list = await atoll.json("GET", "/v1/templates");
    assert.deepEqual(list.body.templates.map((t: { name: string }) => t.name), ["base"]);
    const left = await import("node:fs/promises").then((f) => f.readdir(path.join(atoll.dataDir, "templates")));
    assert.deepEqual(left, [], "the unpacked rootfs (and the driver's uid-shifted copy next to it) is removed");
  });

  it("uses a rootfs directory in place with an explicit startup command, env and workdir", async () => {
    // Listens only after 1.5 s: PUT must still return with the server answering (port wait).
    const startup = "sleep 1.5; mkdir -p /srv/site && echo started-in-$(pwd) > /srv/site/index.html && cd /srv/site && exec python3 -m http.server 8081 --bind 0.0.0.0";
    const reg = await atoll.json("POST", "/v1/templates", { name: "base-dir", source: { type: "rootfs", path: BASE_IMAGE }, env: { MODE: "dir" }, workdir: "/srv", ports: [8081], startup });
    assert.equal(reg.status, 201, JSON.stringify(reg.body));
    const t0 = performance.now();
    const put = await atoll.json("PUT", `/v1/sandboxes/${SB2}`, { template: "base-dir" });
    assert.ok(put.status === 200 || put.status === 201, JSON.stringify(put.body));
    assert.ok(performance.now() - t0 >= 1500, "create waited for the template's port");
    const r = await exec(SB2, "curl -sf http://127.0.0.1:8081/index.html && echo $MODE");
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(r.stdout, "started-in-/srv\ndir\n");
    // Sleep stops every process; the next call wakes it, the startup runs again (1.5 s), and the
    // wake waits for the port as well, so the first request after waking is served.
    assert.equal((await atoll.json("POST", `/v1/sandboxes/${SB2}/sleep`)).status, 200);
    const woke = await exec(SB2, "curl -sf http://127.0.0.1:8081/index.html");
    assert.equal(woke.exitCode, 0, woke.stderr);
    assert.equal(woke.stdout, "started-in-/srv\n");
    assert.equal((await atoll.json("DELETE", `/v1/sandboxes/${SB2}`)).status, 200);
    assert.equal((await atoll.json("DELETE", "/v1/templates/base-dir")).status, 200);
    assert.ok(existsSync(path.join(BASE_IMAGE, "usr/bin/node")), "a rootfs source is never deleted");
  });
});
