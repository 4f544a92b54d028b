// Sandbox lifecycle on the control plane: destroy, keep-alive, sleep timer, pause/resume, snapshots.
import type { SandboxInfo, SnapshotInfo } from "@atoll/protocol";
import type { SandboxCore } from "./core.js";

export async function destroy(core: SandboxCore): Promise<void> {
  // No ensure(): destroying a sandbox that was never created is a no-op, not a create+delete.
  try {
    await core.client.json(core.base, { method: "DELETE", what: `destroy sandbox ${core.id}` });
  } catch (e) {
    if ((e as { code?: string }).code !== "SANDBOX_NOT_FOUND") throw e;
  } finally {
    core.reset();
  }
}

export function update(core: SandboxCore, patch: { keepAlive?: boolean; sleepAfter?: string | number }): Promise<SandboxInfo> {
  return core.v1Json("", { method: "PATCH", body: patch, what: `update sandbox ${core.id}` });
}

export function pause(core: SandboxCore): Promise<SandboxInfo> {
  return core.v1Json("/pause", { method: "POST", what: `pause sandbox ${core.id}` });
}

export function resume(core: SandboxCore): Promise<SandboxInfo> {
  return core.v1Json("/resume", { method: "POST", what: `resume sandbox ${core.id}` });
}

export function snapshot(core: SandboxCore, name?: string): Promise<SnapshotInfo> {
  return core.v1Json("/snapshots", { method: "POST", body: name ? { name } : {}, what: `snapshot sandbox ${core.id}` });
}

export function info(core: SandboxCore): Promise<SandboxInfo> {
  return core.v1Json("", { what: `get sandbox ${core.id}` });
}
