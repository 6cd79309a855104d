import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { USER_CODE_ALPHABET, formatUserCode, newUserCode, normalizeUserCode } from '../../src/device/user-code.js';

describe('device user codes (RFC 8628 §6.1)', () => {
  it('the alphabet is 20 consonants: no vowels (no words), no digits (nothing to mistake for a letter)', () => {
    assert.equal(USER_CODE_ALPHABET.length, 20);
    assert.equal(new Set(USER_CODE_ALPHABET).size, 20);
    assert.doesNotMatch(USER_CODE_ALPHABET, /[AEIOUY0-9]/);
    assert.match(USER_CODE_ALPHABET, /^[A-Z]+$/);
  });

  it('new codes are 8 characters of the alphabet and differ from each other', () => {
    const codes = Array.from({ length: 200 }, newUserCode);
    for (const c of codes) assert.match(c, new RegExp(`^[${USER_CODE_ALPHABET}]{8}$`));
    // 20^8 ≈ 2.6e10 codes: a repeat among 200 is a broken generator, not bad luck.
    assert.equal(new Set(codes).size, codes.length);
  });

  it('is shown as XXXX-XXXX', () => {
    assert.equal(formatUserCode('BCDFGHJK'), 'BCDF-GHJK');
  });

  it('compares what a person types ignoring case, spaces and dashes', () => {
    for (const typed of ['BCDF-GHJK', 'bcdf-ghjk', 'bcdfghjk', ' bcdf ghjk ', 'BC-DF-GH-JK', 'bcdf\tghjk'])
      assert.equal(normalizeUserCode(typed), 'BCDFGHJK', JSON.stringify(typed));
  });

  it('refuses anything that cannot be a code: wrong length, vowels, digits, other characters', () => {
    for (const typed of ['', 'BCDF-GHJ', 'BCDF-GHJKL', 'BCDF-GHJA', 'BCDF-GHJ0', 'BCDF_GHJK', 'BCDF-GHJ!', 'ÇCDF-GHJK'])
      assert.equal(normalizeUserCode(typed), undefined, JSON.stringify(typed));
  });
});
