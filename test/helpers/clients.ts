import type { ClientRecord } from '../../src/domain/client.js';
import assert from 'node:assert/strict';
import { clientMetadataSchema, type ClientMetadataInput } from '../../src/oauth/client-metadata.js';
import { OAuthError, type OAuthErrorCode } from '../../src/oauth/errors.js';

/** A client as the registry hands it out: metadata validated (defaults applied) and stored without its secret. */
export function clientRecord(input: ClientMetadataInput): ClientRecord {
  const { client_secret: _secret, ...metadata } = clientMetadataSchema.parse(input);
  const at = new Date(0);
  return { clientId: metadata.client_id, secretHash: null, metadata, createdAt: at, updatedAt: at };
}

/** The OAuthError `fn` throws; fails the test when it throws nothing or something else. */
export function oauthError(fn: () => unknown, code?: OAuthErrorCode): OAuthError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof OAuthError, `expected an OAuthError, got ${String(err)}`);
    if (code) assert.equal(err.code, code, err.description);
    return err;
  }
  assert.fail('expected an OAuthError, nothing was thrown');
}
