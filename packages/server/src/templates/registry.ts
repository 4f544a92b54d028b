// Template registry: rows in the control plane's SQLite db, root filesystems under
// <dataDir>/templates/. Registers templates from OCI archives/layouts (unpacked here) or rootfs
// directories (used in place), and resolves a template name into what a driver needs.
import { randomBytes } from "node:crypto";
import { statSync } from "node:fs";
import { chmod, lstat, mkdir, readdir, realpath, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import type Database from "better-sqlite3";
import { AtollError, ErrorCode, type TemplateInfo, type TemplateRequest } from "@atoll/protocol";
import { importImage } from "./oci.js";
import { resolveDir } from "./paths.js";
import { BASE_TEMPLATE, assertTemplateName, validateTemplateRequest } from "./validate.js";

/** What the sandbox manager puts into the driver's SandboxSpec. */
export interface ResolvedTemplate {
  name: string;
  rootfs: string;
  env: Record<string, string>;
  workdir?: string;
  startup?: string;
  /** Ports the template's servers listen on (first one: readiness wait, see docs/templates.md). */
  ports: number[];
}

export interface TemplateRegistryOptions {
  db: Database.Database;
  /** ATOLL_DATA_DIR; imported rootfs go to <dataDir>/templates/. */
  dataDir: string;
  /** Rootfs of the built-in "base" template (default <dataDir>/images/base/current/rootfs). */
  baseRootfs?: string;
  /** Ids of sandboxes created from a template; deleting it is refused while any exist. */
  sandboxesUsing?: (name: string) => string[];
  /** Source paths must lie under one of these directories (default: ATOLL_TEMPLATE_SOURCE_DIRS, colon-separated; unset = anywhere). */
  sourceDirs?: string[];
  /** Upper bound of unpacked file bytes per imported image (default 32 GiB). */
  maxBytes?: number;
  /** Called after a template is deleted (e.g. the driver drops its uid-shifted copy). */
  onDelete?: (t: ResolvedTemplate) => void | Promise<void>;
}

interface Row {
  name: string;
  source_type: TemplateInfo["source"]["type"];
  source_path: string;
  rootfs: string;
  owned: number;
  env: string;
  workdir: string | null;
  ports: string;
  startup: string | null;
  created_at: string;
}

export class TemplateRegistry {
  private readonly db: Database.Database;
  private readonly dir: string;
  private readonly baseRootfs: string;
  private readonly importing = new Set<string>();
  private swept: Promise<unknown> | null = null;

  constructor(private readonly opts: TemplateRegistryOptions) {
    this.db = opts.db;
    this.dir = path.join(opts.dataDir, "templates");
    this.baseRootfs = opts.baseRootfs ?? path.join(opts.dataDir, "images/base/current/rootfs");
  }

  /**
   * Removes what an interrupted import left in <dataDir>/templates (staging dirs, unpacked images
   * without a row). Runs once before the first create; callable at start too.
   */
  async sweep(): Promise<string[]> {
    const entries = await readdir(this.dir).catch(() => [] as string[]);
    const used = new Set((this.db.prepare(`SELECT rootfs FROM templates`).all() as { rootfs: string }[]).map((r) => path.dirname(r.rootfs)));
    const removed: string[] = [];
    for (const e of entries) {
      const p = path.join(this.dir, e);
      if (used.has(p) || this.importing.has(e.split(".")[0]!)) continue;
      await rm(p, { recursive: true, force: true });
      removed.push(e);
    }
    return removed;
  }

  /** Validates, unpacks (OCI) or checks (rootfs) the source, then stores the row. */
  async create(body: unknown): Promise<TemplateInfo> {
    const req = validateTemplateRequest(body);
    // leftovers of an interrupted import (server killed mid-way) go before the first new one
    await (this.swept ??= this.sweep().catch(() => []));
    if (this.row(req.name) || this.importing.has(req.name)) {
      throw new AtollError(ErrorCode.TEMPLATE_EXISTS, `Cannot register template ${req.name}: it already exists (delete it first)`, { name: req.name });
    }
    this.importing.add(req.name);
    let staging: string | null = null;
    try {
      const src = await this.checkSource(req.source.path, req.source.type);
      let rootfs: string;
      let owned = 0;
      let defaults: { env: Record<string, string>; workdir?: string; ports: number[]; startup?: string } = { env: {}, ports: [] };
      if (req.source.type === "rootfs") {
        rootfs = src;
      } else {
        await mkdir(this.dir, { recursive: true, mode: 0o700 });
        await chmod(this.dir, 0o700); // templates/ holds rootfs copies: root only
        // unique directory per import, so path-keyed caches (the driver's uid shift) never go stale
        const final = path.join(this.dir, `${req.name}.${randomBytes(4).toString("hex")}`);
        staging = `${final}.partial`;
        await mkdir(path.join(staging, "rootfs"), { recursive: true, mode: 0o755 });
        const res = await importImage(src, path.join(staging, "rootfs"), {
          prefer: req.source.type === "oci-layout" ? "oci-layout" : "docker-save",
          maxBytes: this.opts.maxBytes ?? 32 * 1024 ** 3,
        });
        await rename(staging, final);
        staging = final; // removed again below if the row cannot be stored
        rootfs = path.join(final, "rootfs");
        owned = 1;
        defaults = res;
      }
      await assertRunnable(rootfs);
      const workdir = req.workdir ?? defaults.workdir;
      // "" disables the image's own Entrypoint/Cmd
      const startup = req.startup !== undefined ? req.startup || undefined : defaults.startup;
      const info: TemplateInfo = {
        name: req.name,
        source: { type: req.source.type, path: src },
        env: { ...defaults.env, ...req.env },
        ...(workdir ? { workdir } : {}),
        ports: req.ports ?? defaults.ports,
        ...(startup ? { startup } : {}),
        createdAt: new Date().toISOString(),
      };
      this.db
        .prepare(`INSERT INTO templates (name, source_type, source_path, rootfs, owned, env, workdir, ports, startup, created_at) VALUES (?,?,?,?,?,?,?,?,?,?)`)
        .run(info.name, info.source.type, info.source.path, rootfs, owned, JSON.stringify(info.env), info.workdir ?? null, JSON.stringify(info.ports), info.startup ?? null, info.createdAt);
      staging = null;
      return info;
    } finally {
      this.importing.delete(req.name);
      if (staging) await rm(staging, { recursive: true, force: true }).catch(() => {});
    }
  }

  /** Every template, the built-in base first. */
  list(): TemplateInfo[] {
    const rows = this.db.prepare(`SELECT * FROM templates ORDER BY name`).all() as Row[];
    return [this.baseInfo(), ...rows.map(toInfo)];
  }

  get(name: string): TemplateInfo {
    if (name === BASE_TEMPLATE) return this.baseInfo();
    const r = this.row(name);
    if (!r) throw notFound(name);
    return toInfo(r);
  }

  /** Template name → rootfs/env/workdir/startup/ports for the driver spec. */
  resolve(name: string = BASE_TEMPLATE): ResolvedTemplate {
    if (name === BASE_TEMPLATE) return { name, rootfs: this.baseRootfs, env: {}, ports: [] };
    assertTemplateName(name);
    const r = this.row(name);
    if (!r) throw notFound(name);
    const i = toInfo(r);
    return { name, rootfs: r.rootfs, env: i.env ?? {}, workdir: i.workdir, startup: i.startup, ports: i.ports ?? [] };
  }

  /** Deletes the row and, for imported images, the unpacked rootfs. 409 while sandboxes use it. */
  async remove(name: string): Promise<void> {
    assertTemplateName(name);
    if (name === BASE_TEMPLATE) throw new AtollError(ErrorCode.INVALID_TEMPLATE, `Cannot delete template ${name}: it is built in`, { name });
    const r = this.row(name);
    if (!r) throw notFound(name);
    const users = this.sandboxesUsing(name);
    if (users.length > 0) {
      throw new AtollError(ErrorCode.RESOURCE_BUSY, `Cannot delete template ${name}: ${users.length} sandbox(es) use it (${users.slice(0, 5).join(", ")}); destroy them first`, { name, sandboxes: users.slice(0, 50) });
    }
    const resolved = this.resolve(name);
    this.db.prepare(`DELETE FROM templates WHERE name = ?`).run(name);
    if (r.owned) await rm(path.dirname(r.rootfs), { recursive: true, force: true });
    await this.opts.onDelete?.(resolved);
  }

  private row(name: string): Row | undefined {
    return this.db.prepare(`SELECT * FROM templates WHERE name = ?`).get(name) as Row | undefined;
  }

  private sandboxesUsing(name: string): string[] {
    if (this.opts.sandboxesUsing) return this.opts.sandboxesUsing(name);
    // Fallback: the control plane's sandboxes table (same database, see store/schema.ts).
    return (this.db.prepare(`SELECT id FROM sandboxes WHERE template = ?`).all(name) as { id: string }[]).map((x) => x.id);
  }

  private baseInfo(): TemplateInfo {
    // the base image's build time (its rootfs directory's mtime)
    const built = statSync(this.baseRootfs, { throwIfNoEntry: false })?.mtime ?? new Date(0);
    return { name: BASE_TEMPLATE, source: { type: "rootfs", path: this.baseRootfs }, env: {}, ports: [], createdAt: built.toISOString() };
  }

  /** Source must exist, have the right kind, and not be the host root or Atoll's own state. */
  private async checkSource(p: string, type: TemplateInfo["source"]["type"]): Promise<string> {
    const real = await realpath(p).catch(() => null);
    if (!real) throw invalid(`source ${p} does not exist`, { path: p });
    const st = await stat(real);
    if (type === "rootfs" && !st.isDirectory()) throw invalid(`source ${p} is not a directory (type rootfs)`, { path: p });
    if (type === "oci-archive" && !st.isFile()) throw invalid(`source ${p} is not a file (type oci-archive: a docker save or OCI layout tar)`, { path: p });
    const dataDir = await realpath(this.opts.dataDir).catch(() => path.resolve(this.opts.dataDir));
    const inside = (dir: string) => real === dir || real.startsWith(dir.endsWith("/") ? dir : `${dir}/`);
    if (real === "/" || real === dataDir || inside(path.join(dataDir, "sandboxes")) || inside(path.join(dataDir, "snapshots"))) {
      throw invalid(`source ${p} is the host root or Atoll's own state`, { path: p });
    }
    const allowed = this.opts.sourceDirs ?? [];
    if (allowed && allowed.length > 0 && !allowed.some((d) => inside(path.resolve(d)))) {
      throw invalid(`source ${p} is outside the allowed source directories (ATOLL_TEMPLATE_SOURCE_DIRS)`, { path: p });
    }
    return real;
  }
}

/**
 * What every sandbox runs from the template's own filesystem (drivers/oci/spec.ts and
 * packages/agent/runtime/entry.sh): tini as init, /bin/sh for entry.sh, node (≥ 18) for the
 * agent, bash for exec and sessions. Checked at registration so a bad image fails once, clearly,
 * instead of at every sandbox start.
 */
export const RUNTIME_NEEDS: { what: string; anyOf: string[] }[] = [
  { what: "/bin/sh", anyOf: ["bin/sh"] },
  { what: "/usr/bin/tini", anyOf: ["usr/bin/tini"] },
  { what: "node (>= 18)", anyOf: ["usr/local/bin/node", "usr/bin/node", "bin/node"] },
  { what: "bash", anyOf: ["usr/local/bin/bash", "usr/bin/bash", "bin/bash"] },
];

async function existsInRoot(rootfs: string, rel: string): Promise<boolean> {
  const comps = rel.split("/");
  const dir = await resolveDir(rootfs, comps.slice(0, -1), false).catch(() => null);
  return !!dir && !!(await lstat(path.join(dir, comps[comps.length - 1]!)).catch(() => null));
}

async function assertRunnable(rootfs: string): Promise<void> {
  const missing: string[] = [];
  for (const need of RUNTIME_NEEDS) {
    let found = false;
    for (const rel of need.anyOf) if (!found && (await existsInRoot(rootfs, rel))) found = true;
    if (!found) missing.push(need.what);
  }
  if (missing.length > 0) {
    const top = await readdir(rootfs).catch(() => [] as string[]);
    throw invalid(`the image lacks ${missing.join(", ")} (every sandbox starts tini → /bin/sh entry script → the Node agent, and runs commands with bash; see docs/templates.md); its top-level entries: ${top.slice(0, 12).join(", ") || "none"}`, { rootfs, missing });
  }
}

function toInfo(r: Row): TemplateInfo {
  return {
    name: r.name,
    source: { type: r.source_type, path: r.source_path },
    env: JSON.parse(r.env) as Record<string, string>,
    ...(r.workdir ? { workdir: r.workdir } : {}),
    ports: JSON.parse(r.ports) as number[],
    ...(r.startup ? { startup: r.startup } : {}),
    createdAt: r.created_at,
  };
}

function invalid(why: string, context: Record<string, unknown> = {}): AtollError {
  return new AtollError(ErrorCode.INVALID_TEMPLATE, `Cannot register template: ${why}`, context);
}

function notFound(name: string): AtollError {
  return new AtollError(ErrorCode.TEMPLATE_NOT_FOUND, `Cannot find template ${name}: no such template (see GET /v1/templates)`, { name });
}
