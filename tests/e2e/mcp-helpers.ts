// decodePng: proves bytes are a whole PNG — signature, chunk CRCs, IHDR, and IDAT inflating to
// exactly the scanlines the header announces. Used by the MCP tests on image content.
import { inflateSync, crc32 } from "node:zlib";

export function decodePng(buf: Buffer): { width: number; height: number } {
  if (!buf.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) throw new Error("not a PNG signature");
  let pos = 8;
  let ihdr: Buffer | undefined;
  const idat: Buffer[] = [];
  while (pos < buf.length) {
    const len = buf.readUInt32BE(pos);
    const kind = buf.subarray(pos + 4, pos + 8);
    const body = buf.subarray(pos + 8, pos + 8 + len);
    if (crc32(Buffer.concat([kind, body])) !== buf.readUInt32BE(pos + 8 + len)) throw new Error(`bad CRC in ${kind}`);
    if (kind.toString() === "IHDR") ihdr = body;
    if (kind.toString() === "IDAT") idat.push(body);
    pos += 12 + len;
    if (kind.toString() === "IEND") break;
  }
  if (!ihdr) throw new Error("no IHDR");
  const width = ihdr.readUInt32BE(0);
  const height = ihdr.readUInt32BE(4);
  const channels = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 }[ihdr[9]!] ?? 4;
  const row = 1 + Math.ceil((width * channels * ihdr[8]!) / 8);
  if (inflateSync(Buffer.concat(idat)).length !== row * height) throw new Error("pixel data does not match the header");
  return { width, height };
}
