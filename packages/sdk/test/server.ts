/**
 * A real Shortcode server for the SDK's tests: buildApp over the per-file test database,
 * listening on a free port of 127.0.0.1.
 */
import type { AddressInfo } from 'node:net';
import { Shortcode, type ClientOptions } from '@shortcode/sdk';
import { createAccountWithToken, createTestApp, type TestContext } from '../../../test/helpers.js';

export interface TestServer extends TestContext {
  /** `http://127.0.0.1:<port>` */
  baseUrl: string;
  /** A new account with an all-scopes token, and a client for it. */
  newAccount(scopes?: string[]): Promise<{ token: string; accountId: string; shortCode: string; client: Shortcode }>;
  client(options?: ClientOptions): Shortcode;
}

export async function startServer(env: Record<string, string> = {}): Promise<TestServer> {
  const context = await createTestApp(env);
  await context.app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = context.app.server.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;
  const client = (options: ClientOptions = {}) => new Shortcode({ baseUrl, maxRetries: 0, ...options });
  return {
    ...context,
    baseUrl,
    client,
    async newAccount(scopes) {
      const { token, account } = await createAccountWithToken(context.app, scopes);
      return { token, accountId: account.id, shortCode: account.short_code, client: client({ token }) };
    },
  };
}
