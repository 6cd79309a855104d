import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { addressKey } from '../../src/limits/failure-limiter.js';
import { postForm, startServer, type TestServer } from '../helpers/server.js';
import { CookieJar } from '../support/cookie-jar.js';
import { formAction, hiddenField } from '../support/html-form.js';

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

/**
 * /device (RFC 8628 §3.3, §5.1): wrong user codes are limited per browser and per address, never
 * for everyone at once, and an IPv6 address counts by its /64. Behind one proxy (TRUST_PROXY=1)
 * the test chooses each request's address with X-Forwarded-For.
 */
describe('device-code entry throttle', () => {
  let server: TestServer;

  before(async () => {
    server = await startServer({
      env: {
        TRUST_PROXY: '1',
        DEVICE_ENTRY_LIMIT_IP: '3',
        // The old global bucket, set low: it no longer exists, so it can lock nobody out.
        DEVICE_ENTRY_LIMIT_GLOBAL: '50',
      },
      bootstrap: {
        clients: [{ client_id: 'tv', token_endpoint_auth_method: 'none', grant_types: [DEVICE_GRANT], scope: 'openid' }],
      },
    });
  });
  after(() => server.close());

  /** A fresh browser at `address`: opens /device, then submits `userCode` `times` times at once. */
  async function enter(address: string, userCode: string, times = 1): Promise<number[]> {
    const jar = new CookieJar();
    const headers = () => ({ 'x-forwarded-for': address, ...jar.headers() });
    const page = await fetch(`${server.url}/device`, { headers: headers() });
    jar.store(page.headers.getSetCookie());
    const html = await page.text();
    const action = formAction(html, server.url);
    const csrf = hiddenField(html, 'csrf');
    const answers = await Promise.all(
      Array.from({ length: times }, () =>
        fetch(action, {
          method: 'POST',
          redirect: 'manual',
          headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers() },
          body: new URLSearchParams({ user_code: userCode, csrf }).toString(),
        }),
      ),
    );
    await Promise.all(answers.map((a) => a.text()));
    return answers.map((a) => a.status);
  }

  const newUserCode = async () => {
    const r = await postForm(`${server.url}/device_authorization`, { client_id: 'tv', scope: 'openid' });
    assert.equal(r.status, 200);
    return r.body.user_code as string;
  };

  it('120 wrong codes from 40 addresses lock nobody else out: a valid code from a fresh address works', async () => {
    for (let a = 0; a < 40; a++) {
      const statuses = await enter(`198.51.100.${a + 1}`, 'BBBB-BBBB', 3);
      assert.deepEqual(statuses, [400, 400, 400]);
    }
    // Each attacking address is now at its limit…
    assert.deepEqual(await enter('198.51.100.1', 'BBBB-BBBB'), [429]);
    // …and a person elsewhere is not affected (the old global bucket of 50 refused them: 429).
    assert.deepEqual(await enter('203.0.113.9', await newUserCode()), [303]);
  });

  it('simultaneous wrong codes from one address: at most the limit are looked up', async () => {
    const statuses = await enter('192.0.2.77', 'CCCC-CCCC', 20);
    assert.equal(statuses.filter((s) => s === 400).length, 3, statuses.join(','));
    assert.equal(statuses.filter((s) => s === 429).length, 17, statuses.join(','));
  });

  it('an IPv6 /64 is one address: new addresses in it do not reset the limit, another /64 is separate', async () => {
    for (const host of ['1', '2', '3']) assert.deepEqual(await enter(`2001:db8:a:b::${host}`, 'DDDD-DDDD'), [400]);
    assert.deepEqual(await enter('2001:db8:a:b:ffff:ffff:ffff:fffe', 'DDDD-DDDD'), [429]);
    assert.deepEqual(await enter('2001:db8:a:c::1', 'DDDD-DDDD'), [400]);
  });

  it('addressKey: IPv4 as is, IPv4-mapped as IPv4, IPv6 by its /64', () => {
    assert.equal(addressKey('192.0.2.1'), '192.0.2.1');
    assert.equal(addressKey('::ffff:192.0.2.1'), '192.0.2.1');
    assert.equal(addressKey('2001:db8:a:b::1'), '2001:db8:a:b::/64');
    assert.equal(addressKey('2001:0DB8:000a:000b:1:2:3:4'), '2001:db8:a:b::/64');
    assert.equal(addressKey('2001:db8::1'), '2001:db8:0:0::/64');
    assert.equal(addressKey('::1'), '0:0:0:0::/64');
    assert.equal(addressKey('fe80::1%eth0'), 'fe80:0:0:0::/64');
    assert.equal(addressKey('64:ff9b::192.0.2.1'), '64:ff9b:0:0::/64');
  });
});
