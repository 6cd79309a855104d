import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decryptPrivateKey, encryptPrivateKey, KeyDecryptionError } from '../../src/keys/encryption.js';
import { deriveSecrets, hashClientSecret, verifyClientSecret } from '../../src/keys/secret.js';
import { parseBasicCredentials } from '../../src/client-auth/client-secret-basic.js';
import { buildAccessTokenClaims, newJti } from '../../src/tokens/access-token.js';

const s1 = deriveSecrets('a'.repeat(40));
const s2 = deriveSecrets('b'.repeat(40));

describe('client secret hashing', () => {
  it('stores no trace of the secret and verifies in constant time', () => {
    const secret = 'at-least-32-characters-of-secret-value';
    const h = hashClientSecret(s1, secret);
    assert.ok(!h.includes(secret));
    assert.ok(verifyClientSecret(s1, secret, h));
    assert.ok(!verifyClientSecret(s1, `${secret}x`, h));
    assert.ok(!verifyClientSecret(s1, secret, 'hmac-sha256:short'));
  });
  it('is keyed: without LATCHKEY_SECRET a dump cannot test guesses', () => {
    const secret = 'at-least-32-characters-of-secret-value';
    assert.notEqual(hashClientSecret(s1, secret), hashClientSecret(s2, secret));
    assert.ok(!verifyClientSecret(s2, secret, hashClientSecret(s1, secret)));
  });
});

describe('private key encryption at rest', () => {
  it('round-trips and never stores plaintext', () => {
    const sealed = encryptPrivateKey(s1.keyEncryptionKey, 'kid1', '{"d":"secret-material"}');
    assert.ok(!sealed.includes('secret-material'));
    assert.equal(decryptPrivateKey(s1.keyEncryptionKey, 'kid1', sealed), '{"d":"secret-material"}');
  });
  it('fails clearly with another LATCHKEY_SECRET, or when moved to another kid', () => {
    const sealed = encryptPrivateKey(s1.keyEncryptionKey, 'kid1', 'x');
    assert.throws(() => decryptPrivateKey(s2.keyEncryptionKey, 'kid1', sealed), KeyDecryptionError);
    assert.throws(() => decryptPrivateKey(s1.keyEncryptionKey, 'kid2', sealed), /LATCHKEY_SECRET differs/);
  });
});

describe('client_secret_basic decoding (RFC 6749 §2.3.1)', () => {
  const header = (s: string) => `Basic ${Buffer.from(s).toString('base64')}`;
  it('form-decodes both parts', () => {
    assert.deepEqual(parseBasicCredentials(header('my%3Aclient:p%2Bss+word')), { clientId: 'my:client', secret: 'p+ss word' });
    assert.deepEqual(parseBasicCredentials(header('c:se:cret')), { clientId: 'c', secret: 'se:cret' });
  });
  it('refuses malformed credentials', () => {
    assert.throws(() => parseBasicCredentials(header('nocolon')), /no ":"/);
    assert.throws(() => parseBasicCredentials(header(':secret')), /empty client_id/);
    assert.throws(() => parseBasicCredentials('Basic ***'), /not valid Basic/);
  });
});

describe('access token claims (RFC 9068 §2.2)', () => {
  it('carries every required claim; one audience is a string', () => {
    const c = buildAccessTokenClaims(
      { issuer: 'https://as', subject: 's', audiences: ['https://rs'], clientId: 'c', scopes: ['a', 'b'], issuedAt: 1000, ttl: 60 },
      'j',
    );
    assert.deepEqual(c, { iss: 'https://as', sub: 's', aud: 'https://rs', client_id: 'c', jti: 'j', iat: 1000, exp: 1060, scope: 'a b' });
  });
  it('omits scope when none was granted; several audiences are an array', () => {
    const c = buildAccessTokenClaims({ issuer: 'i', subject: 's', audiences: ['a', 'b'], clientId: 'c', scopes: [], issuedAt: 0, ttl: 1 });
    assert.deepEqual(c.aud, ['a', 'b']);
    assert.equal('scope' in c, false);
  });
  it('jti carries 128 bits of randomness', () => {
    assert.equal(Buffer.from(newJti(), 'base64url').length, 16);
    assert.notEqual(newJti(), newJti());
  });
});
