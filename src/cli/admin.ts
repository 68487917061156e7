import { parseArgs } from 'node:util';
import { loadConfig } from '../config.js';
import { createServices } from '../container.js';
import { openDatabase } from '../db/database.js';
import { assertEmbeddedDatabaseFree } from '../db/embedded-lock.js';
import { migrateToLatest } from '../db/migrator.js';
import { AppError } from '../lib/errors.js';

/**
 * The operator's admin CLI: talks to the same database as the server (DATABASE_URL, or the
 * embedded database in DATA_DIR while the server is stopped). Prints JSON on stdout and nothing
 * else; errors go to stderr as JSON with a non-zero exit code.
 *
 *   shortcode-admin migrate
 *   shortcode-admin account create --name N --email E --password P [--country US] [--timezone Z]
 *   shortcode-admin account credit --account ID --add N
 *   shortcode-admin token create --account ID --name N [--scopes "a b c"]
 *   shortcode-admin app create --account ID --name N --redirect-uri URI [--redirect-uri URI2] [--public]
 */
const USAGE = `Usage:
  migrate
  account create --name NAME --email EMAIL --password PASSWORD [--country CC] [--timezone ZONE]
  account credit --account ID --add N
  token create --account ID --name NAME [--scopes "scope1 scope2"]
  app create --account ID --name NAME --redirect-uri URI [--redirect-uri URI ...] [--public]`;

class UsageError extends Error {}

type Values = Record<string, string | string[] | boolean | undefined>;
type Handler = (values: Values, services: ReturnType<typeof createServices>) => Promise<unknown>;

const required = (values: Values, name: string): string => {
  const value = values[name];
  if (typeof value !== 'string' || value === '') throw new UsageError(`--${name} is required`);
  return value;
};
const optional = (values: Values, name: string): string | undefined => {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
};

type OptionSpec = { type: 'string' | 'boolean'; multiple?: boolean };

const commands: Record<string, { options: Record<string, OptionSpec>; run: Handler }> = {
  'account create': {
    options: { name: { type: 'string' }, email: { type: 'string' }, password: { type: 'string' }, country: { type: 'string' }, timezone: { type: 'string' } },
    run: async (v, s) => {
      const { account, user } = await s.accounts.create({
        name: required(v, 'name'),
        email: required(v, 'email'),
        password: required(v, 'password'),
        defaultCountry: optional(v, 'country'),
        timezone: optional(v, 'timezone'),
      });
      return { id: account.id, user_id: user.id, short_code: account.short_code };
    },
  },
  'account credit': {
    options: { account: { type: 'string' }, add: { type: 'string' } },
    run: async (v, s) => {
      const amount = Number(required(v, 'add'));
      if (!Number.isSafeInteger(amount)) throw new UsageError('--add must be an integer');
      const row = await s.accounts.addCredits(required(v, 'account'), amount);
      return { id: row.id, credit_balance: row.credit_balance };
    },
  },
  'token create': {
    options: { account: { type: 'string' }, name: { type: 'string' }, scopes: { type: 'string' } },
    run: async (v, s) => {
      const account = await s.accounts.get(required(v, 'account'));
      const scopes = optional(v, 'scopes')?.split(/[\s,]+/).filter(Boolean);
      const token = await s.tokens.issue({ accountId: account.id, userId: null, kind: 'personal', name: required(v, 'name'), scopes });
      return { id: token.id, token: token.token, scopes: token.scopes };
    },
  },
  'app create': {
    options: { account: { type: 'string' }, name: { type: 'string' }, 'redirect-uri': { type: 'string', multiple: true }, public: { type: 'boolean' } },
    run: async (v, s) => {
      const account = await s.accounts.get(required(v, 'account'));
      const redirectUris = Array.isArray(v['redirect-uri']) ? v['redirect-uri'] : [];
      if (redirectUris.length === 0) throw new UsageError('--redirect-uri is required (repeat it for several)');
      const { client, clientSecret } = await s.oauth.createClient({
        accountId: account.id,
        name: required(v, 'name'),
        redirectUris,
        isPublic: v.public === true,
      });
      return { client_id: client.client_id, client_secret: clientSecret };
    },
  },
};

async function main(argv: string[]): Promise<number> {
  const config = loadConfig();
  const words = argv.filter((a) => !a.startsWith('-'));
  if (argv.includes('--help') || argv.length === 0) {
    process.stderr.write(`${USAGE}\n`);
    return argv.length === 0 ? 2 : 0;
  }
  const isMigrate = words[0] === 'migrate';
  const name = isMigrate ? 'migrate' : words.slice(0, 2).join(' ');
  const command = commands[name];
  if (!isMigrate && !command) throw new UsageError(`Unknown command "${words.join(' ')}"`);
  const rest = argv.slice(argv.indexOf(isMigrate ? 'migrate' : words[1]!) + 1);
  const { values } = parseArgs({ args: rest, options: command?.options ?? {}, strict: true, allowPositionals: false });

  if (!config.databaseUrl) assertEmbeddedDatabaseFree(config.dataDir);
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: 2 });
  try {
    const applied = await migrateToLatest(database.db);
    const result = isMigrate ? { applied } : await command!.run(values as Values, createServices(database.db, config));
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return 0;
  } finally {
    await database.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    const error =
      err instanceof AppError
        ? { error: err.message, status: err.status, errors: err.errors }
        : { error: err instanceof Error ? err.message : String(err) };
    process.stderr.write(`${JSON.stringify(error)}\n`);
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) process.stderr.write(`${USAGE}\n`);
    process.exit(err instanceof UsageError ? 2 : 1);
  },
);
