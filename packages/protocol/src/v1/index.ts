// @atoll/protocol/v1: the /v1 API declared as data (routes + JSON Schemas) and its OpenAPI document.
// A separate entry so the SDK's runtime never loads the schema library.
export * as schemas from "./schemas.js";
export { V1_ROUTES, type V1Route, type V1Method, type V1Response } from "./routes.js";
export { openApiDocument, openApiPath } from "./openapi.js";
