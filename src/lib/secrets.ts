import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import argon2 from 'argon2';

/** Access tokens are UUID-shaped hexadecimal strings (the reference's format), 122 random bits. */
export const generateAccessToken = (): string => randomUUID();

/**
 * Tokens are high-entropy random values, so a fast hash is enough to store them safely and
 * lets us find a token by its hash in one indexed lookup. Passwords use argon2 instead.
 */
export const hashToken = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');

export const randomToken = (bytes = 32): string => randomBytes(bytes).toString('base64url');

export function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  // Compare against a same-length buffer even when lengths differ, so timing does not tell.
  if (left.length !== right.length) {
    timingSafeEqual(left, left);
    return false;
  }
  return timingSafeEqual(left, right);
}

export const hashPassword = (password: string): Promise<string> => argon2.hash(password, { type: argon2.argon2id });

export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  try {
    return await argon2.verify(hash, password);
  } catch {
    return false;
  }
}
