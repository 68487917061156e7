import path from 'node:path';

/**
 * The only reader of process.env. Everything configurable is named, typed and validated here,
 * once, at start; the rest of the code receives a Config object.
 */
export type ProcessRole = 'api' | 'worker' | 'all';

export interface Config {
  env: 'production' | 'development' | 'test';
  port: number;
  host: string;
  /** Base URL the product is reached at (for absolute links); derived from the request when unset. */
  publicUrl: string | undefined;
  dataDir: string;
  databaseUrl: string | undefined;
  /** Connections each process opens to PostgreSQL (processes × pool must fit max_connections). */
  databasePoolSize: number;
  redisUrl: string | undefined;
  role: ProcessRole;
  logLevel: string;
  bodyLimitBytes: number;
  rateLimit: { max: number; windowMs: number };
  newAccountCredits: number;
  webhooksAllowPrivateNetworks: boolean;
  trustProxy: boolean;
  /** When set, GET /metrics requires `Authorization: Bearer <token>`. */
  metricsToken: string | undefined;
}

export class ConfigError extends Error {}

type Env = Record<string, string | undefined>;

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer between ${min} and ${max}, got "${raw}"`);
  }
  return value;
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  throw new ConfigError(`${name} must be true or false, got "${raw}"`);
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(`${name} must be one of ${allowed.join(', ')}, got "${raw}"`);
  }
  return raw as T;
}

function url(env: Env, name: string): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  try {
    new URL(raw);
  } catch {
    throw new ConfigError(`${name} must be a URL, got "${raw}"`);
  }
  return raw;
}

/** Command-line flags of the server entry; they take precedence over the environment. */
export interface ServerFlags {
  role?: string | undefined;
}

/**
 * Parses the server's command line: `--role api|worker|all` (or `--role=api`). Anything else is
 * a ConfigError, so a typo is not silently ignored.
 */
export function parseServerFlags(argv: readonly string[]): ServerFlags {
  const flags: ServerFlags = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const inline = /^--role=(.*)$/.exec(arg);
    if (inline) {
      if (!inline[1]) throw new ConfigError('--role needs a value: api, worker or all');
      flags.role = inline[1];
    }
    else if (arg === '--role') {
      const value = argv[i + 1];
      if (value === undefined || value.startsWith('--')) throw new ConfigError('--role needs a value: api, worker or all');
      flags.role = value;
      i++;
    } else throw new ConfigError(`Unknown argument "${arg}". Usage: shortcode [--role api|worker|all]`);
  }
  return flags;
}

export function loadConfig(env: Env = process.env, flags: ServerFlags = {}): Config {
  const nodeEnv = oneOf(env, 'NODE_ENV', ['production', 'development', 'test'] as const, 'development');
  const publicUrl = url(env, 'PUBLIC_URL');
  return {
    env: nodeEnv,
    port: int(env, 'PORT', 3000, 0, 65535),
    host: env.HOST || '127.0.0.1',
    publicUrl: publicUrl?.replace(/\/+$/, ''),
    dataDir: path.resolve(env.DATA_DIR || './data'),
    databaseUrl: url(env, 'DATABASE_URL'),
    databasePoolSize: int(env, 'DATABASE_POOL_SIZE', 10, 1, 1000),
    redisUrl: url(env, 'REDIS_URL'),
    role: flags.role !== undefined ? oneOf({ '--role': flags.role }, '--role', ['api', 'worker', 'all'] as const, 'all') : oneOf(env, 'ROLE', ['api', 'worker', 'all'] as const, 'all'),
    logLevel: oneOf(env, 'LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, nodeEnv === 'test' ? 'silent' : 'info'),
    bodyLimitBytes: int(env, 'BODY_LIMIT_BYTES', 1_048_576, 1024, 1_073_741_824),
    rateLimit: {
      max: int(env, 'RATE_LIMIT_MAX', 60, 1, 1_000_000_000),
      windowMs: int(env, 'RATE_LIMIT_WINDOW_MS', 60_000, 1, 86_400_000),
    },
    newAccountCredits: int(env, 'NEW_ACCOUNT_CREDITS', 10_000, 0, 1_000_000_000),
    webhooksAllowPrivateNetworks: bool(env, 'WEBHOOKS_ALLOW_PRIVATE_NETWORKS', false),
    trustProxy: bool(env, 'TRUST_PROXY', false),
    metricsToken: env.METRICS_TOKEN || undefined,
  };
}
