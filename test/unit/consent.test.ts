import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NO_RESOURCE, consentMissing, requestedConsent } from '../../src/interaction/consent.js';
import type { Resource } from '../../src/oauth/client-metadata.js';

const A = 'https://a.example';
const B = 'https://b.example';
const resources = new Map<string, Resource>([
  [A, { identifier: A, scopes: ['read', 'write'] }],
  [B, { identifier: B, scopes: ['read'] }],
]);

describe('interaction/consent: consent per (resource, scope)', () => {
  it('OpenID scopes go under no resource; an API scope under each requested resource that defines it', () => {
    assert.deepEqual(
      requestedConsent(['openid', 'profile', 'offline_access', 'read', 'write'], [A, B], resources),
      new Map([
        [NO_RESOURCE, ['openid', 'profile', 'offline_access']],
        [A, ['read', 'write']],
        [B, ['read']],
      ]),
    );
    assert.deepEqual(requestedConsent(['read'], [B], resources), new Map([[B, ['read']]]));
  });

  it('a scope no requested resource defines is asked at every one of them; with no resource at all, under no resource', () => {
    assert.deepEqual(
      requestedConsent(['other'], [A, B], resources),
      new Map([
        [A, ['other']],
        [B, ['other']],
      ]),
    );
    assert.deepEqual(requestedConsent(['read', 'read'], [], resources), new Map([[NO_RESOURCE, ['read']]]));
  });

  it('consent at one resource is not consent at another', () => {
    const granted = new Map([
      [NO_RESOURCE, ['openid']],
      [A, ['read']],
    ]);
    assert.equal(consentMissing(requestedConsent(['openid', 'read'], [A], resources), granted), false);
    assert.equal(consentMissing(requestedConsent(['openid', 'read'], [B], resources), granted), true);
    assert.equal(consentMissing(requestedConsent(['openid', 'write'], [A], resources), granted), true);
    assert.equal(consentMissing(requestedConsent(['openid', 'profile'], [], resources), granted), true);
    assert.equal(consentMissing(new Map(), new Map()), false);
  });
});
