// The cgroup freezer, read directly: on hybrid cgroup v1 hosts `crun pause` can return while the
// cgroup is still FREEZING and `crun state` may report "running" for a frozen cgroup, so pause/
// resume wait for the kernel's own answer and the driver reports "paused" from it.
import { existsSync, readFileSync } from "node:fs";
import { AtollError, ErrorCode } from "@atoll/protocol";
import type { OciRuntime } from "./runtime.js";

const V1 = existsSync("/sys/fs/cgroup/freezer");

export type FreezerState = "frozen" | "freezing" | "thawed";

export function freezerState(cgroupsPath: string): FreezerState | undefined {
  try {
    if (V1) {
      const s = readFileSync(`/sys/fs/cgroup/freezer${cgroupsPath}/freezer.state`, "utf8").trim();
      return s === "FROZEN" ? "frozen" : s === "FREEZING" ? "freezing" : "thawed";
    }
    const ev = readFileSync(`/sys/fs/cgroup${cgroupsPath}/cgroup.events`, "utf8");
    if (/^frozen 1$/m.test(ev)) return "frozen";
    const want = readFileSync(`/sys/fs/cgroup${cgroupsPath}/cgroup.freeze`, "utf8").trim();
    return want === "1" ? "freezing" : "thawed";
  } catch {
    return undefined;
  }
}

/** Polls until the freezer reaches `want` (every 2 ms, bounded). Returns whether it did. */
export async function waitFreezer(cgroupsPath: string, want: FreezerState, timeoutMs = 5000): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const s = freezerState(cgroupsPath);
    if (s === want || s === undefined) return s === want;
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Freezes and waits until the kernel reports every task frozen (retrying the request). */
export async function freeze(runtime: OciRuntime, container: string, cgroupsPath: string): Promise<void> {
  for (let i = 0; i < 3; i++) {
    await runtime.pause(container);
    if (await waitFreezer(cgroupsPath, "frozen", 2000)) return;
  }
  await runtime.resume(container).catch(() => {});
  throw new AtollError(ErrorCode.SANDBOX_BUSY, `Cannot pause sandbox ${container}: its processes did not freeze in time`, { container });
}

export async function thaw(runtime: OciRuntime, container: string, cgroupsPath: string): Promise<void> {
  await runtime.resume(container);
  await waitFreezer(cgroupsPath, "thawed", 5000);
}
