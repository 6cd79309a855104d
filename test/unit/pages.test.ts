import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { pageCsp, registerPages, renderErrorPage, renderPage } from '../../src/interaction/pages.js';
import { describeScopes, fallbackDescription } from '../../src/interaction/scope-descriptions.js';

const XSS = '<script>alert(1)</script>';
const ATTR = '"onmouseover=alert(1) x="';
const NONCE = 'q1w2e3r4t5y6u7i8o9p0aA';

let app: FastifyInstance;

before(async () => {
  app = Fastify({ logger: false });
  await registerPages(app);
  app.get('/t/login', (_req, reply) =>
    renderPage(reply, 'login', {
      clientName: `Evil ${XSS}`,
      action: `/login?a=1&b=${ATTR}`,
      csrf: `csrf${ATTR}`,
      loginHint: `alice${ATTR}`,
    }),
  );
  app.get('/t/login-error', (_req, reply) =>
    renderPage(
      reply,
      'login',
      { clientName: 'Web App', action: '/login', csrf: 'c', error: `The username or password is incorrect. ${XSS}` },
      { status: 401 },
    ),
  );
  app.get('/t/consent', (_req, reply) =>
    renderPage(reply, 'consent', {
      clientName: `Web App ${XSS}`,
      userName: `alice ${ATTR}`,
      scopes: describeScopes(['openid', 'email', 'offline_access', 'api:read', `x${XSS}`, 'https://api.example/orders.read']),
      action: `/consent?id=${ATTR}`,
      csrf: `k${ATTR}`,
    }),
  );
  app.get('/t/consent-resources', (_req, reply) =>
    renderPage(reply, 'consent', {
      clientName: 'Web App',
      userName: 'alice',
      scopes: describeScopes(['openid']),
      resources: [
        {
          name: `Orders API ${XSS}`,
          identifier: `https://orders.example/${ATTR}`,
          scopes: describeScopes(['read', 'write'], new Map([['read', `See your orders ${XSS}`]])),
        },
        { name: 'https://billing.example', identifier: 'https://billing.example', scopes: describeScopes(['read']) },
      ],
      action: '/consent',
      csrf: 'k',
    }),
  );
  app.get('/t/error', (_req, reply) =>
    renderErrorPage(reply, 400, `Unknown client ${XSS}`, `The client ${ATTR} is not registered.`, `req-${XSS}`),
  );
  app.get('/t/info', (_req, reply) => renderErrorPage(reply, 200, 'You are still signed in', 'You chose to stay signed in.'));
  app.get('/t/end-session', (_req, reply) =>
    renderPage(reply, 'end-session', {
      action: '/end_session',
      csrf: `c${ATTR}`,
      clientName: `Web App ${XSS}`,
      hidden: [
        { name: `state${ATTR}`, value: `v${XSS}` },
        { name: 'post_logout_redirect_uri', value: `/after${ATTR}` },
      ],
    }),
  );
  app.get('/t/end-session-bare', (_req, reply) => renderPage(reply, 'end-session', { action: '/end_session', csrf: 'c', hidden: [] }));
  app.get('/t/signed-out', (_req, reply) => renderPage(reply, 'signed-out', { clientName: `Web App ${XSS}` }));
  app.get('/t/signed-out-bare', (_req, reply) => renderPage(reply, 'signed-out', {}));
  app.get('/t/form-post', (_req, reply) =>
    renderPage(
      reply,
      'form-post',
      {
        action: 'https://client.example/cb',
        params: [
          { name: 'code', value: `c${ATTR}` },
          { name: 'state', value: XSS },
          { name: 'iss', value: 'https://issuer.example' },
        ],
        nonce: NONCE,
      },
      { scriptNonce: NONCE },
    ),
  );
  app.get('/t/missing', (_req, reply) => renderPage(reply, 'no-such-template', {}));
  await app.ready();
});

after(() => app.close());

