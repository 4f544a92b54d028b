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

/** The code whose status a malformed request (head.ts HeadError: 400, 431, 501, 505) is answered with. */
export function headErrorCode(status: 400 | 431 | 501 | 505): ErrorCode {
  switch (status) {
    case 431: return ErrorCode.HEADERS_TOO_LARGE;
    case 501: return ErrorCode.NOT_IMPLEMENTED;
    case 505: return ErrorCode.HTTP_VERSION_NOT_SUPPORTED;
    default: return ErrorCode.VALIDATION_FAILED;
  }
}
