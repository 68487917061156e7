import { describe, expect, it } from 'vitest';
import { MAX_WEBHOOK_URL_LENGTH, isForbiddenAddress, validateWebhookUrl } from './webhook-url-policy.js';

describe('isForbiddenAddress', () => {
  it.each([
    '127.0.0.1',
    '127.255.255.254',
    '0.0.0.0',
    '0.1.2.3',
    '10.0.0.1',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '169.254.0.1',
    '100.64.0.1',
    '100.127.255.255',
    '224.0.0.1',
    '239.255.255.250',
    '255.255.255.255',
    '240.0.0.1',
    '192.0.0.192',
    '198.18.0.1',
    '::',
    '::1',
    '[::1]',
    'fc00::1',
    'fd00:ec2::254',
    'fe80::1',
    'fe80::1%eth0',
    'febf::1',
    'ff02::1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:169.254.169.254',
    '::ffff:10.0.0.1',
    '0:0:0:0:0:ffff:127.0.0.1',
    '::ffff:0:127.0.0.1',
    '::ffff:0:a9fe:a9fe',
    '3fff::1',
    '4000::1',
    '100::1',
    '::2',
    '::127.0.0.1',
    '64:ff9b::7f00:1',
    '64:ff9b::10.1.2.3',
    '2002:7f00:1::1',
    '2002:a9fe:a9fe::',
    '2001::1',
    '2001:db8::1',
  ])('refuses %s', (ip) => {
    expect(isForbiddenAddress(ip)).toBe(true);
  });

  it.each([
    '8.8.8.8',
    '1.1.1.1',
    '93.184.216.34',
    '172.15.255.255',
    '172.32.0.1',
    '100.63.255.255',
    '100.128.0.1',
    '169.253.1.1',
    '223.255.255.255',
    '2606:4700:4700::1111',
    '2a00:1450:4001:80b::200e',
    '::ffff:8.8.8.8',
    '64:ff9b::808:808',
    '2002:808:808::1',
    '2001:4860:4860::8888',
  ])('allows public %s', (ip) => {
    expect(isForbiddenAddress(ip)).toBe(false);
  });

  it('fails closed on things that are not IP literals', () => {
    for (const value of ['', 'localhost', 'example.com', '2130706433', '0x7f.0.0.1', '1::2::3', '::gggg', '127.1']) {
      expect(isForbiddenAddress(value)).toBe(true);
    }
  });

  it('allows everything when private networks are allowed', () => {
    expect(isForbiddenAddress('127.0.0.1', { allowPrivateNetworks: true })).toBe(false);
    expect(isForbiddenAddress('169.254.169.254', { allowPrivateNetworks: true })).toBe(false);
    expect(isForbiddenAddress('::1', { allowPrivateNetworks: true })).toBe(false);
  });
});

describe('validateWebhookUrl', () => {
  const refused = (raw: string, allowPrivateNetworks = false) => {
    const result = validateWebhookUrl(raw, { allowPrivateNetworks });
    expect(result.ok, raw).toBe(false);
    return result.ok ? '' : result.reason;
  };

  it('accepts public http and https URLs', () => {
    for (const raw of [
      'https://example.com/hooks/sms',
      'http://example.com:8080/x?y=1',
      'https://8.8.8.8/',
      'https://[2606:4700:4700::1111]/in',
    ]) {
      const result = validateWebhookUrl(raw);
      expect(result.ok, raw).toBe(true);
    }
  });

  it('refuses other schemes', () => {
    for (const raw of [
      'javascript:alert(1)',
      'file:///etc/passwd',
      'data:text/plain,hello',
      'ftp://example.com/x',
      'gopher://example.com/',
      'ws://example.com/',
    ]) {
      expect(refused(raw)).toMatch(/http or https/);
    }
  });

  it('refuses unparsable, empty, whitespace and over-long URLs', () => {
    refused('');
    refused('not a url');
    refused('https://');
    refused(' https://example.com/');
    refused('https://exa mple.com/');
    refused('https://example.com/\n');
    const long = 'https://example.com/' + 'a'.repeat(MAX_WEBHOOK_URL_LENGTH);
    expect(refused(long)).toMatch(/longer than 2048/);
    expect(validateWebhookUrl('https://example.com/' + 'a'.repeat(2048 - 20)).ok).toBe(true);
  });

  it('refuses credentials in the URL', () => {
    expect(refused('https://user:pass@example.com/')).toMatch(/credentials/);
    expect(refused('https://user@example.com/')).toMatch(/credentials/);
    expect(refused('https://:pass@example.com/')).toMatch(/credentials/);
  });

  it('refuses private addresses, including the encodings WHATWG URL normalises to them', () => {
    for (const raw of [
      'http://127.0.0.1/',
      'http://localhost:3000/',
      'http://LOCALHOST./',
      'http://api.localhost/',
      'http://%6c%6f%63alhost/',
      'http://2130706433/',
      'http://0x7f.0.0.1/',
      'http://0x7f000001/',
      'http://0177.0.0.1/',
      'http://127.1/',
      'http://0/',
      'http://169.254.169.254/latest/meta-data/',
      'http://[::1]/',
      'http://[::ffff:127.0.0.1]/',
      'http://[::ffff:a9fe:a9fe]/',
      'http://[fd00:ec2::254]/',
      'http://[fe80::1]/',
      'http://10.1.2.3/',
      'http://192.168.0.1/',
      'http://100.64.1.1/',
      'http://255.255.255.255/',
    ]) {
      expect(refused(raw)).toMatch(/private or reserved/);
    }
  });

  it('allows private addresses when the operator allows private networks', () => {
    for (const raw of ['http://127.0.0.1:8080/hook', 'http://localhost/', 'http://[::1]/', 'http://10.0.0.5/']) {
      expect(validateWebhookUrl(raw, { allowPrivateNetworks: true }).ok, raw).toBe(true);
    }
    // Scheme and credential rules still hold.
    refused('file:///etc/passwd', true);
    refused('http://u:p@127.0.0.1/', true);
  });

  it('returns the parsed URL', () => {
    const result = validateWebhookUrl('https://Example.COM/a/../b');
    expect(result.ok && result.url.href).toBe('https://example.com/b');
  });
});
