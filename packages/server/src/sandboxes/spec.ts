// Builds the driver's SandboxSpec from a sandbox row: template rootfs, env, workdir, startup, fork source.
import type { SandboxSpec } from "../drivers/types.js";
import type { SandboxRow } from "../store/index.js";
import type { TemplateRegistry } from "../templates/registry.js";

export const BASE_TEMPLATE = "base";

export function buildSpec(row: SandboxRow, templates: TemplateRegistry, fromSnapshotDir?: string): SandboxSpec {
  const t = templates.resolve(row.template);
  return {
    id: row.id,
    template: row.template,
    rootfs: t.rootfs,
    limits: row.limits,
    // sandbox envVars win over the template's env
    env: { ...t.env, ...row.env },
    ...(t.workdir ? { workdir: t.workdir } : {}),
    ...(t.startup ? { startup: t.startup } : {}),
    ...(fromSnapshotDir ? { fromSnapshotDir } : {}),
  };
}
