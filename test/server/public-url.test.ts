/** KEYWARD_PUBLIC_URL: Keyward's public base URL, which ZenML's /api/v1/info reports as server_url. */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/server/config.js';

describe('KEYWARD_PUBLIC_URL', () => {
  it('is unset by default (ZenML /info then answers "")', () => {
    expect(loadConfig({}).publicUrl).toBeNull();
    expect(loadConfig({ KEYWARD_PUBLIC_URL: '  ' }).publicUrl).toBeNull();
  });

  it('keeps an http(s) URL without its trailing slashes', () => {
    expect(loadConfig({ KEYWARD_PUBLIC_URL: 'https://keyward.example.com/' }).publicUrl).toBe('https://keyward.example.com');
    expect(loadConfig({ KEYWARD_PUBLIC_URL: 'http://10.0.0.5:8080/keyward//' }).publicUrl).toBe('http://10.0.0.5:8080/keyward');
  });

  it('refuses anything else at start, naming the setting', () => {
    expect(() => loadConfig({ KEYWARD_PUBLIC_URL: 'keyward.example.com' })).toThrow(/KEYWARD_PUBLIC_URL/);
    expect(() => loadConfig({ KEYWARD_PUBLIC_URL: 'ftp://keyward.example.com' })).toThrow(/KEYWARD_PUBLIC_URL/);
  });
});
