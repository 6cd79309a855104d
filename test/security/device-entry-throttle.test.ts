import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { addressKey } from '../../src/limits/failure-limiter.js';
import { postForm, startServer, type TestServer } from '../helpers/server.js';
import { CookieJar } from '../support/cookie-jar.js';
import { formAction, hiddenField } from '../support/html-form.js';

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

/**
 * /device (RFC 8628 §3.3, §5.1): wrong user codes are limited per browser and per address, never
 * for everyone at once (the global count only shrinks each address's allowance), and an IPv6
 * address counts by its /64. Behind one proxy (TRUST_PROXY=1) the test chooses each request's
 * address with X-Forwarded-For.
 */
describe('device-code entry throttle', () => {
  let server: TestServer;

  before(async () => {
    server = await startServer({
      env: {
        TRUST_PROXY: '1',
        DEVICE_ENTRY_LIMIT_IP: '10',
        // Low, so the flood below passes it: before, every code (valid ones too) then got 429.
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

  it('simultaneous wrong codes from one address: at most the limit are looked up', async () => {
    const statuses = await enter('192.0.2.77', 'CCCC-CCCC', 20);
    const allowed = statuses.filter((s) => s === 400).length;
    assert.equal(statuses.filter((s) => s === 429).length, 20 - allowed, statuses.join(','));
    assert.ok(allowed <= 10, `${allowed} lookups; the per-address limit is 10`);
  });

  it('wrong codes from many addresses past the global count lock nobody out: a valid code from a fresh address works', async () => {
    // Before the global count is reached, an address has its full allowance of 10.
    assert.deepEqual(await enter('198.51.100.200', 'BBBB-BBBB', 3), [400, 400, 400]);
    // 120 wrong codes from 40 addresses (3 each): far past DEVICE_ENTRY_LIMIT_GLOBAL=50.
    for (let a = 0; a < 40; a++) {
      const statuses = await enter(`198.51.100.${a + 1}`, 'BBBB-BBBB', 3);
      assert.ok(
        statuses.every((s) => s === 400 || s === 429),
        statuses.join(','),
      );
    }
    // Past it, a new address gets a tenth of the allowance (1): the guessing slows down…
    assert.deepEqual(await enter('198.51.100.150', 'BBBB-BBBB', 3).then((s) => s.sort()), [400, 429, 429]);
    // …but nobody is locked out: a person elsewhere enters a valid code (the old global bucket: 429).
    assert.deepEqual(await enter('203.0.113.9', await newUserCode()), [303]);
  });

  it('an IPv6 /64 is one address: new addresses in it do not reset the limit, another /64 is separate', async () => {
    // The global count is passed (above): the allowance per address is 1.
    assert.deepEqual(await enter('2001:db8:a:b::1', 'DDDD-DDDD'), [400]);
    assert.deepEqual(await enter('2001:db8:a:b::2', 'DDDD-DDDD'), [429]);
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
