import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { matchRedirectUri } from '../../src/oauth/redirect-uri.js';

const WEB = 'https://app.example.com/cb?tenant=a';
const LOOPBACK = 'http://127.0.0.1/callback';
const LOOPBACK6 = 'http://[::1]:8080/callback';

describe('redirect URI matching (RFC 9700 §4.1.3: exact string comparison)', () => {
  it('matches a registered URI exactly, and nothing else that a normaliser would call the same', () => {
    assert.equal(matchRedirectUri([WEB], WEB), true);
    for (const near of [
      'https://APP.example.com/cb?tenant=a', // case of the host
      'HTTPS://app.example.com/cb?tenant=a', // case of the scheme
      'https://app.example.com/cb/?tenant=a', // trailing slash
      'https://app.example.com/cb?tenant=a&x=1', // an added query parameter
      'https://app.example.com/cb', // the query left out
      'https://app.example.com/./cb?tenant=a', // dot segment
      'https://app.example.com/%63b?tenant=a', // percent-encoding of an unreserved character
      'https://app.example.com:443/cb?tenant=a', // the default port spelt out
      'https://app.example.com/cb?tenant=a#frag', // a fragment
      'https://app.example.com.evil.example/cb?tenant=a', // a longer host
      'https://app.example.com/cb?tenant=A',
    ])
      assert.equal(matchRedirectUri([WEB], near), false, near);
  });

  it('matches any of several registered URIs, and none when nothing is registered', () => {
    assert.equal(matchRedirectUri(['https://a.example/cb', WEB], WEB), true);
    assert.equal(matchRedirectUri([], WEB), false);
  });

  it('lets a native app use any port on a loopback IP literal (RFC 8252 §7.3), path and query still exact', () => {
    assert.equal(matchRedirectUri([LOOPBACK], 'http://127.0.0.1:51234/callback'), true);
    assert.equal(matchRedirectUri([LOOPBACK], 'http://127.0.0.1:1/callback'), true);
    assert.equal(matchRedirectUri(['http://127.0.0.1:8080/callback'], 'http://127.0.0.1/callback'), true);
    assert.equal(matchRedirectUri([LOOPBACK6], 'http://[::1]:40000/callback'), true);
    assert.equal(matchRedirectUri(['http://127.0.0.1/cb?x=1'], 'http://127.0.0.1:9/cb?x=1'), true);

    assert.equal(matchRedirectUri([LOOPBACK], 'http://127.0.0.1:51234/other'), false);
    assert.equal(matchRedirectUri([LOOPBACK], 'http://127.0.0.1:51234/callback/'), false);
    assert.equal(matchRedirectUri(['http://127.0.0.1/cb?x=1'], 'http://127.0.0.1:9/cb?x=2'), false);
    // The IPv4 and IPv6 loopback are different hosts.
    assert.equal(matchRedirectUri([LOOPBACK], 'http://[::1]:51234/callback'), false);
  });

  it('gives the port exception only to the IP literals, never to localhost, https or other hosts (RFC 8252 §8.3)', () => {
    assert.equal(matchRedirectUri(['http://localhost/callback'], 'http://localhost:51234/callback'), false);
    assert.equal(matchRedirectUri(['https://127.0.0.1/callback'], 'https://127.0.0.1:51234/callback'), false);
    assert.equal(matchRedirectUri(['http://127.0.0.2/callback'], 'http://127.0.0.2:51234/callback'), false);
    assert.equal(matchRedirectUri(['http://app.example.com/cb'], 'http://app.example.com:8080/cb'), false);
    // The registered URI must be a loopback one too: a requested loopback URI does not match a web one.
    assert.equal(matchRedirectUri([WEB], 'http://127.0.0.1:51234/cb?tenant=a'), false);
  });

  it('refuses loopback lookalikes: userinfo, a fragment, a port that is not a number', () => {
    assert.equal(matchRedirectUri([LOOPBACK], 'http://evil.example@127.0.0.1:5000/callback'), false);
    assert.equal(matchRedirectUri([LOOPBACK], 'http://127.0.0.1:5000/callback#x'), false);
    assert.equal(matchRedirectUri([LOOPBACK], 'http://127.0.0.1:abc/callback'), false);
    assert.equal(matchRedirectUri([LOOPBACK], 'http://127.0.0.1:123456/callback'), false);
    assert.equal(matchRedirectUri([LOOPBACK], 'http://127.0.0.1.evil.example:5000/callback'), false);
  });
});
