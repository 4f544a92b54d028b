// Pure method + path-pattern matching shared by the agent and the control plane.
// Patterns use ":name" segments and an optional trailing "*" (rest of the path, in params["*"]).

export interface RouteDef<H> {
  method: string;
  path: string;
  handler: H;
}

export type RouteMatch<H> =
  | { kind: "match"; handler: H; params: Record<string, string> }
  | { kind: "method-not-allowed" }
  | { kind: "not-found" };

interface Compiled<H> extends RouteDef<H> {
  re: RegExp;
  keys: string[];
}

export class RouteTable<H> {
  private routes: Compiled<H>[] = [];

  add(defs: RouteDef<H>[]): this {
    for (const d of defs) {
      const keys: string[] = [];
      let src = d.path.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\/:([a-zA-Z]+)/g, (_m, k: string) => (keys.push(k), "/([^/]+)"));
      if (src.endsWith("/*")) {
        keys.push("*");
        src = src.slice(0, -2) + "(?:/(.*))?";
      }
      this.routes.push({ ...d, re: new RegExp("^" + src + "/?$"), keys });
    }
    return this;
  }

  match(method: string, pathname: string): RouteMatch<H> {
    let pathMatched = false;
    for (const r of this.routes) {
      const m = r.re.exec(pathname);
      if (!m) continue;
      pathMatched = true;
      if (r.method !== method && r.method !== "*") continue;
      const params: Record<string, string> = {};
      r.keys.forEach((k, i) => {
        const raw = m[i + 1] ?? "";
        try {
          params[k] = decodeURIComponent(raw);
        } catch {
          params[k] = raw;
        }
      });
      return { kind: "match", handler: r.handler, params };
    }
    return { kind: pathMatched ? "method-not-allowed" : "not-found" };
  }
}
