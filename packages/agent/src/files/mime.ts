// MIME type and text/binary detection from a file's first bytes and its extension.
import path from "node:path";

const MAGIC: Array<[number[], string, number?]> = [
  [[0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], "image/png"],
  [[0xff, 0xd8, 0xff], "image/jpeg"],
  [[0x47, 0x49, 0x46, 0x38], "image/gif"],
  [[0x25, 0x50, 0x44, 0x46, 0x2d], "application/pdf"],
  [[0x50, 0x4b, 0x03, 0x04], "application/zip"],
  [[0x1f, 0x8b], "application/gzip"],
  [[0x42, 0x5a, 0x68], "application/x-bzip2"],
  [[0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], "application/x-xz"],
  [[0x28, 0xb5, 0x2f, 0xfd], "application/zstd"],
  [[0x7f, 0x45, 0x4c, 0x46], "application/x-executable"],
  [[0x00, 0x61, 0x73, 0x6d], "application/wasm"],
  [[0x42, 0x4d], "image/bmp"],
  [[0x00, 0x00, 0x01, 0x00], "image/x-icon"],
  [[0x4f, 0x67, 0x67, 0x53], "audio/ogg"],
  [[0x49, 0x44, 0x33], "audio/mpeg"],
  [[0x53, 0x51, 0x4c, 0x69, 0x74, 0x65, 0x20, 0x66], "application/vnd.sqlite3"],
];

const TEXT_EXT: Record<string, string> = {
  ".txt": "text/plain", ".md": "text/markdown", ".html": "text/html", ".htm": "text/html", ".css": "text/css",
  ".csv": "text/csv", ".js": "text/javascript", ".mjs": "text/javascript", ".cjs": "text/javascript",
  ".ts": "text/typescript", ".tsx": "text/typescript", ".jsx": "text/javascript", ".json": "application/json",
  ".xml": "application/xml", ".svg": "image/svg+xml", ".yaml": "text/yaml", ".yml": "text/yaml",
  ".toml": "text/plain", ".py": "text/x-python", ".sh": "text/x-shellscript", ".rs": "text/x-rust",
  ".go": "text/x-go", ".c": "text/x-c", ".h": "text/x-c", ".cpp": "text/x-c++", ".java": "text/x-java",
  ".rb": "text/x-ruby", ".php": "text/x-php", ".sql": "text/x-sql", ".ini": "text/plain", ".log": "text/plain",
};

const BINARY_EXT: Record<string, string> = {
  ".webp": "image/webp", ".mp4": "video/mp4", ".webm": "video/webm", ".mp3": "audio/mpeg", ".wav": "audio/wav",
  ".tar": "application/x-tar", ".woff": "font/woff", ".woff2": "font/woff2", ".ttf": "font/ttf", ".bin": "application/octet-stream",
};

function startsWith(buf: Buffer, sig: number[]): boolean {
  if (buf.length < sig.length) return false;
  for (let i = 0; i < sig.length; i++) if (buf[i] !== sig[i]) return false;
  return true;
}

/** True when the sample looks like text: no NUL, valid UTF-8 (allowing a cut multibyte tail). */
export function looksLikeText(sample: Buffer, complete: boolean): boolean {
  if (sample.includes(0)) return false;
  let end = sample.length;
  if (!complete) {
    // Drop a possibly cut UTF-8 sequence at the end of a partial sample.
    let i = end - 1;
    while (i >= 0 && end - i <= 4 && (sample[i]! & 0xc0) === 0x80) i--;
    if (i >= 0 && sample[i]! >= 0xc0) end = i;
  }
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(sample.subarray(0, end));
    return true;
  } catch {
    return false;
  }
}

export interface Detected {
  mimeType: string;
  isBinary: boolean;
}

/** Detects a file's type from its first bytes (sample) and name. */
export function detectType(filePath: string, sample: Buffer, complete: boolean): Detected {
  const ext = path.extname(filePath).toLowerCase();
  if (sample.length >= 12 && sample.toString("latin1", 0, 4) === "RIFF" && sample.toString("latin1", 8, 12) === "WEBP") {
    return { mimeType: "image/webp", isBinary: true };
  }
  for (const [sig, mime] of MAGIC) if (startsWith(sample, sig)) return { mimeType: mime, isBinary: true };
  const text = looksLikeText(sample, complete);
  if (text) return { mimeType: TEXT_EXT[ext] ?? "text/plain", isBinary: false };
  return { mimeType: BINARY_EXT[ext] ?? "application/octet-stream", isBinary: true };
}

/** Number of bytes sampled for detection. */
export const SNIFF_BYTES = 8192;
