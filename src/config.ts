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
  /** CPU priority (nice, 0-19) a ROLE=worker process takes, so API processes on its host answer first. */
  workerNice: number;
  logLevel: string;
  bodyLimitBytes: number;
  rateLimit: { max: number; windowMs: number };
  newAccountCredits: number;
  /** Finished messages older than this many days are deleted by a background job; 0 keeps them all. */
  messageRetentionDays: number;
  webhooksAllowPrivateNetworks: boolean;
  trustProxy: boolean;
  messaging: MessagingConfig;
  /** When set, GET /metrics requires `Authorization: Bearer <token>`. */
  metricsToken: string | undefined;
  /**
   * The 32-byte key that encrypts secrets stored in the database (webhook signing secrets).
   * Undefined when SECRETS_KEY is unset: the server then keeps a generated key in
   * DATA_DIR/secrets.key (see src/lib/secret-box.ts); production with DATABASE_URL requires it.
   */
  secretsKey: Buffer | undefined;
  webhooks: WebhooksConfig;
  /** Contacts per campaign fan-out statement (one transaction each). */
  campaignFanOutBatchSize: number;
  /** Limits of one contact import (POST /v1/contacts/import): rows, and bytes of the upload (413 beyond). */
  imports: { maxRows: number; maxBytes: number };
  /** How long a claimed background job stays claimed without a heartbeat (a dead worker's jobs wait this long). */
  jobLeaseMs: number;
}

/** Webhook delivery (issue 6). */
export interface WebhooksConfig {
  /** Deliveries one worker process has in flight at once. */
  concurrency: number;
  /** Deliveries in flight per endpoint across all worker processes (enforced in the claim query). */
  maxInFlightPerEndpoint: number;
  /** Deadline of one attempt, from DNS resolution to the last byte read. */
  timeoutMs: number;
  /** Delivery reports of one account created within this window are merged into one payload. */
  batchWindowMs: number;
  /** How long a claimed delivery stays with its worker; after that (a dead worker) it is due again. */
  leaseMs: number;
}

