// Which sandbox a tool call acts on. By default every MCP session gets its own sandbox
// (id "mcp-<random>", created on first use, destroyed when the session closes); a fixed id makes
// every session share one sandbox that outlives them. A tool's `sandbox_id` argument overrides both.
import { randomBytes } from "node:crypto";
import { getSandbox, type AtollClient, type Sandbox, type SandboxOptions } from "@atoll/sdk";

export interface SandboxChoice {
  /** Use this sandbox for every session instead of one per session (never destroyed on close). */
  sandbox?: string;
  /** Keep per-session sandboxes when their session closes (default: destroy them). */
  keep?: boolean;
  /** Options for sandboxes the server creates (template, envVars, sleepAfter, limits). */
  create?: SandboxOptions;
}

export class SessionSandboxes {
  /** The id this session uses when a call names none. */
  current: string;
  private readonly owned = new Set<string>();

  constructor(
    readonly client: AtollClient,
    private readonly choice: SandboxChoice,
  ) {
    this.current = choice.sandbox ?? `mcp-${randomBytes(4).toString("hex")}`;
    if (!choice.sandbox) this.owned.add(this.current);
  }

  /** The SDK handle for `id` (or the current sandbox); the SDK creates it on first use. */
  get(id?: string, create?: SandboxOptions): Sandbox {
    return getSandbox(this.client, id ?? this.current, { ...this.choice.create, ...create });
  }

  /** Makes `id` the session's current sandbox; one the session created is cleaned up with it. */
  use(id: string, createdHere: boolean): void {
    this.current = id;
    if (createdHere) this.owned.add(id);
  }

  forget(id: string): void {
    this.owned.delete(id);
  }

  /** Destroys the sandboxes this session created (unless configured to keep them). */
  async close(): Promise<void> {
    if (this.choice.keep) return;
    const ids = [...this.owned];
    this.owned.clear();
    await Promise.allSettled(ids.map((id) => getSandbox(this.client, id).destroy()));
  }
}
