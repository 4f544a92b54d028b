// GET /v1/openapi.json (no auth): the OpenAPI 3.1 document of this API, generated from the route
// declaration in @atoll/protocol/v1 once per process.
import { openApiDocument } from "@atoll/protocol/v1";
import { reply, type ApiRoute } from "../http.js";

export function openApiRoutes(): ApiRoute[] {
  let doc: unknown;
  return [{ method: "GET", path: "/v1/openapi.json", auth: false, handler: ({ res }) => reply(res, 200, (doc ??= openApiDocument())) }];
}
