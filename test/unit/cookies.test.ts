import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCookies, serializeCookie } from '../../src/interaction/cookies.js';

describe('cookies (RFC 6265)', () => {
  it('parses a Cookie header into names and values, trimming the spaces around them', () => {
    assert.deepEqual(
      [...parseCookies('a=1; b=two;c=x=y')],
      [
        ['a', '1'],
        ['b', 'two'],
        ['c', 'x=y'],
      ],
    );
  });

  it('keeps the first of two cookies with one name (§5.4: the more specific path comes first)', () => {
    assert.equal(parseCookies('lk_session=first; lk_session=second').get('lk_session'), 'first');
  });

  it('skips pairs without a name or "=", and an absent or empty header is no cookies', () => {
    assert.deepEqual([...parseCookies('=v; novalue; ok=1; ;')], [['ok', '1']]);
    assert.equal(parseCookies(undefined).size, 0);
    assert.equal(parseCookies('').size, 0);
  });

  it('keeps an empty value', () => {
    assert.equal(parseCookies('a=').get('a'), '');
  });

  it('serialises with Path=/ and SameSite=Lax, HttpOnly unless turned off, Secure and Max-Age when asked', () => {
    assert.equal(serializeCookie('lk', 'v', { secure: false }), 'lk=v; Path=/; SameSite=Lax; HttpOnly');
    assert.equal(
      serializeCookie('__Host-lk', 'v', { secure: true, maxAge: 600 }),
      '__Host-lk=v; Path=/; SameSite=Lax; HttpOnly; Secure; Max-Age=600',
    );
    assert.equal(
      serializeCookie('lk', '', { secure: false, maxAge: 0, path: '/interaction', httpOnly: false }),
      'lk=; Path=/interaction; SameSite=Lax; Max-Age=0',
    );
  });

  it('round-trips what it sets', () => {
    const set = serializeCookie('lk_browser', 'AbC-_123', { secure: true });
    const pair = set.split(';')[0]!;
    assert.equal(parseCookies(pair).get('lk_browser'), 'AbC-_123');
  });
});
