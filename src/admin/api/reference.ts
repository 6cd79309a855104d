/**
 * The admin API's browsable reference: one server-rendered page from the OpenAPI document (no
 * script, no CDN; styled by Latchkey's own stylesheet, so the page CSP stays `style-src 'self'`).
 */

interface OpenApiDoc {
  info: { title: string; description?: string };
  paths?: Record<string, Record<string, Operation>>;
}

interface Operation {
  summary?: string;
  description?: string;
  tags?: string[];
  parameters?: { name: string; in: string; required?: boolean; description?: string; schema?: unknown }[];
  requestBody?: { content?: Record<string, { schema?: unknown }> };
  responses?: Record<string, { description?: string }>;
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

export function referencePage(doc: OpenApiDoc): string {
  const ops: string[] = [];
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const params = (op.parameters ?? [])
        .map(
          (p) =>
            `<li><code>${esc(p.name)}</code> (${esc(p.in)}${p.required ? ', required' : ''})${p.description ? ` — ${esc(p.description)}` : ''}</li>`,
        )
        .join('');
      const body = Object.entries(op.requestBody?.content ?? {})
        .map(([type, c]) => `<p>Body (<code>${esc(type)}</code>):</p><pre>${esc(JSON.stringify(c.schema, null, 2))}</pre>`)
        .join('');
      const responses = Object.entries(op.responses ?? {})
        .map(([status, r]) => `<li><code>${esc(status)}</code> ${esc(r.description ?? '')}</li>`)
        .join('');
      ops.push(
        `<section><h2><code>${method.toUpperCase()} ${esc(path)}</code></h2>` +
          `${op.summary ? `<p>${esc(op.summary)}</p>` : ''}${op.description ? `<p>${esc(op.description)}</p>` : ''}` +
          `${params ? `<p>Parameters:</p><ul>${params}</ul>` : ''}${body}${responses ? `<p>Responses:</p><ul>${responses}</ul>` : ''}</section>`,
      );
    }
  }
  return (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">' +
    `<title>${esc(doc.info.title)} · Latchkey</title><link rel="stylesheet" href="/assets/latchkey.css"></head><body><main class="card">` +
    `<h1>${esc(doc.info.title)}</h1><p>${esc(doc.info.description ?? '')}</p>` +
    '<p>The machine-readable OpenAPI 3.1 document: <a href="/admin/api/v1/openapi.json">/admin/api/v1/openapi.json</a>.</p>' +
    ops.join('') +
    '</main><footer class="site-footer">Latchkey</footer></body></html>'
  );
}