const get = (url: string, headers: Record<string, string> = {}) => app.inject({ method: 'GET', url, headers });
const PAGES = [
  '/t/login',
  '/t/login-error',
  '/t/consent',
  '/t/consent-resources',
  '/t/error',
  '/t/info',
  '/t/end-session',
  '/t/end-session-bare',
  '/t/signed-out',
  '/t/signed-out-bare',
  '/t/form-post',
];

/** Counts matches of a regular expression. */
const count = (s: string, re: RegExp) => [...s.matchAll(new RegExp(re.source, re.flags.includes('g') ? re.flags : re.flags + 'g'))].length;

/** No raw hostile markup: the injected script tag and attribute break-out appear only escaped. */
function assertEscaped(body: string) {
  assert.ok(!body.includes(XSS), 'raw <script> injected');
  assert.ok(!body.includes(ATTR), 'raw attribute break-out injected');
  assert.ok(!/\sonmouseover=/i.test(body), 'an event handler attribute was injected');
  assert.equal(count(body, /<script\b/i), body.includes('id="form-post-response"') ? 1 : 0);
}

describe('pages: headers (docs/security.md item 10)', () => {
  for (const url of PAGES) {
    it(`${url} sends the page headers`, async () => {
      const res = await get(url);
      assert.equal(res.headers['content-type'], 'text/html; charset=utf-8');
      assert.equal(res.headers['x-frame-options'], 'DENY');
      assert.equal(res.headers['referrer-policy'], 'no-referrer');
      assert.equal(res.headers['cache-control'], 'no-store');
      const csp = String(res.headers['content-security-policy']);
      for (const d of ["default-src 'none'", "style-src 'self'", "img-src 'self'", "frame-ancestors 'none'", "base-uri 'none'"]) {
        assert.ok(csp.split('; ').includes(d), `CSP lacks ${d}: ${csp}`);
      }
      assert.ok(!csp.includes('form-action'), 'form-action would block the redirect after a form POST');
      if (url === '/t/form-post') assert.ok(csp.split('; ').includes(`script-src 'nonce-${NONCE}'`));
      else assert.ok(!csp.includes('script-src'), 'no script may run on other pages');
    });
  }

  it('statuses are passed through', async () => {
    assert.equal((await get('/t/login')).statusCode, 200);
    assert.equal((await get('/t/login-error')).statusCode, 401);
    assert.equal((await get('/t/error')).statusCode, 400);
  });

  it('refuses a malformed nonce rather than writing it into the CSP', () => {
    assert.throws(() => pageCsp("x'; script-src *"));
    assert.equal(pageCsp(), "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'");
  });

  it('a template failure gives a plain HTML 500 page, not a stack trace', async () => {
    const res = await get('/t/missing');
    assert.equal(res.statusCode, 500);
    assert.equal(res.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(res.headers['x-frame-options'], 'DENY');
    assert.match(res.body, /Something went wrong/);
    assert.ok(!/no-such-template|at .*\.(ts|js):\d+/.test(res.body));
  });
});

describe('pages: markup', () => {
  for (const url of PAGES) {
    it(`${url} is an accessible, self-contained page with everything escaped`, async () => {
      const { body } = await get(url);
      assert.match(body, /^<!doctype html>\n<html lang="en">/);
      assert.match(body, /<meta name="viewport" content="width=device-width, initial-scale=1">/);
      assert.match(body, /<title>[^<]+ · Latchkey<\/title>/);
      assert.match(body, /<link rel="stylesheet" href="\/assets\/latchkey\.css">/);
      assert.equal(count(body, /<main\b/), 1);
      assert.match(body, /<footer[^>]*>Latchkey<\/footer>/);
      assertEscaped(body);
      // Nothing from other origins: the only absolute URLs are data the test itself supplied (the
      // form_post target and parameters, a URL-shaped scope name), never a resource to load.
      const urls = [...body.matchAll(/(?:https?:)?\/\/[^\s"'<>)]+/gi)].map((m) => m[0]);
      const allowed =
        (
          {
            '/t/form-post': ['https://client.example/cb', 'https://issuer.example'],
            '/t/consent': ['https://api.example/orders.read'],
            '/t/consent-resources': [
              'https://orders.example/&quot;onmouseover=alert(1',
              'https://billing.example',
              'https://billing.example',
            ],
          } as Record<string, string[]>
        )[url] ?? [];
      assert.ok(
        !/\b(?:src|srcset|poster|data)=|<(?:img|iframe|object|embed|link(?![^>]*href="\/assets\/latchkey\.css">))\b/i.test(body),
        'loads nothing but our stylesheet',
      );
      assert.deepEqual(
        urls.filter((u) => !allowed.includes(u)),
        [],
        `foreign URLs in ${url}`,
      );
      // Every visible control has a label bound to it.
      for (const m of body.matchAll(/<input\b[^>]*>/g)) {
        const tag = m[0];
        if (/type="hidden"/.test(tag)) continue;
        const id = /\bid="([^"]+)"/.exec(tag)?.[1];
        assert.ok(id, `input without id: ${tag}`);
        assert.match(body, new RegExp(`<label for="${id}">`));
      }
    });
  }

  it('login: username, password, csrf, exactly one submit button', async () => {
    const { body } = await get('/t/login');
    assert.match(body, /<title>Sign in to Evil &lt;script&gt;alert\(1\)&lt;\/script&gt; · Latchkey<\/title>/);
    assert.match(body, /Sign in to continue to <strong class="client">Evil &lt;script&gt;alert\(1\)&lt;\/script&gt;<\/strong>/);
    assert.equal(count(body, /<form\b/), 1);
    assert.match(body, /<form method="post" action="\/login\?a=1&amp;b=&quot;onmouseover=alert\(1\) x=&quot;"/);
    const username = /<input[^>]*name="username"[^>]*>/.exec(body)?.[0] ?? '';
    assert.match(username, /autocomplete="username"/);
    assert.match(username, /value="alice&quot;onmouseover=alert\(1\) x=&quot;"/);
    const password = /<input[^>]*name="password"[^>]*>/.exec(body)?.[0] ?? '';
    assert.match(password, /type="password"/);
    assert.match(password, /autocomplete="current-password"/);
    assert.ok(!/value=/.test(password), 'a password is never echoed back');
    assert.match(body, /<input type="hidden" name="csrf" value="csrf&quot;onmouseover=alert\(1\) x=&quot;">/);
    assert.equal(count(body, /<button\b/), 1);
    assert.match(body, /<button type="submit"[^>]*>Sign in<\/button>/);
    assert.ok(!body.includes('role="alert"'), 'no error shown without one');
  });

  it('login: the error is shown once, escaped, in role="alert"', async () => {
    const { body } = await get('/t/login-error');
    assert.match(
      body,
      /<p class="alert" role="alert" id="login-error">The username or password is incorrect\. &lt;script&gt;alert\(1\)&lt;\/script&gt;<\/p>/,
    );
    assert.equal(count(body, /role="alert"/), 1);
    assert.match(body, /name="username" type="text" value=""/);
  });

  it('consent: client, user, each scope in words and by name, allow/deny buttons, csrf', async () => {
    const { body } = await get('/t/consent');
    assert.match(body, /<strong class="client">Web App &lt;script&gt;alert\(1\)&lt;\/script&gt;<\/strong>/);
    assert.match(body, /Signed in as <strong>alice &quot;onmouseover=alert\(1\) x=&quot;<\/strong>/);
    // The scope name is shown beside its description (once, when the description is the name).
    const items = [
      ...body.matchAll(/<li><span class="scope-description">([^<]*)<\/span>(?: <code class="scope-name">([^<]*)<\/code>)?<\/li>/g),
    ].map((m) => [m[1], m[2] ?? m[1]]);
    assert.deepEqual(items, [
      ['Confirm your identity', 'openid'],
      ['See your email address', 'email'],
      ['Keep access when you are not using it', 'offline_access'],
      ['api: read', 'api:read'],
      ['x&lt;script&gt;alert(1)&lt;/script&gt;', 'x&lt;script&gt;alert(1)&lt;/script&gt;'],
      ['https://api.example/orders.read', 'https://api.example/orders.read'],
    ]);
    assert.equal(count(body, /<li>/), 6);
    assert.match(body, /<form method="post" action="\/consent\?id=&quot;onmouseover=alert\(1\) x=&quot;">/);
    assert.match(body, /<input type="hidden" name="csrf" value="k&quot;onmouseover=alert\(1\) x=&quot;">/);
    assert.match(body, /<button type="submit" name="decision" value="allow"[^>]*>Allow<\/button>/);
    assert.match(body, /<button type="submit" name="decision" value="deny"[^>]*>Deny<\/button>/);
    assert.equal(count(body, /<button\b/), 2);
  });

  it('consent with resources: each API by name (its identifier beside it when they differ), its scopes in its own words, escaped', async () => {
    const { body } = await get('/t/consent-resources');
    const sections = [...body.matchAll(/<section class="resource"[^>]*>([\s\S]*?)<\/section>/g)].map((m) => m[1]!);
    assert.equal(sections.length, 2);
    assert.match(
      sections[0]!,
      /<h3 id="resource-0">In <span class="resource-name">Orders API &lt;script&gt;alert\(1\)&lt;\/script&gt;<\/span> <code class="resource-identifier">https:\/\/orders\.example\/&quot;onmouseover=alert\(1\) x=&quot;<\/code><\/h3>/,
    );
    assert.match(
      sections[0]!,
      /<span class="scope-description">See your orders &lt;script&gt;alert\(1\)&lt;\/script&gt;<\/span> <code class="scope-name">read<\/code>/,
    );
    assert.match(sections[0]!, /<span class="scope-description">write<\/span><\/li>/, 'no description: the readable name');
    assert.match(
      sections[1]!,
      /<span class="resource-name">https:\/\/billing\.example<\/span><\/h3>/,
      'a name equal to the identifier is shown once',
    );
    assert.match(body, /<span class="scope-description">Confirm your identity<\/span> <code class="scope-name">openid<\/code>/);
  });

  it('error page: title, message and request id, escaped', async () => {
    const { body } = await get('/t/error');
    assert.match(body, /<h1>Unknown client &lt;script&gt;alert\(1\)&lt;\/script&gt;<\/h1>/);
    assert.match(body, /The client &quot;onmouseover=alert\(1\) x=&quot; is not registered\./);
    assert.match(body, /Request ID: <code>req-&lt;script&gt;/);
    assert.match(body, /<main class="card error-page">[\s\S]*Go back to the application/);
  });

  it('error page with a status below 400 is informational', async () => {
    const { body, statusCode } = await get('/t/info');
    assert.equal(statusCode, 200);
    assert.match(body, /<main class="card">\n<h1>You are still signed in<\/h1>/);
    assert.ok(!body.includes('Go back to the application'));
  });

  it('end-session: hidden fields, csrf, logout/cancel buttons', async () => {
    const { body } = await get('/t/end-session');
    assert.match(body, /<h1>Sign out\?<\/h1>/);
    assert.match(body, /<title>Sign out\? · Latchkey<\/title>/);
    assert.match(body, /<strong class="client">Web App &lt;script&gt;/);
    assert.match(
      body,
      /<input type="hidden" name="state&quot;onmouseover=alert\(1\) x=&quot;" value="v&lt;script&gt;alert\(1\)&lt;\/script&gt;">/,
    );
    assert.match(body, /<input type="hidden" name="post_logout_redirect_uri" value="\/after&quot;onmouseover=alert\(1\) x=&quot;">/);
    assert.match(body, /<input type="hidden" name="csrf" value="c&quot;onmouseover/);
    assert.match(body, /<button type="submit" name="decision" value="logout"[^>]*>Sign out<\/button>/);
    assert.match(body, /<button type="submit" name="decision" value="cancel"[^>]*>Stay signed in<\/button>/);
    const bare = (await get('/t/end-session-bare')).body;
    assert.match(bare, /Do you want to sign out of Latchkey\?/);
  });

  it('signed-out page', async () => {
    assert.match((await get('/t/signed-out')).body, /<h1>You are signed out<\/h1>[\s\S]*Web App &lt;script&gt;/);
    assert.match((await get('/t/signed-out-bare')).body, /<h1>You are signed out<\/h1>/);
  });

  it('form_post: hidden inputs, nonce-carrying auto-submit script, <noscript> Continue button', async () => {
    const { body } = await get('/t/form-post');
    assert.match(body, /<form method="post" action="https:\/\/client\.example\/cb" id="form-post-response">/);
    assert.match(body, /<input type="hidden" name="code" value="c&quot;onmouseover=alert\(1\) x=&quot;">/);
    assert.match(body, /<input type="hidden" name="state" value="&lt;script&gt;alert\(1\)&lt;\/script&gt;">/);
    assert.match(body, /<input type="hidden" name="iss" value="https:\/\/issuer\.example">/);
    assert.match(body, /<noscript>[\s\S]*<button type="submit"[^>]*>Continue<\/button>[\s\S]*<\/noscript>/);
    assert.match(body, new RegExp(`<script nonce="${NONCE}">[^<]+</script>`));
  });
});

describe('stylesheet', () => {
  it('is served as text/css, cacheable, with an ETag, and small', async () => {
    const res = await get('/assets/latchkey.css');
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/css\b/);
    assert.equal(res.headers['cache-control'], 'public, max-age=86400');
    const etag = String(res.headers.etag);
    assert.match(etag, /^"[\w-]+"$/);
    assert.ok(res.body.length <= 6 * 1024, `stylesheet is ${res.body.length} bytes`);
    assert.match(res.body, /:focus-visible/);
    assert.ok(!/https?:|@import|url\(/i.test(res.body), 'the stylesheet loads nothing');
    const again = await get('/assets/latchkey.css', { 'if-none-match': etag });
    assert.equal(again.statusCode, 304);
    assert.equal(again.body, '');
  });
});

describe('scope descriptions', () => {
  it('uses plain words for the OpenID Connect scopes', () => {
    const d = Object.fromEntries(
      describeScopes(['openid', 'profile', 'email', 'address', 'phone', 'offline_access']).map((s) => [s.name, s.description]),
    );
    assert.equal(d.openid, 'Confirm your identity');
    assert.match(d.profile!, /profile/i);
    assert.match(d.email!, /email address/);
    assert.match(d.address!, /postal address/);
    assert.match(d.phone!, /phone number/);
    assert.match(d.offline_access!, /not using it/);
  });

  it('uses a resource server description for other scopes, keeps order and drops duplicates', () => {
    const res = new Map([
      ['api:write', 'Change your orders'],
      ['openid', 'misleading'],
    ]);
    assert.deepEqual(describeScopes(['api:write', 'openid', 'api:write', 'reports'], res), [
      { name: 'api:write', description: 'Change your orders' },
      { name: 'openid', description: 'Confirm your identity' },
      { name: 'reports', description: 'reports' },
    ]);
  });

  it('falls back to a readable, honest form of the name', () => {
    assert.equal(fallbackDescription('api:read'), 'api: read');
    assert.equal(fallbackDescription('orders.write'), 'orders: write');
    assert.equal(fallbackDescription('read_reports'), 'read reports');
    assert.equal(fallbackDescription('https://api.example.com/read'), 'https://api.example.com/read');
    assert.equal(fallbackDescription('urn:example:scope'), 'urn:example:scope');
    assert.equal(fallbackDescription('___'), '___');
  });
});
