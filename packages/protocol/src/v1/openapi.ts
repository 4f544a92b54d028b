// Builds the OpenAPI 3.1 document of the /v1 API from the route declaration (./routes.ts).
// Pure: the server serves it at GET /v1/openapi.json and scripts/openapi.ts writes docs/openapi.json.
// Named body schemas become components ($ref), found by structure wherever they are nested.
import type { TSchema } from "@sinclair/typebox";
import { VERSION } from "../version.js";
import { V1_ROUTES, type V1Route } from "./routes.js";
import * as S from "./schemas.js";

type Json = Record<string, unknown>;
const ANY_METHODS = ["get", "put", "post", "patch", "delete", "head", "options"] as const;

/** TypeBox schemas carry symbol keys; a JSON round trip leaves plain JSON Schema. */
const plain = (s: TSchema): Json => JSON.parse(JSON.stringify(s)) as Json;

/** "/v1/sandboxes/:id/api/*" → "/v1/sandboxes/{id}/api/{agentPath}". */
export function openApiPath(r: Pick<V1Route, "path" | "restName">): string {
  return r.path.replace(/\/:([a-zA-Z]+)/g, "/{$1}").replace(/\/\*$/, `/{${r.restName ?? "rest"}}`);
}

export function openApiDocument(): Json {
  const named = Object.entries(S).map(([name, s]) => ({ name, text: JSON.stringify(plain(s)) }));
  // Replaces every sub-schema equal to a named one (other than `self`) with a $ref.
  const refs = (v: unknown, self?: string): unknown => {
    if (Array.isArray(v)) return v.map((x) => refs(x, self));
    if (!v || typeof v !== "object") return v;
    const hit = named.find((n) => n.name !== self && n.text === JSON.stringify(v));
    if (hit) return { $ref: `#/components/schemas/${hit.name}` };
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, refs(x, self)]));
  };
  const schemas = Object.fromEntries(named.map((n) => [n.name, refs(JSON.parse(n.text), n.name)]));
  const errorResponse = { description: "Error (see the code)", content: { "application/json": { schema: { $ref: "#/components/schemas/ErrorResponse" } } } };

  const paths: Record<string, Json> = {};
  for (const r of V1_ROUTES) {
    const params = [
      ...Object.entries(r.params ?? {}).map(([name, s]) => ({ name, in: "path", required: true, schema: refs(plain(s)) })),
      ...(r.path.endsWith("/*") ? [{ name: r.restName ?? "rest", in: "path", required: true, description: "The rest of the path (may contain '/', may be empty)", schema: { type: "string" } }] : []),
      ...Object.entries(r.query ?? {}).map(([name, s]) => ({ name, in: "query", required: false, schema: refs(plain(s)) })),
      ...Object.entries(r.headers ?? {}).map(([name, s]) => ({ name, in: "header", required: false, schema: refs(plain(s)) })),
    ];
    const responses: Json = {};
    for (const [status, res] of Object.entries(r.responses)) {
      responses[status] = res.schema ? { description: res.description, content: { "application/json": { schema: refs(plain(res.schema)) } } } : { description: res.description };
    }
    if (r.auth !== false) responses["401"] = { description: "Missing or wrong API key (UNAUTHORIZED)", content: errorResponse.content };
    responses.default = errorResponse;
    const methods = r.method === "*" ? ANY_METHODS : [r.method.toLowerCase()];
    const item = (paths[openApiPath(r)] ??= {});
    for (const m of methods) {
      item[m] = {
        operationId: r.method === "*" ? `${r.id}_${m}` : r.id,
        tags: [r.tag],
        summary: r.summary,
        ...(r.description && { description: r.description }),
        ...(r.auth === false && { security: [] }),
        ...(params.length && { parameters: params }),
        ...(r.body && m !== "get" && m !== "head" && { requestBody: { required: false, content: { "application/json": { schema: refs(plain(r.body)) } } } }),
        ...(r.method === "*" && m !== "get" && m !== "head" && { requestBody: { required: false, content: { "*/*": { schema: {} } } } }),
        responses,
      };
    }
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Atoll control plane",
      version: VERSION,
      description: "Self-hosted sandboxes with preview URLs. Every /v1 call except health and this document needs `Authorization: Bearer <API key>`. Every error is an ErrorResponse `{code, message, context, httpStatus}`. Generated from packages/protocol/src/v1/routes.ts.",
    },
    servers: [{ url: "http://127.0.0.1:8787", description: "Default local server" }],
    security: [{ apiKey: [] }],
    tags: [...new Set(V1_ROUTES.map((r) => r.tag))].map((name) => ({ name })),
    paths,
    components: { schemas, securitySchemes: { apiKey: { type: "http", scheme: "bearer", description: "The server's API key (ATOLL_API_KEY or <data dir>/api-key)" } } },
  };
}
