import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { parseParams, repeatable, required } from '../../src/oauth/params.js';
import { oauthError } from '../helpers/clients.js';

const schema = z.object({ grant_type: required('grant_type'), scope: z.string().optional(), resource: repeatable, audience: repeatable });

describe('token request parameters (RFC 6749 §3.1, §3.2; RFC 8707; RFC 8693)', () => {
  it('parses the schema and ignores unknown parameters', () => {
    assert.deepEqual(parseParams(schema, { grant_type: 'client_credentials', scope: 'a b', extension: 'x' }), {
      grant_type: 'client_credentials',
      scope: 'a b',
      resource: [],
      audience: [],
    });
  });

  it('refuses a repeated parameter with invalid_request, naming it (§3.1: parameters must not be included more than once)', () => {
    const err = oauthError(() => parseParams(schema, { grant_type: 'client_credentials', scope: ['a', 'b'] }), 'invalid_request');
    assert.match(err.description, /"scope" parameter is repeated/);
    oauthError(() => parseParams(schema, { grant_type: ['client_credentials', 'client_credentials'] }), 'invalid_request');
  });

  it('lets resource and audience repeat, and makes a single one a list', () => {
    const p = parseParams(schema, { grant_type: 'g', resource: ['https://a.example', 'https://b.example'], audience: 'https://c.example' });
    assert.deepEqual(p.resource, ['https://a.example', 'https://b.example']);
    assert.deepEqual(p.audience, ['https://c.example']);
  });

  it('a required parameter: missing and empty are distinct invalid_request errors', () => {
    assert.match(oauthError(() => parseParams(schema, {}), 'invalid_request').description, /the "grant_type" parameter is required/);
    assert.match(
      oauthError(() => parseParams(schema, { grant_type: '' }), 'invalid_request').description,
      /"grant_type" parameter must not be empty/,
    );
  });

  it('skips undefined values as absent', () => {
    assert.deepEqual(parseParams(schema, { grant_type: 'g', scope: undefined }), { grant_type: 'g', resource: [], audience: [] });
  });
});
