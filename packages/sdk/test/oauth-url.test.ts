import { createHash } from 'node:crypto';
import { codeChallengeFor, createCodeVerifier, Shortcode } from '@shortcode/sdk';
import { describe, expect, it } from 'vitest';

describe('client.oauth.buildAuthorizationUrl', () => {
  const client = new Shortcode({ baseUrl: 'https://sms.example.com/v1' });

  it('builds the authorize URL with the scopes, state and an S256 PKCE challenge of the returned verifier', async () => {
    const { url, codeVerifier, state } = await client.oauth.buildAuthorizationUrl({
      clientId: 'client-1',
      redirectUri: 'https://app.example.com/callback?from=sms',
      scopes: ['contacts.view', 'messages.create'],
      state: 'xyz',
    });
    const parsed = new URL(url);
    expect(parsed.origin + parsed.pathname).toBe('https://sms.example.com/oauth/authorize');
    expect(Object.fromEntries(parsed.searchParams)).toEqual({
      response_type: 'code',
      client_id: 'client-1',
      redirect_uri: 'https://app.example.com/callback?from=sms',
      scope: 'contacts.view messages.create',
      state: 'xyz',
      code_challenge: createHash('sha256').update(codeVerifier).digest('base64url'),
      code_challenge_method: 'S256',
    });
    expect(state).toBe('xyz');
    expect(codeVerifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('makes a fresh verifier and state each time unless given', async () => {
    const a = await client.oauth.buildAuthorizationUrl({ clientId: 'c', redirectUri: 'https://a.test/cb', scopes: ['contacts.view'] });
    const b = await client.oauth.buildAuthorizationUrl({ clientId: 'c', redirectUri: 'https://a.test/cb', scopes: ['contacts.view'] });
    expect(a.codeVerifier).not.toBe(b.codeVerifier);
    expect(a.state).not.toBe(b.state);
    expect(a.state.length).toBeGreaterThanOrEqual(32);
  });

  it('computes the RFC 7636 example challenge, and refuses a malformed verifier', async () => {
    expect(await codeChallengeFor('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
    expect(createCodeVerifier()).toHaveLength(43);
    await expect(client.oauth.buildAuthorizationUrl({ clientId: 'c', redirectUri: 'https://a.test/cb', scopes: [], codeVerifier: 'short' })).rejects.toThrow(RangeError);
  });
});
