import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OAuthError } from '../../src/oauth/errors.js';
import { parseScope } from '../../src/oauth/scopes.js';
import { resolveTarget, type TargetInput } from '../../src/oauth/targets.js';

const A = 'https://a.example';
const B = 'https://b.example';
const base: TargetInput = {
  clientId: 'c',
  clientAudiences: [A, B],
  clientScopes: ['a:read', 'a:write', 'b:read'],
  requestedResources: [],
  requestedScopes: undefined,
  resources: new Map([
    [A, { identifier: A, scopes: ['a:read', 'a:write'], access_token_ttl: 300 }],
    [B, { identifier: B, scopes: ['b:read'] }],
  ]),
  defaultTtl: 600,
};
const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof OAuthError);
    return err.code;
  }
  assert.fail('expected an OAuthError');
};

describe('scope parsing (RFC 6749 §3.3)', () => {
  it('splits on single spaces and removes duplicates', () => {
    assert.deepEqual(parseScope('a b a'), ['a', 'b']);
    assert.deepEqual(parseScope(''), []);
    assert.equal(parseScope('a  b'), undefined);
    assert.equal(parseScope('a"b'), undefined);
    assert.equal(parseScope('a\\b'), undefined);
  });
});

describe('resolveTarget (RFC 8707 audiences and scopes)', () => {
  it('an explicit resource, default scopes = client scopes the resource defines', () => {
    assert.deepEqual(resolveTarget({ ...base, requestedResources: [A] }), { audiences: [A], scopes: ['a:read', 'a:write'], ttl: 300 });
  });
  it('infers the audience from the scope', () => {
    assert.deepEqual(resolveTarget({ ...base, requestedScopes: ['b:read'] }), { audiences: [B], scopes: ['b:read'], ttl: 600 });
  });
  it('several resources: the shortest lifetime', () => {
    assert.equal(resolveTarget({ ...base, requestedResources: [A, B], requestedScopes: ['a:read', 'b:read'] }).ttl, 300);
  });
  it('refuses resources outside the client audiences: invalid_target', () => {
    assert.equal(
      code(() => resolveTarget({ ...base, requestedResources: ['https://c.example'] })),
      'invalid_target',
    );
    assert.equal(
      code(() => resolveTarget({ ...base })),
      'invalid_target',
      'ambiguous without resource or scope',
    );
    assert.equal(
      code(() => resolveTarget({ ...base, clientAudiences: [] })),
      'invalid_target',
    );
  });
  it('refuses scopes the client lacks or the resource does not define: invalid_scope', () => {
    assert.equal(
      code(() => resolveTarget({ ...base, requestedScopes: ['admin'] })),
      'invalid_scope',
    );
    assert.equal(
      code(() => resolveTarget({ ...base, requestedResources: [A], requestedScopes: ['b:read'] })),
      'invalid_scope',
    );
  });
});
