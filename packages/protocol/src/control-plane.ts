// REST contract of the control plane (/v1). Shared by server, SDK and CLI.
//
//   GET    /v1/health                                  (no auth) → { ok, version }
//   GET    /v1/sandboxes                               → { sandboxes: SandboxInfo[] }
//   PUT    /v1/sandboxes/:id           CreateSandboxRequest → SandboxInfo   (get-or-create; wakes it)
//   GET    /v1/sandboxes/:id                            → SandboxInfo
//   PATCH  /v1/sandboxes/:id           UpdateSandboxRequest → SandboxInfo
//   DELETE /v1/sandboxes/:id                            → { success, id }
//   POST   /v1/sandboxes/:id/{pause|resume|sleep}        → SandboxInfo
//   ANY    /v1/sandboxes/:id/api/*                       → forwarded to the agent's /api/* (streams both ways)
//   POST   /v1/sandboxes/:id/ports     ExposePortRequest → ExposePortResult
//   GET    /v1/sandboxes/:id/ports?hostname=h           → { ports: ExposedPortInfo[] }
//   DELETE /v1/sandboxes/:id/ports/:port                 → { success, port }
//   ANY    /v1/sandboxes/:id/proxy/:port/*               → HTTP or WebSocket to that sandbox port
//                                                          (API key; optional X-Atoll-Preview-Token is checked)
//   POST   /v1/sandboxes/:id/snapshots {name?}           → SnapshotInfo
//   GET    /v1/snapshots                                 → { snapshots: SnapshotInfo[] }
//   DELETE /v1/snapshots/:name                           → { success, name }
//   POST   /v1/templates               TemplateRequest   → TemplateInfo
//   GET    /v1/templates                                 → { templates: TemplateInfo[] }
//   DELETE /v1/templates/:name                           → { success, name }
// Every error is an ErrorResponse. Every /v1 call except health needs "Authorization: Bearer <key>".

export const API_PREFIX = "/v1";
export const PREVIEW_TOKEN_HEADER = "x-atoll-preview-token";

export type SandboxStatus = "creating" | "running" | "sleeping" | "paused" | "stopped" | "error" | "destroying";

export interface SandboxLimits {
  /** CPU cores (fractional allowed). */
  cpu: number;
  memoryMiB: number;
  pids: number;
  diskMiB: number;
}

export interface CreateSandboxRequest {
  envVars?: Record<string, string>;
  sleepAfter?: string | number;
  keepAlive?: boolean;
  template?: string;
  fromSnapshot?: string;
  limits?: Partial<SandboxLimits>;
}

export interface UpdateSandboxRequest {
  sleepAfter?: string | number;
  keepAlive?: boolean;
}

export interface SandboxInfo {
  id: string;
  status: SandboxStatus;
  driver: string;
  template: string;
  createdAt: string;
  lastActiveAt: string;
  /** Milliseconds of inactivity before the sandbox sleeps. */
  sleepAfterMs: number;
  keepAlive: boolean;
  limits: SandboxLimits;
  /** True when this call created the sandbox (PUT only). */
  created?: boolean;
}

export interface ExposePortRequest {
  port: number;
  name?: string;
  hostname?: string;
}

export interface ExposePortResult {
  url: string;
  port: number;
  name?: string;
}

export interface ExposedPortInfo {
  url: string;
  port: number;
  name?: string;
  status: "active" | "inactive";
}

export interface SnapshotInfo {
  name: string;
  sandboxId: string;
  createdAt: string;
  sizeBytes: number;
}

export interface TemplateSource {
  type: "oci-archive" | "oci-layout" | "rootfs";
  /** A path on the control plane's host. */
  path: string;
}

export interface TemplateRequest {
  name: string;
  source: TemplateSource;
  env?: Record<string, string>;
  workdir?: string;
  ports?: number[];
  /** Shell command run inside the sandbox before it is reported ready (the startup.sh pattern). */
  startup?: string;
}

export interface TemplateInfo extends Omit<TemplateRequest, "source"> {
  createdAt: string;
  source: TemplateSource;
}
