/**
 * What the targets must be provisioned with, in one neutral form. Each scenario declares the
 * clients, resources, users and trusted issuers it needs; the runner merges them and each target
 * translates the result into its own configuration (Latchkey: a bootstrap file; oidc-provider:
 * its `clients` and resource-indicator callbacks; the bare route ignores it).
 */

export interface BenchClient {
  client_id: string;
  client_secret: string;
  grant_types: string[];
  token_endpoint_auth_method: 'client_secret_basic' | 'client_secret_post';
  scope: string;
  /** Resource indicators the client may get tokens for; the first is its default. */
  audiences: string[];
  /** For the authorization_code grant. */
  redirect_uris?: string[];
  /** A first-party client: no consent page (Latchkey). oidc-provider is consented to once. */
  skip_consent?: boolean;
}

export interface BenchResource {
  identifier: string;
  scopes: string[];
}

export interface BenchUser {
  username: string;
  password: string;
}

/** docs/contract.md `trusted_issuers` (Latchkey only: oidc-provider has no JWT-bearer grant). */
export interface BenchTrustedIssuer {
  issuer: string;
  jwks: { keys: Record<string, unknown>[] };
  subject: string;
  scope: string;
  client_ids: string[];
}

export interface Fixtures {
  clients: BenchClient[];
  resources: BenchResource[];
  users?: BenchUser[];
  trusted_issuers?: BenchTrustedIssuer[];
}

function mergeBy<T>(out: Map<string, T>, list: readonly T[] | undefined, key: (t: T) => string, what: string): void {
  for (const item of list ?? []) {
    const seen = out.get(key(item));
    if (seen && JSON.stringify(seen) !== JSON.stringify(item)) throw new Error(`two scenarios define ${what} "${key(item)}" differently`);
    out.set(key(item), item);
  }
}

export function mergeFixtures(list: Fixtures[]): Fixtures {
  const clients = new Map<string, BenchClient>();
  const resources = new Map<string, BenchResource>();
  const users = new Map<string, BenchUser>();
  const issuers = new Map<string, BenchTrustedIssuer>();
  for (const f of list) {
    mergeBy(clients, f.clients, (c) => c.client_id, 'client');
    mergeBy(users, f.users, (u) => u.username, 'user');
    mergeBy(issuers, f.trusted_issuers, (t) => t.issuer, 'trusted issuer');
    for (const r of f.resources) {
      const seen = resources.get(r.identifier);
      resources.set(r.identifier, seen ? { identifier: r.identifier, scopes: [...new Set([...seen.scopes, ...r.scopes])] } : r);
    }
  }
  return {
    clients: [...clients.values()],
    resources: [...resources.values()],
    users: [...users.values()],
    trusted_issuers: [...issuers.values()],
  };
}

/** Latchkey's bootstrap file (docs/contract.md "Bootstrap file"). */
export function toLatchkeyBootstrap(f: Fixtures): unknown {
  return {
    clients: f.clients.map((c) => ({
      client_id: c.client_id,
      client_secret: c.client_secret,
      client_name: `bench ${c.client_id}`,
      grant_types: c.grant_types,
      redirect_uris: c.redirect_uris ?? [],
      response_types: c.grant_types.includes('authorization_code') ? ['code'] : [],
      token_endpoint_auth_method: c.token_endpoint_auth_method,
      scope: c.scope,
      audiences: c.audiences,
      ...(c.skip_consent !== undefined ? { skip_consent: c.skip_consent } : {}),
    })),
    resources: f.resources.map((r) => ({ identifier: r.identifier, scopes: r.scopes })),
    users: (f.users ?? []).map((u) => ({ username: u.username, password: u.password })),
    trusted_issuers: (f.trusted_issuers ?? []).map((t) => ({
      issuer: t.issuer,
      jwks: t.jwks,
      subject: t.subject,
      scope: t.scope,
      client_ids: t.client_ids,
    })),
  };
}
