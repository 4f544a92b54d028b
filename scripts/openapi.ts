// Writes docs/openapi.json from the route declaration (packages/protocol/src/v1). Run after
// changing a /v1 route or schema: `npm run openapi`. A test fails while the committed copy differs.
import { writeFileSync } from "node:fs";
import { openApiDocument } from "../packages/protocol/src/v1/index.js";

const out = new URL("../docs/openapi.json", import.meta.url);
writeFileSync(out, JSON.stringify(openApiDocument(), null, 2) + "\n");
console.log(`wrote ${out.pathname}`);
