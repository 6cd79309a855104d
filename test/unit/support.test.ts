import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseBasicCredentials } from '../../src/client-auth/client-secret-basic.js';
import { basicAuth } from '../support/basic-auth.js';
import { CookieJar } from '../support/cookie-jar.js';
import { childEnv, flagSetting, intSetting, listSetting, SettingError } from '../support/env.js';
import { findHiddenField, formAction, hiddenField } from '../support/html-form.js';
import { pkcePair, s256Challenge } from '../support/pkce.js';

/** test/support is what the tests, the benchmark and the soak all rely on: a bug there hides bugs everywhere. */
describe('test/support', () => {
  it('CookieJar keeps the latest value and drops cookies that Max-Age <= 0 or a past Expires removes (RFC 6265 §5.3)', () => {
    const jar = new CookieJar();
    jar.store(['a=1; Path=/; HttpOnly', 'b=2; Max-Age=600', 'c=3', '=nameless', 'noequals']);
    assert.equal(jar.header(), 'a=1; b=2; c=3');
    jar.store(['a=4', 'b=; Max-Age=0', 'c=x; Expires=Thu, 01 Jan 1970 00:00:00 GMT']);
    assert.equal(jar.header(), 'a=4');
    jar.store([
      'd=5; Max-Age=-1',
      'e=6; Expires=Fri, 01 Jan 2100 00:00:00 GMT; Max-Age=0',
      'f=7; Max-Age=10; Expires=Thu, 01 Jan 1970 00:00:00 GMT',
    ]);
    assert.deepEqual(jar.headers(), { cookie: 'a=4; f=7' }, 'Max-Age wins over Expires');
    assert.deepEqual(new CookieJar().headers(), {});
  });

  it('hiddenField reads an input by name in either attribute order and unescapes entities once', () => {
    const html =
      '<form method="post" action="/interaction/a&amp;b/login"><input type="hidden" name="csrf" value="x&amp;lt;y&quot;">' +
      '<input value="ABCD-EFGH" name="user_code"><input name="csrf_extra" value="no"></form>';
    assert.equal(hiddenField(html, 'csrf'), 'x&lt;y"');
    assert.equal(hiddenField(html, 'user_code'), 'ABCD-EFGH');
    assert.equal(findHiddenField(html, 'state'), undefined);
    assert.throws(() => hiddenField(html, 'state'), /no field state/);
    assert.equal(formAction(html, 'http://127.0.0.1:3000'), 'http://127.0.0.1:3000/interaction/a&b/login');
  });

  it('basicAuth encodes as RFC 6749 §2.3.1 says, and the server decodes it back', () => {
    for (const [id, secret] of [
      ['svc', 'plain'],
      ['a:b', 'p:w d+%'],
      ['é', 'ü'],
    ] as const)
      assert.deepEqual(parseBasicCredentials(basicAuth(id, secret)), { clientId: id, secret });
  });

  it('pkcePair: a 43-character verifier and its S256 challenge (RFC 7636 Appendix B vector)', () => {
    assert.equal(s256Challenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'), 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
    const { verifier, challenge } = pkcePair();
    assert.match(verifier, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(challenge, s256Challenge(verifier));
  });

  it('settings: whole numbers in range, on/off flags, known ids; anything else is a SettingError naming the variable', () => {
    assert.equal(intSetting({}, 'N', 3, 1, 10), 3);
    assert.equal(intSetting({ N: ' ' }, 'N', 3, 1, 10), 3);
    assert.equal(intSetting({ N: '10' }, 'N', 3, 1, 10), 10);
    for (const bad of ['11', '0', '1.5', 'x']) assert.throws(() => intSetting({ N: bad }, 'N', 3, 1, 10), SettingError, bad);
    assert.equal(flagSetting({ F: 'YES' }, 'F'), true);
    assert.equal(flagSetting({ F: '0' }, 'F'), false);
    assert.throws(() => flagSetting({ F: 'maybe' }, 'F'), /F must be 1, true or yes/);
    assert.deepEqual(listSetting({ L: 'a, b,,' }, 'L', ['a', 'b']), ['a', 'b']);
    assert.throws(() => listSetting({ L: 'a,z' }, 'L', ['a', 'b']), /unknown id\(s\) z/);
    assert.deepEqual(childEnv({ PATH: '/bin', DATABASE_URL: 'postgres://x', LATCHKEY_SECRET: 's' }, { PORT: '1' }), {
      PATH: '/bin',
      PORT: '1',
    });
  });
});
