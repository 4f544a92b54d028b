// Loads the published @cloudflare/sandbox@0.4.18 in Node. Its dist imports @cloudflare/containers,
// which needs the Workers runtime; a module resolve hook maps that import to a tiny stub module.
import { register } from "node:module";

const stub = `export class Container { constructor(ctx, env) { this.ctx = ctx; this.env = env; } }
export function getContainer() { throw new Error("stub"); }
export function switchPort(r) { return r; }`;
const hooks = `const STUB = ${JSON.stringify("data:text/javascript," + encodeURIComponent(stub))};
export async function resolve(specifier, context, next) {
  if (specifier === "@cloudflare/containers") return { url: STUB, shortCircuit: true };
  return next(specifier, context);
}`;

let registered = false;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function loadCloudflareSandbox(): Promise<any> {
  if (!registered) {
    register("data:text/javascript," + encodeURIComponent(hooks));
    registered = true;
  }
  return import("@cloudflare/sandbox");
}
