import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseSecretsKey } from '../config.js';
import { createSecretBox, loadOrCreateKeyFile, SecretBoxError } from './secret-box.js';

const key = randomBytes(32);

describe('createSecretBox', () => {
  it('round-trips a value and never stores it in clear', () => {
    const box = createSecretBox(key);
    const sealed = box.seal('whsec_abc', 'endpoint-1');
    expect(sealed).toMatch(/^v1\.[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain('whsec_abc');
    expect(Buffer.from(sealed.slice(3), 'base64url').toString('latin1')).not.toContain('whsec');
    expect(box.open(sealed, 'endpoint-1')).toBe('whsec_abc');
  });

  it('uses a fresh nonce for every value', () => {
    const box = createSecretBox(key);
    expect(box.seal('same', 'x')).not.toBe(box.seal('same', 'x'));
  });

  it('refuses another key, another row, a tampered value and unknown formats', () => {
    const box = createSecretBox(key);
    const sealed = box.seal('whsec_abc', 'endpoint-1');
    expect(() => createSecretBox(randomBytes(32)).open(sealed, 'endpoint-1')).toThrow(SecretBoxError);
    expect(() => box.open(sealed, 'endpoint-2')).toThrow(SecretBoxError);
    const raw = Buffer.from(sealed.slice(3), 'base64url');
    raw[14] = raw[14]! ^ 1;
    expect(() => box.open(`v1.${raw.toString('base64url')}`, 'endpoint-1')).toThrow(SecretBoxError);
    expect(() => box.open('v1.AAAA', 'endpoint-1')).toThrow(/truncated/);
    expect(() => box.open('plain', 'endpoint-1')).toThrow(/format/);
  });

  it('needs a 32-byte key', () => {
    expect(() => createSecretBox(randomBytes(16))).toThrow(SecretBoxError);
  });
});

describe('loadOrCreateKeyFile', () => {
  it('creates a 0600 key file once and reads the same key afterwards', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shortcode-key-'));
    try {
      const first = loadOrCreateKeyFile(path.join(dir, 'data'));
      const file = path.join(dir, 'data', 'secrets.key');
      expect(first).toHaveLength(32);
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      expect(loadOrCreateKeyFile(path.join(dir, 'data')).equals(first)).toBe(true);
      expect(fs.readdirSync(path.join(dir, 'data'))).toEqual(['secrets.key']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a key file that does not hold 32 bytes', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shortcode-key-'));
    try {
      fs.writeFileSync(path.join(dir, 'secrets.key'), 'c2hvcnQ=\n');
      expect(() => loadOrCreateKeyFile(dir)).toThrow(/32-byte/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('SECRETS_KEY configuration', () => {
  it('accepts hex and base64 (standard and URL-safe) spellings of 32 bytes', () => {
    const hex = key.toString('hex');
    expect(parseSecretsKey(hex).equals(key)).toBe(true);
    expect(parseSecretsKey(key.toString('base64')).equals(key)).toBe(true);
    expect(parseSecretsKey(key.toString('base64url')).equals(key)).toBe(true);
  });

  it('refuses keys of the wrong length or alphabet', () => {
    expect(() => parseSecretsKey('abcd')).toThrow(ConfigError);
    expect(() => parseSecretsKey(randomBytes(16).toString('hex'))).toThrow(ConfigError);
    expect(() => parseSecretsKey(randomBytes(31).toString('base64'))).toThrow(ConfigError);
    expect(() => loadConfig({ SECRETS_KEY: 'not a key' })).toThrow(/SECRETS_KEY must be 32 bytes/);
  });

  it('is required in production with DATABASE_URL, optional with the embedded database', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', DATABASE_URL: 'postgres://db/x' })).toThrow(/SECRETS_KEY is required/);
    expect(loadConfig({ NODE_ENV: 'production' }).secretsKey).toBeUndefined();
    expect(loadConfig({ NODE_ENV: 'development', DATABASE_URL: 'postgres://db/x' }).secretsKey).toBeUndefined();
    const config = loadConfig({ NODE_ENV: 'production', DATABASE_URL: 'postgres://db/x', SECRETS_KEY: key.toString('base64') });
    expect(config.secretsKey?.equals(key)).toBe(true);
  });
});
