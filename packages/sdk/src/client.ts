// The connection to an Atoll control plane: base URL, API key, and the /v1 calls that are
// not about one sandbox (list, snapshots, templates). fetch-based; no Node imports.
import {
  API_PREFIX,
  ErrorCode,
  type SandboxInfo,
  type SnapshotInfo,
  type TemplateInfo,
  type TemplateRequest,
} from "@atoll/protocol";
import { errorFromHttp, isAbortError, sdkError } from "./errors.js";

export interface ClientOptions {
  /** Control plane base URL, e.g. "http://127.0.0.1:8787". */
  url: string;
  /** API key sent as "Authorization: Bearer <key>". */
  apiKey?: string;
  /** Custom fetch (tests, Workers service bindings). Defaults to globalThis.fetch. */
  fetch?: typeof fetch;
  /**
   * Preview domains proxyToSandbox accepts (e.g. ["localhost", "preview.example.com"]).
   * When absent, any host whose first label looks like "{port}-{id}-{token}" is treated as a preview host.
   */
  previewDomains?: string[];
}

type Body = string | Uint8Array | ArrayBuffer | ReadableStream<Uint8Array> | Blob | FormData | URLSearchParams | null | undefined;

export interface RequestOptions {
  method?: string;
  /** Objects are sent as JSON; strings, bytes and streams as they are. */
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Short description for error messages: "Cannot <what>: …". */
  what?: string;
}

function isRawBody(b: unknown): b is Body {
  return (
    typeof b === "string" ||
    b instanceof Uint8Array ||
    b instanceof ArrayBuffer ||
    (typeof ReadableStream !== "undefined" && b instanceof ReadableStream) ||
    (typeof Blob !== "undefined" && b instanceof Blob) ||
    (typeof FormData !== "undefined" && b instanceof FormData) ||
    (typeof URLSearchParams !== "undefined" && b instanceof URLSearchParams)
  );
}

export class AtollClient {
  readonly url: string;
  readonly apiKey: string | undefined;
  readonly previewDomains: string[] | undefined;
  private readonly fetchImpl: typeof fetch;

  constructor(opts: ClientOptions) {
    if (!opts || typeof opts.url !== "string" || !/^https?:\/\//i.test(opts.url)) {
      throw sdkError(ErrorCode.VALIDATION_FAILED, `Cannot create client: url must be an http(s) URL, got ${JSON.stringify(opts?.url)}`, { url: opts?.url });
    }
    this.url = opts.url.replace(/\/+$/, "");
    this.apiKey = opts.apiKey;
    this.previewDomains = opts.previewDomains;
    const f = opts.fetch ?? globalThis.fetch;
    this.fetchImpl = f.bind(globalThis);
  }

  /** Headers every /v1 call carries. */
  authHeaders(): Record<string, string> {
    return this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : {};
  }

  /**
   * Sends a request to `url + path` with the API key. Returns the Response whatever its status;
   * network failures become SANDBOX_UNAVAILABLE errors (aborts are rethrown as they are).
   */
  async raw(path: string, opts: RequestOptions = {}): Promise<Response> {
    const headers: Record<string, string> = { ...this.authHeaders(), ...opts.headers };
    let body: Body;
    if (opts.body === undefined || opts.body === null) body = undefined;
    else if (isRawBody(opts.body)) body = opts.body;
    else {
      body = JSON.stringify(opts.body);
      headers["content-type"] ??= "application/json";
    }
    const init: RequestInit & { duplex?: "half" } = { method: opts.method ?? "GET", headers, body: body as BodyInit | undefined, signal: opts.signal };
    if (typeof ReadableStream !== "undefined" && body instanceof ReadableStream) init.duplex = "half";
    try {
      return await this.fetchImpl(this.url + path, init);
    } catch (e) {
      if (isAbortError(e) || opts.signal?.aborted) throw opts.signal?.reason ?? e;
      const cause = e instanceof Error ? ((e.cause as { code?: string; message?: string } | undefined)?.code ?? (e.cause as Error | undefined)?.message ?? e.message) : String(e);
      throw sdkError(ErrorCode.SANDBOX_UNAVAILABLE, `Cannot ${opts.what ?? "reach Atoll"}: no answer from ${this.url} (${cause})`, { url: this.url, cause });
    }
  }

  /** raw() that throws the registry error class for any non-2xx answer. */
  async request(path: string, opts: RequestOptions = {}): Promise<Response> {
    const res = await this.raw(path, opts);
    if (!res.ok) throw await errorFromHttp(res, opts.what ?? `${opts.method ?? "GET"} ${path}`);
    return res;
  }

  /** request() and parse the JSON answer. */
  async json<T>(path: string, opts: RequestOptions = {}): Promise<T> {
    const res = await this.request(path, opts);
    const text = await res.text();
    try {
      return (text ? JSON.parse(text) : {}) as T;
    } catch {
      throw sdkError(ErrorCode.INVALID_JSON_RESPONSE, `Cannot ${opts.what ?? "read answer"}: invalid JSON from ${path}: ${text.slice(0, 120)}`, { path });
    }
  }

  // ---- control-plane calls not bound to one sandbox ----

  async health(): Promise<{ ok: boolean; version: string }> {
    return this.json(`${API_PREFIX}/health`, { what: "check health" });
  }

  async listSandboxes(): Promise<SandboxInfo[]> {
    return (await this.json<{ sandboxes: SandboxInfo[] }>(`${API_PREFIX}/sandboxes`, { what: "list sandboxes" })).sandboxes;
  }

  async getSandboxInfo(id: string): Promise<SandboxInfo> {
    return this.json(`${API_PREFIX}/sandboxes/${encodeURIComponent(id)}`, { what: `get sandbox ${id}` });
  }

  async deleteSandbox(id: string): Promise<void> {
    await this.json(`${API_PREFIX}/sandboxes/${encodeURIComponent(id)}`, { method: "DELETE", what: `destroy sandbox ${id}` });
  }

  async listSnapshots(): Promise<SnapshotInfo[]> {
    return (await this.json<{ snapshots: SnapshotInfo[] }>(`${API_PREFIX}/snapshots`, { what: "list snapshots" })).snapshots;
  }

  async deleteSnapshot(name: string): Promise<void> {
    await this.json(`${API_PREFIX}/snapshots/${encodeURIComponent(name)}`, { method: "DELETE", what: `delete snapshot ${name}` });
  }

  async addTemplate(req: TemplateRequest): Promise<TemplateInfo> {
    return this.json(`${API_PREFIX}/templates`, { method: "POST", body: req, what: `add template ${req.name}` });
  }

  async listTemplates(): Promise<TemplateInfo[]> {
    return (await this.json<{ templates: TemplateInfo[] }>(`${API_PREFIX}/templates`, { what: "list templates" })).templates;
  }

  async deleteTemplate(name: string): Promise<void> {
    await this.json(`${API_PREFIX}/templates/${encodeURIComponent(name)}`, { method: "DELETE", what: `delete template ${name}` });
  }
}

/** Creates a client for an Atoll control plane. */
export function createClient(opts: ClientOptions): AtollClient {
  return new AtollClient(opts);
}
