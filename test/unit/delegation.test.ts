import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_ACT_DEPTH, actorProblem, issuedAct, mayActProblem, readAct } from '../../src/grants/token-exchange/delegation.js';

const bad = (why: string) => new Error(why);
const party = (sub: string, iss = 'https://as.example', rawSub = sub) => ({ sub, iss, rawSub });

describe('delegation (RFC 8693 §4): pure rules', () => {
  it('readAct keeps identifying members, nests prior actors, refuses malformed and too deep chains', () => {
    assert.equal(readAct(undefined, bad), undefined);
    assert.deepEqual(readAct({ sub: 'a', extra: 1, act: { sub: 'b', iss: 'x' } }, bad), { sub: 'a', act: { sub: 'b', iss: 'x' } });
    assert.throws(() => readAct('a', bad), /malformed "act"/);
    assert.throws(() => readAct([{ sub: 'a' }], bad), /malformed "act"/);
    assert.throws(() => readAct({ iss: 'x' }, bad), /identifies no actor/);
    let deep: Record<string, unknown> = { sub: 'last' };
    for (let i = 0; i < MAX_ACT_DEPTH; i++) deep = { sub: `a${i}`, act: deep };
    assert.throws(() => readAct(deep, bad), /deeper than 10/);
  });

  it('mayActProblem: the named sub (as Latchkey names it), or iss and raw sub together', () => {
    assert.equal(mayActProblem({ sub: 'svc' }, party('svc')), undefined);
    assert.match(mayActProblem({ sub: 'svc' }, party('other'))!, /"may_act" names "svc"/);
    assert.equal(mayActProblem({ iss: 'https://idp', sub: 'raw' }, party('mapped', 'https://idp', 'raw')), undefined);
    assert.match(mayActProblem({ iss: 'https://idp', sub: 'raw' }, party('raw', 'https://as.example', 'raw'))!, /of "https:\/\/idp"/);
    assert.match(mayActProblem('svc', party('svc'))!, /malformed "may_act"/);
    assert.match(mayActProblem({ iss: 'x' }, party('svc'))!, /names no "sub"/);
  });

  it('actorProblem: the calling client or a listed party; never the subject, even when listed', () => {
    const client = { clientId: 'gateway', actors: ['svc-a', 'alice-id'] };
    assert.equal(actorProblem(party('gateway'), { sub: 'alice-id' }, { clientId: 'gateway', actors: [] }), undefined);
    assert.equal(actorProblem(party('svc-a'), { sub: 'alice-id' }, client), undefined);
    assert.match(actorProblem(party('alice-id'), { sub: 'alice-id' }, client)!, /represents the subject itself \("alice-id"\)/);
    assert.match(actorProblem(party('gateway'), { sub: 'gateway' }, client)!, /represents the subject itself/);
    assert.match(
      actorProblem(party('svc-b'), { sub: 'alice-id' }, client)!,
      /"svc-b", who is neither the calling client "gateway" nor a party its policy names \(token_exchange_actors: svc-a, alice-id\)/,
    );
    assert.match(
      actorProblem(party('svc-b'), { sub: 'alice-id' }, { clientId: 'gateway', actors: [] })!,
      /it has no token_exchange_actors/,
    );
  });

  it("issuedAct: the actor outermost over the subject token's chain; impersonation keeps the chain", () => {
    assert.deepEqual(issuedAct({ sub: 'b' }, { sub: 'a' }), { sub: 'b', act: { sub: 'a' } });
    assert.deepEqual(issuedAct({ sub: 'p', foreignIss: 'https://idp' }, undefined), { sub: 'p', iss: 'https://idp' });
    assert.deepEqual(issuedAct(undefined, { sub: 'a' }), { sub: 'a' });
    assert.equal(issuedAct(undefined, undefined), undefined);
  });
});
