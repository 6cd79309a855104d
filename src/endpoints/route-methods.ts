import type { FastifyInstance } from 'fastify';

/**
 * Records the methods of every route registered on `app` (and its children), so a not-found
 * handler can tell "no such path" (404) from "wrong method" (405, with `Allow`: RFC 9110 §15.5.6).
 * Call it before the routes are registered. Returns the methods allowed on a request path, or
 * undefined when no route matches it.
 */
export function trackRouteMethods(app: FastifyInstance): (url: string) => string[] | undefined {
  const routes: { pattern: RegExp; methods: string[] }[] = [];
  app.addHook('onRoute', (r) => {
    const methods = (Array.isArray(r.method) ? r.method : [r.method]).filter((m) => m !== 'HEAD');
    const pattern = new RegExp(`^${r.url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:[^/]+/g, '[^/]+')}$`);
    const existing = routes.find((x) => x.pattern.source === pattern.source);
    if (existing) existing.methods.push(...methods);
    else routes.push({ pattern, methods });
  });
  return (url) => {
    const path = url.split('?', 1)[0] ?? url;
    return routes.find((r) => r.pattern.test(path))?.methods;
  };
}
