/**
 * What the targets must be provisioned with, in one neutral form. Each scenario declares the
 * clients and resources it needs; the runner merges them and each target translates the result
 * into its own configuration (Latchkey: a bootstrap file; oidc-provider: its `clients` and
 * resource-indicator callbacks; the bare route ignores it).
 */

export interface BenchClient {
  client_id: string;
  client_secret: string;
  grant_types: string[];
  token_endpoint_auth_method: 'client_secret_basic' | 'client_secret_post';
  scope: string;
  /** Resource indicators the client may get tokens for; the first is its default. */
  audiences: string[];
}

export interface BenchResource {
  identifier: string;
  scopes: string[];
}

export interface Fixtures {
  clients: BenchClient[];
  resources: BenchResource[];
}

export function mergeFixtures(list: Fixtures[]): Fixtures {
  const clients = new Map<string, BenchClient>();
  const resources = new Map<string, BenchResource>();
  for (const f of list) {
    for (const c of f.clients) {
      const seen = clients.get(c.client_id);
      if (seen && JSON.stringify(seen) !== JSON.stringify(c)) {
        throw new Error(`two scenarios define client "${c.client_id}" differently`);
      }
      clients.set(c.client_id, c);
    }
    for (const r of f.resources) {
      const seen = resources.get(r.identifier);
      resources.set(r.identifier, seen ? { identifier: r.identifier, scopes: [...new Set([...seen.scopes, ...r.scopes])] } : r);
    }
  }
  return { clients: [...clients.values()], resources: [...resources.values()] };
}

/** Latchkey's bootstrap file (CONTRACT.md "Bootstrap file"). */
export function toLatchkeyBootstrap(f: Fixtures): unknown {
  return {
    clients: f.clients.map((c) => ({
      client_id: c.client_id,
      client_secret: c.client_secret,
      client_name: `bench ${c.client_id}`,
      grant_types: c.grant_types,
      response_types: [],
      token_endpoint_auth_method: c.token_endpoint_auth_method,
      scope: c.scope,
      audiences: c.audiences,
    })),
    resources: f.resources.map((r) => ({ identifier: r.identifier, scopes: r.scopes })),
  };
}
