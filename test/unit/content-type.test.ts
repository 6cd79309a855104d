import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isFormUrlEncoded } from '../../src/endpoints/content-type.js';

describe('the form Content-Type guard is anchored', () => {
  it('accepts the form type in any case, with or without parameters', () => {
    for (const t of [
      'application/x-www-form-urlencoded',
      'Application/X-WWW-Form-URLEncoded',
      'application/x-www-form-urlencoded; charset=UTF-8',
      'application/x-www-form-urlencoded ;charset=utf-8',
    ]) {
      assert.equal(isFormUrlEncoded(t), true, t);
    }
  });

  it('refuses anything else, including types that merely start with or contain it', () => {
    for (const t of [
      undefined,
      '',
      'application/json',
      'application/x-www-form-urlencodedX',
      'application/x-www-form-urlencoded-evil',
      'text/plain; application/x-www-form-urlencoded',
      ' application/x-www-form-urlencoded',
      'multipart/form-data',
    ]) {
      assert.equal(isFormUrlEncoded(t), false, String(t));
    }
  });
});
