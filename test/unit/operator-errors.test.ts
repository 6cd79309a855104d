import { test } from 'node:test';
import assert from 'node:assert/strict';
import { operatorMessage } from '../../src/operator-errors.js';

/** A pg DatabaseError as node-postgres builds it: message and SQLSTATE `code`. */
const pgError = (message: string, code: string) => Object.assign(new Error(message), { code });

test('a statement timeout names DB_STATEMENT_TIMEOUT_MS, not an unreachable database', () => {
  const line = operatorMessage(pgError('canceling statement due to statement timeout', '57014'));
  assert.match(line ?? '', /DB_STATEMENT_TIMEOUT_MS/);
  assert.doesNotMatch(line ?? '', /cannot reach/);
});

test('a refused connection and a wrong password are operator errors; a bug is not', () => {
  assert.match(
    operatorMessage(pgError('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED')) ?? '',
    /^cannot reach the database \(DATABASE_URL\)/,
  );
  assert.match(
    operatorMessage(pgError('password authentication failed for user "x"', '28P01')) ?? '',
    /^the database refused the connection/,
  );
  assert.equal(operatorMessage(new TypeError('x is not a function')), undefined);
});
