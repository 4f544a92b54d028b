// Seams between the control plane's modules, so each can be built and tested on its own.
import type { SandboxEndpoint } from "./drivers/types.js";

/**
 * What the preview router, the ports API and the agent forwarder need from the sandbox
 * manager (sandboxes/manager.ts implements it).
 */
export interface SandboxRuntime {
  /** True when the control plane knows this sandbox id (any status). */
  exists(id: string): boolean;
  /**
   * Returns where the sandbox's agent and servers listen, starting or waking it on demand.
   * Throws AtollError SANDBOX_NOT_FOUND (unknown id), SANDBOX_PAUSED (paused; see docs),
   * SANDBOX_UNAVAILABLE (could not be started).
   */
  endpoint(id: string): Promise<SandboxEndpoint>;
  /** Marks activity now: resets the idle (sleepAfter) timer. */
  touch(id: string): void;
  /** Keeps the sandbox awake while a stream or WebSocket is open; call the result to release. */
  hold(id: string): () => void;
}
