// Dispatches a request to the first matching route; unknown routes get coded 404/405 errors.
// Every request is checked first (auth.ts): the control plane's key, no Origin.
import type { IncomingMessage, ServerResponse } from "node:http";
import { AtollError, ErrorCode, RouteTable } from "@atoll/protocol";
import { checkCaller, type AgentAuth } from "./auth.js";
import { sendError, type Handler, type Route } from "./http.js";

export class Router {
  private table = new RouteTable<Handler>();

  constructor(private readonly auth: AgentAuth) {}

  add(routes: Route[]): this {
    this.table.add(routes);
    return this;
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      checkCaller(req, this.auth);
    } catch (err) {
      // The body is not read: close the connection after the answer instead of draining it.
      res.shouldKeepAlive = false;
      return sendError(res, err);
    }
    let url: URL;
    try {
      url = new URL(req.url ?? "/", "http://agent");
    } catch {
      return sendError(res, new AtollError(ErrorCode.VALIDATION_FAILED, "Cannot parse request URL"));
    }
    const m = this.table.match(req.method ?? "GET", url.pathname);
    if (m.kind === "match") {
      try {
        await m.handler(req, res, m.params, url);
      } catch (err) {
        sendError(res, err);
      }
      return;
    }
    const verb = m.kind === "method-not-allowed" ? "method not allowed" : "no such route";
    const code = m.kind === "method-not-allowed" ? ErrorCode.METHOD_NOT_ALLOWED : ErrorCode.NOT_FOUND;
    sendError(res, new AtollError(code, `Cannot ${req.method} ${url.pathname}: ${verb}`));
  }
}
