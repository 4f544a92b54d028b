// Error answers the front door writes itself (before or instead of a sandbox's response):
// the one JSON error shape, always with Connection: close.
import { ERROR_STATUS, ErrorCode, errorBody } from "@atoll/protocol";
import { STATUS_CODES } from "node:http";

export function errorResponse(code: ErrorCode, message: string, context: Record<string, unknown> = {}): Buffer {
  const status = ERROR_STATUS[code];
  const body = JSON.stringify(errorBody(code, message, context));
  return Buffer.from(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "Error"}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\ncache-control: no-store\r\n\r\n${body}`,
  );
}

/** The answer to a malformed request (400, 431, 501, 505) in the same JSON error shape. */
export function plainResponse(status: number, message: string): Buffer {
  const code = status === 431 ? ErrorCode.PAYLOAD_TOO_LARGE : ErrorCode.VALIDATION_FAILED;
  const body = JSON.stringify(errorBody(code, message));
  return Buffer.from(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "Error"}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
}
