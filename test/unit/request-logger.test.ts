import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import pino from 'pino';
import type { FastifyBaseLogger } from 'fastify';
import { loggerOptions } from '../../src/observability/logger.js';
import { RequestLogger } from '../../src/observability/request-logger.js';

function capture(level = 'info') {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      cb();
    },
  });
  const root = pino(loggerOptions(level), stream) as unknown as FastifyBaseLogger;
  let children = 0;
  const parent = new Proxy(root, {
    get(target, prop, receiver) {
      if (prop === 'child') return (...a: Parameters<FastifyBaseLogger['child']>) => (children++, target.child(...a));
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  return { lines, parent, children: () => children };
}

test('every line carries the request id, whichever way it is written', () => {
  const { lines, parent } = capture();
  const log = new RequestLogger(parent, { reqId: 'r-1' }, {});
  log.info({ status: 200 }, 'request');
  log.error(new Error('boom'));
  log.warn('plain message');
  assert.equal(lines.length, 3);
  for (const l of lines) assert.equal(l.reqId, 'r-1');
  assert.equal(lines[0]!.msg, 'request');
  assert.equal(lines[0]!.status, 200);
  assert.equal((lines[1]!.err as { message: string }).message, 'boom');
  assert.equal(lines[2]!.msg, 'plain message');
});

test('a logged object is redacted as the server logger redacts it', () => {
  const { lines, parent } = capture();
  new RequestLogger(parent, { reqId: 'r-2' }, {}).info({ body: { client_secret: 's3cret', grant_type: 'client_credentials' } }, 'x');
  assert.ok(!JSON.stringify(lines).includes('s3cret'));
  assert.equal((lines[0]!.body as Record<string, string>).grant_type, 'client_credentials');
});

test('no pino child is made for a request that logs nothing, or only objects, or below the level', () => {
  const { lines, parent, children } = capture('warn');
  const log = new RequestLogger(parent, { reqId: 'r-3' }, {});
  log.info({ a: 1 }, 'dropped');
  log.debug('dropped too');
  log.warn({ b: 2 }, 'kept');
  assert.equal(children(), 0);
  assert.deepEqual(
    lines.map((l) => l.msg),
    ['kept'],
  );
  log.warn('a bare message needs the child');
  assert.equal(children(), 1);
});
