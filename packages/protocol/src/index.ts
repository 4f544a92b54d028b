export * from "./errors.js";
export * from "./ids.js";
export * from "./preview.js";
export * from "./sse.js";
export * from "./control-plane.js";
export * from "./agent-api.js";
export * from "./routing.js";
