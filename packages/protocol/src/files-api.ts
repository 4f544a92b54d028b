// Wire types of the agent's files, archive, watch and git routes.
// Shapes follow @cloudflare/sandbox 0.4.x; Atoll additions (raw, archive, watch) are marked.

export type FileEncoding = "utf-8" | "base64";

export interface ReadFileRequest {
  path: string;
  encoding?: FileEncoding | "utf8";
  sessionId?: string;
}

export interface ReadFileResult {
  success: boolean;
  path: string;
  content: string;
  timestamp: string;
  exitCode?: number;
  encoding: FileEncoding;
  isBinary: boolean;
  mimeType: string;
  size: number;
}

export interface WriteFileRequest {
  path: string;
  content: string;
  encoding?: FileEncoding | "utf8";
  sessionId?: string;
}

export interface WriteFileResult {
  success: boolean;
  path: string;
  timestamp: string;
  exitCode?: number;
}

export interface MkdirResult {
  success: boolean;
  path: string;
  recursive: boolean;
  timestamp: string;
  exitCode?: number;
}

export interface DeleteFileResult {
  success: boolean;
  path: string;
  timestamp: string;
  exitCode?: number;
}

/** Result of /api/rename ({oldPath, newPath}) and /api/move ({sourcePath, destinationPath}). */
export interface RenameFileResult {
  success: boolean;
  path: string;
  newPath: string;
  timestamp: string;
  exitCode?: number;
}
export type MoveFileResult = RenameFileResult;

export interface FileExistsResult {
  success: boolean;
  path: string;
  exists: boolean;
  timestamp: string;
}

export interface FileInfo {
  name: string;
  absolutePath: string;
  /** Relative to the listed directory, "/"-separated. */
  relativePath: string;
  type: "file" | "directory" | "symlink" | "other";
  size: number;
  modifiedAt: string;
  /** Permission bits as "rwxr-xr-x". */
  mode: string;
  permissions: { readable: boolean; writable: boolean; executable: boolean };
}

export interface ListFilesOptions {
  recursive?: boolean;
  includeHidden?: boolean;
}

export interface ListFilesResult {
  success: boolean;
  path: string;
  files: FileInfo[];
  count: number;
  timestamp: string;
  exitCode?: number;
  /** Atoll: true when the listing stopped at the entry cap. */
  truncated?: boolean;
}

/** SSE events of /api/read/stream. */
export type FileStreamEvent =
  | { type: "metadata"; mimeType: string; size: number; isBinary: boolean; encoding: FileEncoding }
  | { type: "chunk"; data: string }
  | { type: "complete"; bytesRead: number }
  | { type: "error"; error: string; code?: string };

/** Atoll: PUT /api/files/raw?path=… result. */
export interface RawUploadResult {
  success: boolean;
  path: string;
  bytesWritten: number;
  timestamp: string;
}

/** An archive entry that was not extracted, and why (unsupported type, unsafe path or link, …). */
export interface SkippedEntry {
  path: string;
  reason: string;
}

/** Atoll: PUT /api/archive?path=… result. */
export interface ArchiveExtractResult {
  success: boolean;
  path: string;
  bytesReceived: number;
  timestamp: string;
  /** Entries not extracted (at most 1000 listed); skippedCount is the exact number. */
  skipped?: SkippedEntry[];
  skippedCount?: number;
}

/** Atoll: POST /api/watch body. */
export interface WatchRequest {
  path: string;
  recursive?: boolean;
  includeHidden?: boolean;
}

/** Atoll: SSE events of /api/watch. "ready" is sent once, when every watcher is in place. */
export type WatchEvent =
  | { type: "ready"; path: string; timestamp: string }
  | { type: "create" | "modify" | "delete"; path: string; isDirectory: boolean; timestamp: string }
  | { type: "rename"; path: string; oldPath: string; isDirectory: boolean; timestamp: string }
  | { type: "error"; error: string; code?: string; timestamp: string };

export interface GitCheckoutRequest {
  repoUrl: string;
  branch?: string;
  targetDir?: string;
  /** Atoll: shallow clone depth. */
  depth?: number;
  /** Atoll: overall time limit in ms (default 10 minutes). */
  timeoutMs?: number;
  sessionId?: string;
}

export interface GitCheckoutResult {
  success: boolean;
  repoUrl: string;
  branch: string;
  targetDir: string;
  timestamp: string;
  exitCode?: number;
}
