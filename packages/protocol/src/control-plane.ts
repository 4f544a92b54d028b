// REST contract of the control plane (/v1). Shared by server, SDK and CLI. Every route is declared
// with its schemas in v1/routes.ts (OpenAPI: GET /v1/openapi.json, docs/openapi.json).
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
//   GET    /v1/openapi.json                             (no auth) → the OpenAPI 3.1 document
// Every error is an ErrorResponse. Every /v1 call except those two needs "Authorization: Bearer <key>".

import type { Static } from "@sinclair/typebox";
import type * as S from "./v1/schemas.js";

export const API_PREFIX = "/v1";
export const PREVIEW_TOKEN_HEADER = "x-atoll-preview-token";

// The types are derived from the JSON Schemas in v1/schemas.ts (the one declaration of these
// shapes; the OpenAPI document is built from the same). Type-only import: loading this module
// does not load the schema library.
export type SandboxStatus = Static<typeof S.SandboxStatus>;
export type SandboxLimits = Static<typeof S.SandboxLimits>;
export type CreateSandboxRequest = Static<typeof S.CreateSandboxRequest>;
export type UpdateSandboxRequest = Static<typeof S.UpdateSandboxRequest>;
export type SandboxInfo = Static<typeof S.SandboxInfo>;
export type ExposePortRequest = Static<typeof S.ExposePortRequest>;
export type ExposePortResult = Static<typeof S.ExposePortResult>;
export type ExposedPortInfo = Static<typeof S.ExposedPortInfo>;
export type SnapshotInfo = Static<typeof S.SnapshotInfo>;
export type TemplateSource = Static<typeof S.TemplateSource>;
export type TemplateRequest = Static<typeof S.TemplateRequest>;
export type TemplateInfo = Static<typeof S.TemplateInfo>;
