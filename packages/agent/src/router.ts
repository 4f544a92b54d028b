// Method + path-pattern router. Patterns use ":name" segments; the first match wins.
import type { IncomingMessage, ServerResponse } from "node:http";
import { AtollError, ErrorCode } from "@atoll/protocol";
import { sendError, type Route } from "./http.js";

interface Compiled extends Route {
  re: RegExp;
  keys: string[];
}

export class Router {
  private routes: Compiled[] = [];

  add(routes: Route[]): this {
    for (const r of routes) {
      const keys: string[] = [];
      const re = new RegExp(
        "^" + r.path.replace(/\/:([a-zA-Z]+)/g, (_m, k: string) => (keys.push(k), "/([^/]+)")) + "/?$",
      );
      this.routes.push({ ...r, re, keys });
    }
    return this;
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let url: URL;
    try {
      url = new URL(req.url ?? "/", "http://agent");
    } catch {
      return sendError(res, new AtollError(ErrorCode.VALIDATION_FAILED, "Cannot parse request URL"));
    }
    let pathMatched = false;
    for (const r of this.routes) {
      const m = r.re.exec(url.pathname);
      if (!m) continue;
      pathMatched = true;
      if (r.method !== req.method) continue;
      const params: Record<string, string> = {};
      r.keys.forEach((k, i) => {
        try {
          params[k] = decodeURIComponent(m[i + 1]!);
        } catch {
          params[k] = m[i + 1]!;
        }
      });
      try {
        await r.handler(req, res, params, url);
      } catch (err) {
        sendError(res, err);
      }
      return;
    }
    sendError(
      res,
      pathMatched
        ? new AtollError(ErrorCode.METHOD_NOT_ALLOWED, `Cannot ${req.method} ${url.pathname}: method not allowed`)
        : new AtollError(ErrorCode.NOT_FOUND, `Cannot ${req.method} ${url.pathname}: no such route`),
    );
  }
}
