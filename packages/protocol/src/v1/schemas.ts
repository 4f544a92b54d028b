// JSON Schemas (TypeBox) of every /v1 request and response body: the one declaration of the
// control plane's wire shapes. control-plane.ts derives the TypeScript types from these, the
// OpenAPI document (./openapi.ts) embeds them, and tests check real answers against them.
// Response objects are closed (additionalProperties: false) so a field added on the server
// without being declared here fails the e2e schema check instead of drifting silently.
import { Type } from "@sinclair/typebox";

const closed = { additionalProperties: false } as const;

export const SandboxStatus = Type.Union(
  [Type.Literal("creating"), Type.Literal("running"), Type.Literal("sleeping"), Type.Literal("paused"), Type.Literal("stopped"), Type.Literal("error"), Type.Literal("destroying")],
  { description: "Lifecycle state of a sandbox" },
);

export const SandboxLimits = Type.Object(
  {
    cpu: Type.Number({ description: "CPU cores (fractional allowed)" }),
    memoryMiB: Type.Integer({ description: "Memory cap in MiB" }),
    pids: Type.Integer({ description: "Most processes and threads at once" }),
    diskMiB: Type.Integer({ description: "Disk (writable layer) cap in MiB" }),
  },
  closed,
);

const Duration = Type.Union([Type.String({ description: 'e.g. "30s", "10m", "1h", "1500ms"' }), Type.Number({ description: "seconds" })]);

export const CreateSandboxRequest = Type.Object({
  envVars: Type.Optional(Type.Record(Type.String(), Type.String(), { description: "Environment of every command in the sandbox" })),
  sleepAfter: Type.Optional(Duration),
  keepAlive: Type.Optional(Type.Boolean({ description: "Never sleep when idle" })),
  template: Type.Optional(Type.String({ description: 'Template name (default "base")' })),
  fromSnapshot: Type.Optional(Type.String({ description: "Start from this snapshot's files (a fork)" })),
  limits: Type.Optional(Type.Partial(SandboxLimits)),
});

export const UpdateSandboxRequest = Type.Object({
  sleepAfter: Type.Optional(Duration),
  keepAlive: Type.Optional(Type.Boolean()),
});

export const SandboxInfo = Type.Object(
  {
    id: Type.String(),
    status: SandboxStatus,
    driver: Type.String(),
    template: Type.String(),
    createdAt: Type.String({ format: "date-time" }),
    lastActiveAt: Type.String({ format: "date-time" }),
    sleepAfterMs: Type.Integer({ description: "Milliseconds of inactivity before the sandbox sleeps" }),
    keepAlive: Type.Boolean(),
    limits: SandboxLimits,
    created: Type.Optional(Type.Boolean({ description: "True when this call created the sandbox (PUT only)" })),
  },
  closed,
);

export const ExposePortRequest = Type.Object({
  port: Type.Integer({ minimum: 1024, maximum: 65535, description: "Port inside the sandbox (not 3000, the agent's)" }),
  name: Type.Optional(Type.String()),
  hostname: Type.Optional(Type.String({ description: "Host (and :port) the preview URL is built on; default the Host of this request" })),
});

export const ExposePortResult = Type.Object({ url: Type.String(), port: Type.Integer(), name: Type.Optional(Type.String()) }, closed);

export const ExposedPortInfo = Type.Object(
  {
    url: Type.String(),
    port: Type.Integer(),
    name: Type.Optional(Type.String()),
    status: Type.Union([Type.Literal("active"), Type.Literal("inactive")], { description: "active: something listens on the port" }),
  },
  closed,
);

export const SnapshotRequest = Type.Object({ name: Type.Optional(Type.String({ description: "Default: generated" })) });

export const SnapshotInfo = Type.Object(
  { name: Type.String(), sandboxId: Type.String(), createdAt: Type.String({ format: "date-time" }), sizeBytes: Type.Integer() },
  closed,
);

export const TemplateSource = Type.Object(
  {
    type: Type.Union([Type.Literal("oci-archive"), Type.Literal("oci-layout"), Type.Literal("rootfs")]),
    path: Type.String({ description: "A path on the control plane's host" }),
  },
  closed,
);

const templateFields = {
  name: Type.String(),
  env: Type.Optional(Type.Record(Type.String(), Type.String())),
  workdir: Type.Optional(Type.String()),
  ports: Type.Optional(Type.Array(Type.Integer())),
  startup: Type.Optional(Type.String({ description: "Shell command run inside the sandbox before it is reported ready (the startup.sh pattern)" })),
};

export const TemplateRequest = Type.Object({ ...templateFields, source: TemplateSource });

export const TemplateInfo = Type.Object({ ...templateFields, source: TemplateSource, createdAt: Type.String({ format: "date-time" }) }, closed);

export const ErrorResponse = Type.Object(
  {
    code: Type.String({ description: "A code from the error registry (packages/protocol/src/errors.ts), e.g. SANDBOX_NOT_FOUND" }),
    message: Type.String({ description: 'Human-readable, "Cannot X: Y"' }),
    context: Type.Record(Type.String(), Type.Unknown(), { description: "Details (ids, paths, limits) that depend on the code" }),
    httpStatus: Type.Integer(),
    timestamp: Type.Optional(Type.String({ format: "date-time" })),
  },
  { description: "The one error shape of every Atoll API" },
);

export const HealthResult = Type.Object({ ok: Type.Literal(true), version: Type.String() }, closed);
export const SandboxList = Type.Object({ sandboxes: Type.Array(SandboxInfo) }, closed);
export const DeletedSandbox = Type.Object({ success: Type.Literal(true), id: Type.String() }, closed);
export const PortList = Type.Object({ ports: Type.Array(ExposedPortInfo) }, closed);
export const UnexposedPort = Type.Object({ success: Type.Literal(true), port: Type.Integer() }, closed);
export const SnapshotList = Type.Object({ snapshots: Type.Array(SnapshotInfo) }, closed);
export const DeletedSnapshot = Type.Object({ success: Type.Literal(true), name: Type.String() }, closed);
export const TemplateList = Type.Object({ templates: Type.Array(TemplateInfo) }, closed);
export const DeletedTemplate = Type.Object({ success: Type.Literal(true), name: Type.String() }, closed);
