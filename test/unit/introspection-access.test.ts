import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mayIntrospectAccessToken } from '../../src/oauth/introspection-access.js';

describe('who may introspect an access token (RFC 7662 §4)', () => {
  const caller = (clientId: string, audiences: string[] = []) => ({ clientId, audiences });

  it('the client it was issued to, whatever its audiences', () => {
    assert.equal(mayIntrospectAccessToken(caller('web'), { client_id: 'web', aud: 'https://api.example.com' }), true);
  });

  it('a client registered for one of its audiences (string or array aud)', () => {
    const rs = caller('api-rs', ['https://api.example.com']);
    assert.equal(mayIntrospectAccessToken(rs, { client_id: 'web', aud: 'https://api.example.com' }), true);
    assert.equal(mayIntrospectAccessToken(rs, { client_id: 'web', aud: ['https://other.example.com', 'https://api.example.com'] }), true);
  });

  it('nobody else: another client, one registered elsewhere, a prefix or look-alike of the audience', () => {
    assert.equal(mayIntrospectAccessToken(caller('svc'), { client_id: 'web', aud: 'https://api.example.com' }), false);
    const other = caller('other-rs', ['https://other.example.com', 'https://api.example.com/v2']);
    assert.equal(mayIntrospectAccessToken(other, { client_id: 'web', aud: ['https://api.example.com'] }), false);
    assert.equal(mayIntrospectAccessToken(caller('Web'), { client_id: 'web', aud: [] }), false, 'client ids compare exactly');
  });
});
