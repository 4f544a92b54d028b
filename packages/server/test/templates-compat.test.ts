// Compatibility with a real producer: skopeo (apt `skopeo`, optional — skipped when missing)
// converts a docker-save archive built here into an OCI layout (plain and gzip), an OCI archive
// and its own docker-archive (layer.tar symlinks); every form must unpack to the same tree.
import assert from "node:assert/strict";
import { execFileSync, execSync } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { importImage } from "../src/templates/oci.js";
import { dockerSave, tarOf } from "./templates-fixtures.js";

const skopeo = (() => {
  try {
    execFileSync("skopeo", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

let tmp: string;
before(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), "atoll-tpl-compat-"));
});
after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** Every entry with type, mode, owner, size and link target: equal listings = equal trees. */
const listing = (root: string) => execSync(`cd ${root} && find . -printf '%p %y %m %U:%G %s %l\\n' | sort`, { encoding: "utf8" });

describe("image formats from skopeo", { skip: !skopeo && "skopeo is not installed (apt install skopeo)" }, () => {
  it("unpacks oci, gzip oci, oci-archive and skopeo's docker-archive to the same tree", async () => {
    const l1 = await tarOf([
      { name: "bin/sh", body: "#!", mode: 0o755 },
      { name: "lib", type: "symlink", linkname: "usr/lib" },
      { name: "usr/lib/a.so", body: "a" },
      { name: "etc/gone", body: "x" },
      { name: "opt/d/old", body: "o" },
      { name: "etc/shadow", body: "s", mode: 0o640, gid: 42 },
    ]);
    const l2 = await tarOf([
      { name: "etc/.wh.gone" },
      { name: "opt/d/", type: "directory" },
      { name: "opt/d/.wh..wh..opq" },
      { name: "opt/d/new", body: "n" },
      { name: "lib/b.so", body: "b" },
      { name: "usr/bin/su", body: "su", mode: 0o4755 },
    ]);
    const src = path.join(tmp, "src.tar");
    await writeFile(src, await dockerSave([l1, l2]));
    const sk = (from: string, to: string, ...flags: string[]) => execFileSync("skopeo", ["--insecure-policy", "copy", "-q", ...flags, from, to], { cwd: tmp, stdio: "pipe" });
    sk("docker-archive:src.tar", "oci:oci:latest");
    sk("docker-archive:src.tar", "oci:ocigz:latest", "--dest-compress", "--dest-compress-format", "gzip");
    sk("docker-archive:src.tar", "oci-archive:ociarch.tar:latest");
    sk("oci:ocigz:latest", "docker-archive:dsave.tar:x:latest");
    const forms: [string, "docker-save" | "oci-layout"][] = [["src.tar", "docker-save"], ["oci", "oci-layout"], ["ocigz", "oci-layout"], ["ociarch.tar", "oci-layout"], ["dsave.tar", "docker-save"]];
    const trees: string[] = [];
    for (const [f, prefer] of forms) {
      const root = path.join(tmp, `root-${f}`);
      await mkdir(root);
      const r = await importImage(path.join(tmp, f), root, { prefer });
      assert.equal(r.layers, 2, f);
      trees.push(listing(root));
    }
    assert.match(trees[0]!, /\.\/opt\/d\/new f/);
    assert.doesNotMatch(trees[0]!, /opt\/d\/old|etc\/gone/);
    assert.match(trees[0]!, /\.\/usr\/bin\/su f 4755/);
    assert.match(trees[0]!, /\.\/usr\/lib\/b\.so f/);
    for (let i = 1; i < trees.length; i++) assert.equal(trees[i], trees[0], `${forms[i]![0]} differs from the docker-save original`);
  });
});
