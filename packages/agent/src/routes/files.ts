// Cloudflare-compatible file routes (/api/read … /api/exists) and Atoll's raw file transfer.
import type { IncomingMessage } from "node:http";
import { nowIso, readJson, sendJson, type Route } from "../http.js";
import { queryPath, resolvePath } from "../files/paths.js";
import { withFs } from "../files/errors.js";
import { deleteFile, decodeContent, makeDirectory, movePath, parseEncoding, pathExists, readFileContent, renamePath, writeFileContent } from "../files/ops.js";
import { listFiles } from "../files/list.js";
import { receiveRawFile, sendRawFile, streamFileSSE } from "../files/stream.js";

/** /api/write bodies may carry 100 MiB as base64 (≈134 MiB of JSON). */
const WRITE_BODY_LIMIT = 160 * 1024 * 1024;

type Body = Record<string, unknown>;
const body = (req: IncomingMessage, limit?: number) => readJson<Body>(req, limit);

export function fileRoutes(): Route[] {
  return [
    {
      method: "POST", path: "/api/read", handler: async (req, res) => {
        const b = await body(req);
        const p = resolvePath(b.path);
        const r = await withFs("read", p, () => readFileContent(p, parseEncoding(b.encoding)));
        sendJson(res, 200, { success: true, path: p, content: r.content, timestamp: nowIso(), exitCode: 0, encoding: r.encoding, isBinary: r.isBinary, mimeType: r.mimeType, size: r.size });
      },
    },
    {
      method: "POST", path: "/api/read/stream", handler: async (req, res) => {
        const b = await body(req);
        const p = resolvePath(b.path);
        await withFs("read", p, () => streamFileSSE(p, res));
      },
    },
    {
      method: "POST", path: "/api/write", handler: async (req, res) => {
        const b = await body(req, WRITE_BODY_LIMIT);
        const p = resolvePath(b.path);
        const data = decodeContent(b.content, parseEncoding(b.encoding));
        await withFs("write", p, () => writeFileContent(p, data));
        sendJson(res, 200, { success: true, path: p, timestamp: nowIso(), exitCode: 0 });
      },
    },
    {
      method: "POST", path: "/api/delete", handler: async (req, res) => {
        const p = resolvePath((await body(req)).path);
        await withFs("delete", p, () => deleteFile(p));
        sendJson(res, 200, { success: true, path: p, timestamp: nowIso(), exitCode: 0 });
      },
    },
    {
      method: "POST", path: "/api/rename", handler: async (req, res) => {
        const b = await body(req);
        const from = resolvePath(b.oldPath ?? b.path, "oldPath");
        const to = resolvePath(b.newPath, "newPath");
        await withFs("rename", from, () => renamePath(from, to));
        sendJson(res, 200, { success: true, path: from, newPath: to, timestamp: nowIso(), exitCode: 0 });
      },
    },
    {
      method: "POST", path: "/api/move", handler: async (req, res) => {
        const b = await body(req);
        const from = resolvePath(b.sourcePath ?? b.path, "sourcePath");
        const to = resolvePath(b.destinationPath ?? b.newPath, "destinationPath");
        const target = await withFs("move", from, () => movePath(from, to));
        sendJson(res, 200, { success: true, path: from, newPath: target, timestamp: nowIso(), exitCode: 0 });
      },
    },
    {
      method: "POST", path: "/api/mkdir", handler: async (req, res) => {
        const b = await body(req);
        const p = resolvePath(b.path);
        const recursive = b.recursive === true;
        await withFs("mkdir", p, () => makeDirectory(p, recursive));
        sendJson(res, 200, { success: true, path: p, recursive, timestamp: nowIso(), exitCode: 0 });
      },
    },
    {
      method: "POST", path: "/api/list-files", handler: async (req, res) => {
        const b = await body(req);
        const p = resolvePath(b.path);
        const opts = (b.options && typeof b.options === "object" ? b.options : {}) as Body;
        const r = await withFs("list", p, () => listFiles(p, opts.recursive === true, opts.includeHidden === true));
        sendJson(res, 200, { success: true, path: p, files: r.files, count: r.files.length, timestamp: nowIso(), exitCode: 0, ...(r.truncated ? { truncated: true } : {}) });
      },
    },
    {
      method: "POST", path: "/api/exists", handler: async (req, res) => {
        const p = resolvePath((await body(req)).path);
        const exists = await withFs("check", p, () => pathExists(p));
        sendJson(res, 200, { success: true, path: p, exists, timestamp: nowIso() });
      },
    },
    // Atoll: raw bytes, no base64, no whole-file buffering.
    {
      method: "GET", path: "/api/files/raw", handler: async (req, res, _p, url) => {
        const p = queryPath(url);
        await withFs("read", p, () => sendRawFile(p, req, res));
      },
    },
    {
      method: "HEAD", path: "/api/files/raw", handler: async (req, res, _p, url) => {
        const p = queryPath(url);
        await withFs("read", p, () => sendRawFile(p, req, res));
      },
    },
    {
      method: "PUT", path: "/api/files/raw", handler: async (req, res, _p, url) => {
        const p = queryPath(url);
        const bytesWritten = await withFs("write", p, () => receiveRawFile(p, req));
        sendJson(res, 200, { success: true, path: p, bytesWritten, timestamp: nowIso() });
      },
    },
  ];
}
