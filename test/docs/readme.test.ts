import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ManualClock } from '../../src/clock.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { formAction, hiddenField } from '../support/html-form.js';
import { UserAgent } from '../support/user-agent.js';
import { readmeExamples, type Example, type Expectation } from './readme-examples.js';
import { ShellSession } from './shell-session.js';

/**
 * Issue 11 item 33: the README's examples run as written, in order, in one shell, against a
 * server started on the quick start's own bootstrap file. Where the README says a person acts
 * (signs in at /authorize, approves a device at /device), a cookie-jar browser does it.
 */
const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const ALICE = { username: 'alice', password: 'correct horse battery staple' };

describe('README examples', () => {
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-readme-'));
  const shell = new ShellSession(dir);
  const clock = new ManualClock();
  let server: TestServer | undefined;
  const browser = new UserAgent();

  after(async () => {
    shell.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The README talks to http://localhost:3000; the suite's server is on a free port. */
  const local = (text: string): string => {
    if (!server) throw new Error('an example talks to the server before the README starts it');
    const port = new URL(server.url).port;
    return text.replaceAll('http://localhost:3000', server.url).replaceAll('localhost%3A3000', `127.0.0.1%3A${port}`);
  };

  /** Signs in on the login page and allows on the consent page, as the README's person does. */
  async function asThePerson(res: Response): Promise<Response> {
    if (!server) throw new Error('no server');
    let r = await browser.follow(res, server.url);
    for (let step = 0; step < 3 && r.status === 200; step++) {
      const html = await r.text();
      if (html.includes('name="password"')) {
        r = await browser.post(formAction(html, server.url), { ...ALICE, csrf: hiddenField(html, 'csrf') });
      } else if (html.includes('name="decision"')) {
        r = await browser.post(formAction(html, server.url), { decision: 'allow', csrf: hiddenField(html, 'csrf') });
      } else return new Response(html, { status: r.status, headers: r.headers });
      r = await browser.follow(r, server.url);
    }
    return r;
  }

  /** A documented URL with `…` standing for any value, as a pattern. */
  const urlPattern = (documented: string): RegExp =>
    new RegExp(
      '^' +
        documented
          .split('…')
          .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
          .join('[^&#]+') +
        '$',
    );

  function checkAnswer(
    ex: Example & { kind: 'shell' },
    expected: Expectation | undefined,
    out: { stdout: string; httpStatuses: number[] },
  ) {
    const where = `README line ${ex.line}: ${ex.command}`;
    const text = out.stdout.trim();
    let body: Record<string, unknown> | undefined;
    if (text.startsWith('{')) body = JSON.parse(text) as Record<string, unknown>;
    if (expected?.error !== undefined) {
      assert.equal(body?.error, expected.error, `${where}\nanswered ${text}`);
      return;
    }
    for (const status of out.httpStatuses) assert.ok(status >= 200 && status < 300, `${where}\nanswered HTTP ${status}: ${text}`);
    assert.equal(body?.error, undefined, `${where}\nanswered ${text}`);
    for (const key of expected?.keys ?? []) assert.ok(body && key in body, `${where}\nthe answer has no "${key}": ${text}`);
    if (expected?.text.includes('empty body')) assert.equal(text, '', `${where}\nanswered ${text}`);
  }

  /** RFC 8628: the person approves the code the device shows, at /device. */
  async function approveDevice(): Promise<void> {
    if (!server) throw new Error('no server');
    const { user_code } = JSON.parse(readFileSync(join(dir, 'device.json'), 'utf8')) as { user_code: string };
    let html = await (await browser.get(`${server.url}/device`)).text();
    const r = await browser.post(formAction(html, server.url), { user_code, csrf: hiddenField(html, 'csrf') });
    // Signs in, then allows on the page that names the client and shows the code.
    html = await (await asThePerson(r)).text();
    assert.match(html, /connected/i, 'the final page says the device is connected');
  }

  it('run as written, in order, against the quick start bootstrap file', async () => {
    const examples = readmeExamples(README);
    const run = examples.filter((e) => e.kind === 'browser' || e.run === 'exec');
    assert.ok(run.length >= 15, `found only ${run.length} runnable examples`);

    for (const ex of examples) {
      if (ex.kind === 'shell' && ex.run === 'skip') continue;
      if (ex.kind === 'shell' && ex.run === 'start-server') {
        const file = /^LATCHKEY_BOOTSTRAP=(\S+)/.exec(ex.command)?.[1] ?? '';
        server = await startServer({ bootstrap: JSON.parse(readFileSync(join(dir, file), 'utf8')), clock });
        continue;
      }
      if (ex.kind === 'browser') {
        const request = local(ex.request.replace(/\$([A-Z_]+)/g, '${$1}'));
        const path = await resolveVariables(request);
        const [status, documented] = ex.result.split(' ');
        const first = await browser.get(`${server?.url ?? ''}${path}`);
        const res = path.startsWith('/authorize') ? await asThePerson(first) : first;
        assert.equal(String(res.status), status, `README line ${ex.line}: GET ${ex.request}`);
        const location = res.headers.get('location') ?? '';
        assert.match(location, urlPattern(local(documented ?? '')), `README line ${ex.line}: GET ${ex.request}`);
        const code = new URL(location).searchParams.get('code');
        if (code !== null) await shell.run(`CODE='${code}'`);
        continue;
      }
      if (!server && !ex.command.startsWith('cat >')) throw new Error(`README line ${ex.line} runs before the server is started`);
      const command = server ? local(ex.command) : ex.command;
      const out = await shell.run(command);
      assert.equal(out.exitCode, 0, `README line ${ex.line}: ${ex.command}\nexit ${out.exitCode}: ${out.stderr}`);
      const assigned = /^([A-Z_]+)=/.exec(ex.command)?.[1];
      if (assigned !== undefined && !ex.command.startsWith(`${assigned}=$(curl`) && ex.command.includes('$(jq')) {
        // ACCESS_TOKEN=$(jq …) REFRESH_TOKEN=$(jq …): every variable it names is set.
        for (const name of ex.command.matchAll(/(?:^|\s)([A-Z_]+)=/g)) {
          const value = await shell.variable(name[1] ?? '');
          assert.ok(value !== '' && value !== 'null', `README line ${ex.line}: ${name[1] ?? ''} is empty`);
        }
        continue;
      }
      if (assigned !== undefined) {
        for (const status of out.httpStatuses) assert.ok(status >= 200 && status < 300, `README line ${ex.line}: HTTP ${status}`);
        const value = await shell.variable(assigned);
        assert.ok(value !== '' && value !== 'null', `README line ${ex.line}: ${assigned} is empty`);
        continue;
      }
      if (!ex.command.startsWith('curl ')) continue; // cat > file <<'EOF' … EOF
      checkAnswer(ex, ex.expect[0], out);
      // The device polls until the person decides (RFC 8628 §3.4): the person approves, the
      // device waits the interval and polls again, and gets the answer documented for approval.
      const approved = ex.expect.find((e) => e.keys.includes('access_token'));
      if (ex.command.includes('grant-type:device_code') && approved) {
        await approveDevice();
        clock.advance(6);
        checkAnswer(ex, approved, await shell.run(command));
      }
    }
  });

  async function resolveVariables(template: string): Promise<string> {
    let out = template;
    for (const m of template.matchAll(/\$\{([A-Z_]+)\}/g)) out = out.replace(m[0], await shell.variable(m[1] ?? ''));
    return out;
  }

  it('finds the examples the README shows (a change to its fences does not silently skip them)', () => {
    const examples = readmeExamples(README);
    const commands = examples.flatMap((e) => (e.kind === 'shell' && e.run === 'exec' ? [e.command] : []));
    for (const grant of ['client_credentials', 'authorization_code', 'refresh_token', 'device_code', 'token-exchange']) {
      assert.ok(
        commands.some((c) => c.includes(grant)),
        `no runnable README example uses ${grant}`,
      );
    }
    assert.ok(commands.some((c) => c.includes('/introspect')));
    assert.ok(commands.some((c) => c.includes('/revoke')));
    assert.ok(commands.some((c) => c.includes('/userinfo')));
    assert.ok(examples.some((e) => e.kind === 'browser' && e.request.startsWith('/end_session')));
  });
});