/** The SMS transport and the dispatcher (issue 4). */
export interface MessagingConfig {
  /** `simulator` (default) or `smpp` (chosen automatically when SMPP_HOST is set). */
  transport: 'simulator' | 'smpp';
  smpp: {
    host: string;
    port: number;
    systemId: string;
    password: string;
    systemType: string | undefined;
    window: number;
    throughputPerSecond: number;
    enquireLinkIntervalMs: number;
    responseTimeoutMs: number;
  };
  /** Delay before the simulator reports delivery (reports arrive within this time). */
  simulatorReportDelayMs: number;
  /** Messages a dispatcher claims at once. */
  dispatchBatchSize: number;
  /** Dispatch loops per worker process. */
  dispatchConcurrency: number;
  /** Messages per second per sender (short code) per worker process; 0 = unlimited. */
  senderRatePerSecond: number;
  /** Transient failures are retried with backoff this many times before the message fails. */
  maxSendAttempts: number;
  /** How long a claimed message stays leased to a worker before another may take it. */
  dispatchLeaseMs: number;
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

/** SECRETS_KEY: 32 bytes as 64 hexadecimal characters or as base64 (standard or URL-safe). */
export function parseSecretsKey(raw: string): Buffer {
  const text = raw.trim();
  let key: Buffer | undefined;
  if (/^[0-9a-fA-F]{64}$/.test(text)) key = Buffer.from(text, 'hex');
  else if (/^[A-Za-z0-9+/_-]{43}=?$/.test(text)) key = Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (key === undefined || key.length !== 32) {
    throw new ConfigError('SECRETS_KEY must be 32 bytes, as 64 hexadecimal characters or base64 (generate one with: openssl rand -base64 32)');
  }
  return key;
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
  const databaseUrl = url(env, 'DATABASE_URL');
  const secretsKey = env.SECRETS_KEY ? parseSecretsKey(env.SECRETS_KEY) : undefined;
  if (!secretsKey && databaseUrl && nodeEnv === 'production') {
    throw new ConfigError(
      'SECRETS_KEY is required in production with DATABASE_URL: every process must encrypt and decrypt stored secrets with the same key (generate one with: openssl rand -base64 32)',
    );
  }
  const webhooksTimeout = int(env, 'WEBHOOKS_TIMEOUT_MS', 15_000, 100, 120_000);
  const webhooksLease = int(env, 'WEBHOOKS_LEASE_MS', webhooksTimeout * 2 + 30_000, 200, 3_600_000);
  if (webhooksLease <= webhooksTimeout) throw new ConfigError('WEBHOOKS_LEASE_MS must be longer than WEBHOOKS_TIMEOUT_MS');
  return {
    env: nodeEnv,
    port: int(env, 'PORT', 3000, 0, 65535),
    host: env.HOST || '127.0.0.1',
    publicUrl: publicUrl?.replace(/\/+$/, ''),
    dataDir: path.resolve(env.DATA_DIR || './data'),
    databaseUrl,
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
    messageRetentionDays: int(env, 'MESSAGE_RETENTION_DAYS', 0, 0, 36_500),
    webhooksAllowPrivateNetworks: bool(env, 'WEBHOOKS_ALLOW_PRIVATE_NETWORKS', false),
    trustProxy: bool(env, 'TRUST_PROXY', false),
    metricsToken: env.METRICS_TOKEN || undefined,
    secretsKey,
    webhooks: {
      concurrency: int(env, 'WEBHOOKS_CONCURRENCY', 64, 1, 10_000),
      maxInFlightPerEndpoint: int(env, 'WEBHOOKS_MAX_IN_FLIGHT_PER_ENDPOINT', 16, 1, 1_000),
      timeoutMs: webhooksTimeout,
      batchWindowMs: int(env, 'WEBHOOKS_BATCH_WINDOW_MS', 1_000, 0, 60_000),
      leaseMs: webhooksLease,
    },
    messaging: loadMessagingConfig(env),
    campaignFanOutBatchSize: int(env, 'CAMPAIGN_FANOUT_BATCH_SIZE', 10_000, 100, 100_000),
    imports: {
      maxRows: int(env, 'IMPORT_MAX_ROWS', 1_000_000, 1, 1_000_000),
      maxBytes: int(env, 'IMPORT_MAX_BYTES', 1_073_741_824, 1024, 1_073_741_824),
    },
    jobLeaseMs: int(env, 'JOB_LEASE_MS', 60_000, 3_000, 3_600_000),
    workerNice: int(env, 'WORKER_NICE', 10, 0, 19),
  };
}

function loadMessagingConfig(env: Env): MessagingConfig {
  const smppHost = env.SMPP_HOST || '';
  const transport = oneOf(env, 'SMS_TRANSPORT', ['simulator', 'smpp'] as const, smppHost ? 'smpp' : 'simulator');
  if (transport === 'smpp' && !smppHost) throw new ConfigError('SMS_TRANSPORT=smpp needs SMPP_HOST');
  if (transport === 'smpp' && !env.SMPP_SYSTEM_ID) throw new ConfigError('SMS_TRANSPORT=smpp needs SMPP_SYSTEM_ID');
  return {
    transport,
    smpp: {
      host: smppHost,
      port: int(env, 'SMPP_PORT', 2775, 1, 65535),
      systemId: env.SMPP_SYSTEM_ID || '',
      password: env.SMPP_PASSWORD || '',
      systemType: env.SMPP_SYSTEM_TYPE || undefined,
      window: int(env, 'SMPP_WINDOW', 10, 1, 1000),
      throughputPerSecond: int(env, 'SMPP_THROUGHPUT_PER_SECOND', 0, 0, 100_000),
      enquireLinkIntervalMs: int(env, 'SMPP_ENQUIRE_LINK_MS', 30_000, 1000, 3_600_000),
      responseTimeoutMs: int(env, 'SMPP_RESPONSE_TIMEOUT_MS', 10_000, 100, 600_000),
    },
    simulatorReportDelayMs: int(env, 'SIMULATOR_REPORT_DELAY_MS', 500, 0, 60_000),
    dispatchBatchSize: int(env, 'DISPATCH_BATCH_SIZE', 1000, 1, 10_000),
    dispatchConcurrency: int(env, 'DISPATCH_CONCURRENCY', 2, 1, 64),
    senderRatePerSecond: int(env, 'SENDER_RATE_PER_SECOND', 0, 0, 1_000_000),
    maxSendAttempts: int(env, 'MAX_SEND_ATTEMPTS', 10, 1, 100),
    dispatchLeaseMs: int(env, 'DISPATCH_LEASE_MS', 60_000, 1000, 3_600_000),
  };
}
