import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ERROR_DESCRIPTION_CHARS, publicErrorDescription, requestInputs, SENT_VALUE } from '../../src/oauth/error-description.js';
import { OAuthError } from '../../src/oauth/errors.js';

describe('error_description: RFC 6749 §5.2 characters, no request values repeated back', () => {
  it('keeps plain ASCII text as it is', () => {
    assert.equal(publicErrorDescription('the code has expired; start again'), 'the code has expired; start again');
  });

  it('replaces the characters §5.2 excludes: ", \\ and anything outside printable ASCII', () => {
    const out = publicErrorDescription('the "scope" parameter \\ is repeated — see RFC 9700 §2.4 → use PKCE… naïve\u0007\n');
    assert.match(out, ERROR_DESCRIPTION_CHARS);
    assert.equal(out, "the 'scope' parameter / is repeated - see RFC 9700 section 2.4 -> use PKCE... na?ve? ");
  });

  it('does not repeat a value the request sent, whole or as one scope token', () => {
    const inputs = requestInputs({ scope: 'api:read ev"il', resource: ['https://x.example/ü'] }, { state: 'abc' });
    assert.deepEqual(inputs, ['api:read ev"il', 'https://x.example/ü', 'abc']);
    const out = publicErrorDescription('scope "ev"il" is not registered; resource "https://x.example/ü" is unknown', inputs);
    assert.equal(out, `scope ${SENT_VALUE} is not registered; resource ${SENT_VALUE} is unknown`);
    assert.match(out, ERROR_DESCRIPTION_CHARS);
  });

  it('bounds the length', () => {
    assert.ok(publicErrorDescription('x'.repeat(5000)).length <= 400);
  });

  it('OAuthError serializes only through it, and keeps its detail out of the body', () => {
    const err = new OAuthError('invalid_client', 'client "a" failed §3', { detail: 'the secret is wrong' });
    assert.deepEqual(err.toJSON(), { error: 'invalid_client', error_description: "client 'a' failed section 3" });
    assert.deepEqual(err.toJSON(['a']), { error: 'invalid_client', error_description: `client ${SENT_VALUE} failed section 3` });
    assert.equal(err.detail, 'the secret is wrong');
  });
});
