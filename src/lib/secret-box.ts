import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/**
 * Encryption at rest for secrets the product must be able to read back (webhook signing
 * secrets: hashing would not do, they are needed to sign). AES-256-GCM with a random 96-bit
 * nonce per value; the associated data binds a ciphertext to its row (e.g. the endpoint id),
 * so a value copied into another row does not decrypt.
 *
 * Format: `v1.` + base64url(nonce ‖ ciphertext ‖ 16-byte tag).
 */
const VERSION = 'v1.';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
export const SECRETS_KEY_BYTES = 32;

export class SecretBoxError extends Error {}

export interface SecretBox {
  seal(plaintext: string, associatedData: string): string;
  open(sealed: string, associatedData: string): string;
}

export function createSecretBox(key: Buffer): SecretBox {
  if (key.length !== SECRETS_KEY_BYTES) throw new SecretBoxError(`the secrets key must be ${SECRETS_KEY_BYTES} bytes`);
  const ownKey = Buffer.from(key); // a private copy: the caller's buffer may be reused
  return {
    seal(plaintext, associatedData) {
      const nonce = randomBytes(NONCE_BYTES);
      const cipher = createCipheriv('aes-256-gcm', ownKey, nonce);
      cipher.setAAD(Buffer.from(associatedData, 'utf8'));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return VERSION + Buffer.concat([nonce, body, cipher.getAuthTag()]).toString('base64url');
    },
    open(sealed, associatedData) {
      if (!sealed.startsWith(VERSION)) throw new SecretBoxError('unknown secret format');
      const raw = Buffer.from(sealed.slice(VERSION.length), 'base64url');
      if (raw.length < NONCE_BYTES + TAG_BYTES) throw new SecretBoxError('secret is truncated');
      const decipher = createDecipheriv('aes-256-gcm', ownKey, raw.subarray(0, NONCE_BYTES));
      decipher.setAAD(Buffer.from(associatedData, 'utf8'));
      decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
      try {
        return Buffer.concat([decipher.update(raw.subarray(NONCE_BYTES, raw.length - TAG_BYTES)), decipher.final()]).toString('utf8');
      } catch {
        // Wrong key, tampered value or value of another row: never say which.
        throw new SecretBoxError('secret could not be decrypted (wrong SECRETS_KEY or tampered value)');
      }
    },
  };
}

/**
 * The embedded-database fallback when SECRETS_KEY is unset: a key generated on first start
 * into `<dataDir>/secrets.key` (mode 0600, created exclusively so two processes starting at
 * once agree on one key), read back on every later start.
 */
export function loadOrCreateKeyFile(dataDir: string): Buffer {
  const file = path.join(path.resolve(dataDir), 'secrets.key');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  if (!fs.existsSync(file)) {
    // Written in full to a temporary file, then linked into place: link fails if the name
    // exists, so a concurrent start either wins or reads the winner's complete key.
    const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    fs.writeFileSync(temp, `${randomBytes(SECRETS_KEY_BYTES).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    try {
      fs.linkSync(temp, file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    } finally {
      fs.rmSync(temp, { force: true });
    }
  }
  const key = Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'base64');
  if (key.length !== SECRETS_KEY_BYTES) throw new SecretBoxError(`${file} does not hold a ${SECRETS_KEY_BYTES}-byte base64 key`);
  return key;
}
