import { constants, createPrivateKey, sign, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { JWK } from 'jose';

/**
 * The `typ` header of each kind of JWT we sign. It is what keeps one kind from being taken for
 * another: an access token says `at+jwt` (RFC 9068 §2.1), so no ID token or token-exchange JWT
 * (`JWT`, RFC 7519 §5.1) is ever accepted where an access token is expected, and the other way
 * round.
 */
export type JwtTyp = 'at+jwt' | 'JWT';
const TYPS: readonly JwtTyp[] = ['at+jwt', 'JWT'];

/**
 * How `crypto.sign` makes each JWS algorithm's signature (RFC 7518 §3.1), and the key it needs.
 * ECDSA signatures are the fixed-width R‖S of RFC 7518 §3.4 (`ieee-p1363`), not DER; RSASSA-PSS
 * uses a salt as long as the hash (RFC 7518 §3.5); EdDSA hashes internally (RFC 8037 §3.1).
 */
const SIGNATURE_SCHEMES = {
  RS256: { hash: 'sha256', kty: 'rsa' },
  RS384: { hash: 'sha384', kty: 'rsa' },
  RS512: { hash: 'sha512', kty: 'rsa' },
  PS256: { hash: 'sha256', kty: 'rsa', pssSalt: 32 },
  PS384: { hash: 'sha384', kty: 'rsa', pssSalt: 48 },
  PS512: { hash: 'sha512', kty: 'rsa', pssSalt: 64 },
  ES256: { hash: 'sha256', kty: 'ec', crv: 'prime256v1' },
  ES384: { hash: 'sha384', kty: 'ec', crv: 'secp384r1' },
  ES512: { hash: 'sha512', kty: 'ec', crv: 'secp521r1' },
  EdDSA: { hash: null, kty: 'ed25519' },
} as const satisfies Record<string, { hash: string | null; kty: string; crv?: string; pssSalt?: number }>;

export type JwsAlg = keyof typeof SIGNATURE_SCHEMES;
export const JWS_ALGS = Object.keys(SIGNATURE_SCHEMES) as JwsAlg[];

/**
 * A JWS Compact Serialization signer (RFC 7515 §7.1) for one private key: the token path's only
 * cryptography. Built once per key when the keystore loads it, so a token costs one JSON.stringify,
 * two base64url encodings and one `crypto.sign` over a `KeyObject` — no WebCrypto promise and
 * thread-pool hop, no header serialised per token (the two protected headers, one per `typ`, are
 * encoded here once).
 *
 * Ours rather than fast-jwt's signer: the same `crypto.sign` underneath, in about forty lines,
 * without a dependency whose key-format sniffing and option handling we would not use.
 */
export class CompactJwsSigner {
  readonly #hash: string | null;
  readonly #options: { key: KeyObject; dsaEncoding?: 'ieee-p1363'; padding?: number; saltLength?: number };
  readonly #headers: Record<JwtTyp, string>;

  constructor(
    readonly kid: string,
    readonly alg: JwsAlg,
    privateKey: KeyObject,
  ) {
    // A key row's alg comes from the database: an unknown one is refused here, not at the first token.
    if (!Object.hasOwn(SIGNATURE_SCHEMES, alg)) throw new Error(`no JWS signer for alg ${alg}`);
    const scheme: { hash: string | null; kty: string; crv?: string; pssSalt?: number } = SIGNATURE_SCHEMES[alg];
    checkKeyFits(privateKey, alg, scheme);
    this.#hash = scheme.hash;
    this.#options =
      scheme.kty === 'ec'
        ? { key: privateKey, dsaEncoding: 'ieee-p1363' }
        : scheme.pssSalt !== undefined
          ? { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: scheme.pssSalt }
          : { key: privateKey };
    const header = (typ: JwtTyp) => Buffer.from(JSON.stringify({ alg, kid, typ })).toString('base64url');
    this.#headers = Object.fromEntries(TYPS.map((typ) => [typ, header(typ)])) as Record<JwtTyp, string>;
  }

  /** From a private JWK (the keystore's decrypted row); refuses a key of the wrong type or curve. */
  static fromJwk(kid: string, alg: JwsAlg, jwk: JWK): CompactJwsSigner {
    return new CompactJwsSigner(kid, alg, createPrivateKey({ key: jwk as JsonWebKey, format: 'jwk' }));
  }

  /** `BASE64URL(header) . BASE64URL(JSON(claims)) . BASE64URL(signature)` (RFC 7515 §7.1). */
  sign(claims: object, typ: JwtTyp): string {
    const signingInput = `${this.#headers[typ]}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
    const signature = sign(this.#hash, Buffer.from(signingInput), this.#options);
    return `${signingInput}.${signature.toString('base64url')}`;
  }

  /** Never the key: a signer that ends up in a log shows which key it is, nothing more. */
  toJSON() {
    return { kid: this.kid, alg: this.alg };
  }
}

function checkKeyFits(key: KeyObject, alg: JwsAlg, scheme: { kty: string; crv?: string }): void {
  const type = key.asymmetricKeyType;
  const details = key.asymmetricKeyDetails;
  if (key.type !== 'private' || type !== scheme.kty) {
    throw new Error(`a ${alg} signer needs a private ${scheme.kty} key, not a ${key.type} ${String(type)} key`);
  }
  if (scheme.crv !== undefined && details?.namedCurve !== scheme.crv) {
    throw new Error(`a ${alg} signer needs the ${scheme.crv} curve, not ${String(details?.namedCurve)}`);
  }
  // RFC 7518 §3.3 and §3.5: RSA keys of 2048 bits or more.
  if (scheme.kty === 'rsa' && (details?.modulusLength ?? 0) < 2048) {
    throw new Error(`a ${alg} signer needs an RSA key of at least 2048 bits, not ${String(details?.modulusLength)}`);
  }
}
