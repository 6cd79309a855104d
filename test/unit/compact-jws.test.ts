import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { compactVerify, decodeProtectedHeader, importJWK, jwtVerify, type JWK } from 'jose';
import { CompactJwsSigner, JWS_ALGS, type JwsAlg, type JwtTyp } from '../../src/keys/compact-jws.js';

/** A fresh key pair for each JWS algorithm, made by node:crypto, independent of the signer. */
function keyPairFor(alg: JwsAlg): { privateKey: KeyObject; publicKey: KeyObject } {
  if (alg.startsWith('RS') || alg.startsWith('PS')) return generateKeyPairSync('rsa', { modulusLength: 2048 });
  if (alg === 'EdDSA') return generateKeyPairSync('ed25519');
  const namedCurve = { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' }[alg as 'ES256' | 'ES384' | 'ES512'];
  return generateKeyPairSync('ec', { namedCurve });
}

const keys = new Map(JWS_ALGS.map((alg) => [alg, keyPairFor(alg)]));
const pair = (alg: JwsAlg) => {
  const k = keys.get(alg);
  assert.ok(k);
  return k;
};

/** Claim sets as builders may make them: unicode strings, nested objects and arrays, numbers. */
const claimSets = fc.dictionary(fc.string({ unit: 'grapheme', maxLength: 12 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 8 });
const typs = fc.constantFrom<JwtTyp>('at+jwt', 'JWT');

describe('CompactJwsSigner: every token verifies with jose', () => {
  for (const alg of JWS_ALGS) {
    it(`${alg}: random claim sets verify against the public key, with alg/kid/typ in the header`, async () => {
      const { privateKey, publicKey } = pair(alg);
      const signer = new CompactJwsSigner(`kid-${alg}`, alg, privateKey);
      // jose is given the public key as a JWK, as a resource server reads it from /jwks.
      const verifyKey = await importJWK({ ...(publicKey.export({ format: 'jwk' }) as JWK), alg }, alg);
      await fc.assert(
        fc.asyncProperty(claimSets, typs, async (claims, typ) => {
          const token = signer.sign(claims, typ);
          const { payload, protectedHeader } = await compactVerify(token, verifyKey, { algorithms: [alg] });
          assert.deepEqual(protectedHeader, { alg, kid: `kid-${alg}`, typ });
          // What the verifier reads is exactly the claims' JSON (-0 and the like as JSON makes them).
          assert.deepEqual(JSON.parse(new TextDecoder().decode(payload)), JSON.parse(JSON.stringify(claims)));
        }),
        { numRuns: alg.startsWith('RS') || alg.startsWith('PS') ? 40 : 100 },
      );
    });
  }

  it('a JWT of registered claims verifies with jwtVerify, typ checked', async () => {
    const { privateKey, publicKey } = pair('ES256');
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      iss: 'https://issuer.example',
      sub: 'ünïcødé 🔑',
      aud: ['a', 'b'],
      iat: now,
      exp: now + 60,
      nested: { x: [1, 2.5, null] },
    };
    const token = new CompactJwsSigner('k1', 'ES256', privateKey).sign(claims, 'at+jwt');
    const { payload } = await jwtVerify(token, publicKey, { issuer: 'https://issuer.example', audience: 'a', typ: 'at+jwt' });
    assert.deepEqual(payload, claims);
    await assert.rejects(jwtVerify(token, publicKey, { typ: 'JWT' }), /unexpected "typ" JWT header value/);
  });

  it('ECDSA signatures are R‖S of fixed width (RFC 7518 §3.4), not DER', () => {
    for (const [alg, width] of [
      ['ES256', 64],
      ['ES384', 96],
      ['ES512', 132],
    ] as const) {
      const signer = new CompactJwsSigner('k', alg, pair(alg).privateKey);
      for (let i = 0; i < 20; i++) {
        const signature = signer.sign({ i }, 'JWT').split('.')[2] ?? '';
        assert.equal(Buffer.from(signature, 'base64url').length, width, alg);
      }
    }
  });

  it('the header is serialised once and is the same for every token of a key and typ', () => {
    const signer = new CompactJwsSigner('k', 'ES256', pair('ES256').privateKey);
    const a = signer.sign({ a: 1 }, 'JWT').split('.')[0];
    const b = signer.sign({ b: 2 }, 'JWT').split('.')[0];
    assert.equal(a, b);
    assert.deepEqual(decodeProtectedHeader(`${a ?? ''}..`), { alg: 'ES256', kid: 'k', typ: 'JWT' });
  });

  it('refuses a key that does not fit its algorithm, an unknown algorithm and a public key', () => {
    assert.throws(
      () => new CompactJwsSigner('k', 'ES256', pair('RS256').privateKey),
      /ES256 signer needs a private ec key, not a private rsa key/,
    );
    assert.throws(
      () => new CompactJwsSigner('k', 'ES256', pair('ES384').privateKey),
      /ES256 signer needs the prime256v1 curve, not secp384r1/,
    );
    assert.throws(() => new CompactJwsSigner('k', 'RS256', pair('EdDSA').privateKey), /RS256 signer needs a private rsa key/);
    assert.throws(() => new CompactJwsSigner('k', 'ES256', pair('ES256').publicKey), /needs a private ec key, not a public ec key/);
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
    assert.throws(() => new CompactJwsSigner('k', 'RS256', small), /at least 2048 bits, not 1024/);
    assert.throws(() => new CompactJwsSigner('k', 'HS256' as JwsAlg, pair('ES256').privateKey), /no JWS signer for alg HS256/);
    assert.throws(() => new CompactJwsSigner('k', 'toString' as JwsAlg, pair('ES256').privateKey), /no JWS signer for alg toString/);
  });

  it('never shows its key when logged', () => {
    const signer = new CompactJwsSigner('k', 'ES256', pair('ES256').privateKey);
    assert.equal(JSON.stringify({ signer }), '{"signer":{"kid":"k","alg":"ES256"}}');
  });
});
