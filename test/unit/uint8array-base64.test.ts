import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { toBase64 } from '../../src/platform/uint8array-base64.js';
import '../../src/app.js';

// Expected values from the standard's own examples and from RFC 4648 §10 test vectors.
test('toBase64 matches the standard for both alphabets, with and without padding', () => {
  const vectors: [string, string][] = [
    ['', ''],
    ['f', 'Zg=='],
    ['fo', 'Zm8='],
    ['foo', 'Zm9v'],
    ['foob', 'Zm9vYg=='],
    ['fooba', 'Zm9vYmE='],
    ['foobar', 'Zm9vYmFy'],
  ];
  for (const [plain, b64] of vectors) {
    const bytes = new TextEncoder().encode(plain);
    assert.equal(toBase64(bytes), b64);
    assert.equal(toBase64(bytes, { omitPadding: true }), b64.replace(/=/g, ''));
    assert.equal(toBase64(bytes, { alphabet: 'base64url' }), b64);
    assert.equal(toBase64(bytes, { alphabet: 'base64url', omitPadding: true }), b64.replace(/=/g, ''));
  }
  const tricky = new Uint8Array([0xfb, 0xff, 0xbf]);
  assert.equal(toBase64(tricky), '+/+/');
  assert.equal(toBase64(tricky, { alphabet: 'base64url' }), '-_-_');
});

test('toBase64 encodes only the view, not the whole underlying buffer', () => {
  const all = randomBytes(64);
  const view = new Uint8Array(all.buffer, all.byteOffset + 5, 17);
  assert.equal(toBase64(view, { alphabet: 'base64url', omitPadding: true }), Buffer.from(view).toString('base64url'));
});

test('toBase64 refuses an unknown alphabet and a receiver that is not a Uint8Array', () => {
  assert.throws(() => toBase64(new Uint8Array(1), { alphabet: 'base32' as 'base64' }), TypeError);
  assert.throws(() => (Uint8Array.prototype as unknown as { toBase64: (this: unknown) => string }).toBase64.call([1, 2]), TypeError);
});

test('the app installs it on Uint8Array.prototype, where jose looks for it', () => {
  const bytes = new Uint8Array([1, 2, 3, 250]);
  assert.equal((bytes as unknown as { toBase64: (o?: object) => string }).toBase64({ alphabet: 'base64url', omitPadding: true }), 'AQID-g');
});
