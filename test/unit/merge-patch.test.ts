import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyMergePatch, mergePatchBetween } from '../../src/admin/api/merge-patch.js';

describe('mergePatchBetween (RFC 7396 patch from one object to another)', () => {
  const cases: [Record<string, unknown>, Record<string, unknown>][] = [
    [{}, {}],
    [{ a: 1 }, { a: 1 }],
    [{ a: 1, b: 2 }, { a: 1 }],
    [{ a: 1 }, { a: 2, c: [1, 2] }],
    [{ address: { locality: 'Lyon', country: 'FR' } }, { address: { country: 'FR' } }],
    [{ address: { locality: 'Lyon' } }, { address: 'flat now' }],
    [{ tags: ['a', 'b'] }, { tags: ['b'] }],
    [{ deep: { x: { y: 1, z: 2 } } }, { deep: { x: { y: 1 } } }],
  ];
  for (const [before, after] of cases) {
    it(`${JSON.stringify(before)} → ${JSON.stringify(after)}`, () => {
      assert.deepEqual(applyMergePatch(before, mergePatchBetween(before, after)), after);
    });
  }

  it('sends only what changed', () => {
    assert.deepEqual(mergePatchBetween({ a: 1, b: { c: 1, d: 2 } }, { a: 1, b: { c: 1 } }), { b: { d: null } });
  });

  it('keeps a "__proto__" member as data', () => {
    const after = JSON.parse('{"__proto__": {"polluted": true}}') as Record<string, unknown>;
    const patch = mergePatchBetween({}, after);
    assert.ok(Object.hasOwn(patch, '__proto__'));
    assert.equal(({} as { polluted?: boolean }).polluted, undefined);
    assert.equal(Object.getPrototypeOf(patch), Object.prototype);
  });
});
