// Preview tokens: 16 chars of [a-z0-9_] (Cloudflare 0.12's alphabet: no '-', so a token never ends
// a host label with one) from crypto randomness, compared in constant time.
import { randomBytes, timingSafeEqual } from "node:crypto";
import { TOKEN_ALPHABET, TOKEN_LENGTH } from "@atoll/protocol";

const ALPHABET = TOKEN_ALPHABET; // 37 symbols → ≈ 83 bits per token
const LIMIT = 256 - (256 % ALPHABET.length); // rejection sampling keeps every symbol equally likely

export function generateToken(): string {
  let out = "";
  while (out.length < TOKEN_LENGTH) {
    for (const b of randomBytes(32)) {
      if (b >= LIMIT) continue;
      out += ALPHABET[b % ALPHABET.length];
      if (out.length === TOKEN_LENGTH) break;
    }
  }
  return out;
}

/** A token nobody holds; compared against when a port is not exposed so both misses cost the same. */
const DUMMY = Buffer.alloc(TOKEN_LENGTH, 0);

/**
 * Constant-time equality of a presented token with the stored one (or with nothing).
 * The time depends only on TOKEN_LENGTH, not on where the strings differ or whether a token exists.
 */
export function tokenMatches(presented: string, stored: string | undefined): boolean {
  const a = Buffer.alloc(TOKEN_LENGTH, 0);
  a.write(presented.slice(0, TOKEN_LENGTH), "latin1");
  const b = stored === undefined ? DUMMY : Buffer.from(stored, "latin1");
  const same = b.length === TOKEN_LENGTH && timingSafeEqual(a, b);
  return same && stored !== undefined && presented.length === TOKEN_LENGTH;
}

/** Constant-time comparison of two secrets of arbitrary length (API keys). */
export function secretEquals(presented: string, secret: string): boolean {
  const a = Buffer.from(presented, "utf8");
  const b = Buffer.from(secret, "utf8");
  // Compare equal-length buffers always; the length check is folded in afterwards.
  const padded = Buffer.alloc(b.length, 0);
  a.copy(padded, 0, 0, Math.min(a.length, b.length));
  return timingSafeEqual(padded, b) && a.length === b.length;
}
