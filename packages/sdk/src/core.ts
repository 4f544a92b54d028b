// Per-sandbox transport shared by every area module: lazy get-or-create (one PUT, deduped),
// then calls under /v1/sandboxes/:id (control plane) and /v1/sandboxes/:id/api/* (the agent).
import { API_PREFIX, ErrorCode, isValidSandboxId, type CreateSandboxRequest, type SandboxInfo } from "@atoll/protocol";
import type { AtollClient, RequestOptions } from "./client.js";
import { SandboxError, errorFromHttp, sdkError } from "./errors.js";

/** getSandbox() options; sent with the first PUT (get-or-create). */
export interface SandboxOptions extends CreateSandboxRequest {
  /** Accepted for @cloudflare/sandbox compatibility and ignored (the client's url is used). */
  baseUrl?: string;
}

export class SandboxCore {
  readonly base: string;
  /** What the first PUT sends. */
  readonly options: CreateSandboxRequest;
  private ready: Promise<SandboxInfo> | null = null;
  /** Last SandboxInfo the control plane returned. */
  info: SandboxInfo | undefined;
  /** Default code contexts per language, created on first runCode without a context. */
  readonly defaultContexts = new Map<string, Promise<string>>();

  constructor(
    readonly client: AtollClient,
    readonly id: string,
    options: SandboxOptions,
  ) {
    const { baseUrl: _ignored, ...create } = options;
    this.options = create;
    if (!isValidSandboxId(id)) {
      throw sdkError(ErrorCode.INVALID_SANDBOX_ID, `Cannot use sandbox id ${JSON.stringify(String(id).slice(0, 80))}: ids are 1-63 chars of a-z, 0-9 and '-', starting and ending with a letter or digit`, { id: String(id).slice(0, 80) });
    }
    this.base = `${API_PREFIX}/sandboxes/${id}`;
  }

  /** Creates the sandbox (or finds it) once; concurrent callers share the same PUT. */
  ensure(): Promise<SandboxInfo> {
    if (!this.ready) {
      this.ready = this.client.json<SandboxInfo>(this.base, { method: "PUT", body: this.options, what: `create sandbox ${this.id}` }).then(
        (info) => ((this.info = info), info),
        (e) => {
          this.ready = null; // a failed PUT is retried by the next call
          throw e;
        },
      );
    }
    return this.ready;
  }

  /** Forgets the PUT so the next call creates the sandbox again (after destroy). */
  reset(): void {
    this.ready = null;
    this.defaultContexts.clear();
  }

  /** Control-plane call about this sandbox, e.g. v1("/ports"). */
  async v1(path: string, opts: RequestOptions = {}): Promise<Response> {
    await this.ensure();
    return this.retryOnGone(() => this.client.request(this.base + path, opts), opts);
  }

  async v1Json<T>(path: string, opts: RequestOptions = {}): Promise<T> {
    return parseJson<T>(await this.v1(path, opts), path, opts.what);
  }

  /** Agent call, e.g. api("/execute", {method: "POST", body}). Throws registry errors for non-2xx. */
  async api(path: string, opts: RequestOptions = {}): Promise<Response> {
    return this.v1("/api" + path, opts);
  }

  async apiJson<T>(path: string, opts: RequestOptions = {}): Promise<T> {
    return parseJson<T>(await this.api(path, opts), path, opts.what);
  }

  /**
   * When the control plane no longer knows the sandbox (destroyed elsewhere, server reset),
   * create it again and retry once — only when the body can be sent twice.
   */
  private async retryOnGone(call: () => Promise<Response>, opts: RequestOptions): Promise<Response> {
    try {
      return await call();
    } catch (e) {
      const replayable = typeof ReadableStream === "undefined" || !(opts.body instanceof ReadableStream);
      if (!(e instanceof SandboxError) || e.code !== ErrorCode.SANDBOX_NOT_FOUND || !replayable) throw e;
      this.reset();
      await this.ensure();
      return call();
    }
  }
}

async function parseJson<T>(res: Response, path: string, what?: string): Promise<T> {
  const text = await res.text();
  try {
    return (text ? JSON.parse(text) : {}) as T;
  } catch {
    throw sdkError(ErrorCode.INVALID_JSON_RESPONSE, `Cannot ${what ?? "read answer"}: invalid JSON from ${path}: ${text.slice(0, 120)}`, { path });
  }
}

/** Area functions take this: the sandbox transport plus the session they are bound to. */
export interface Ctx {
  core: SandboxCore;
  /** Undefined = the sandbox's default session. */
  sessionId?: string;
}

/** Adds sessionId to a request body when the context is bound to a session. */
export function withSession<T extends object>(ctx: Ctx, body: T): T & { sessionId?: string } {
  return ctx.sessionId ? { ...body, sessionId: ctx.sessionId } : body;
}

export { errorFromHttp };
