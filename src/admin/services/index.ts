import type { AppContext } from '../../app.js';
import { clientsService } from './clients.js';
import { eventsService } from './events.js';
import { grantsService } from './grants.js';
import { sessionsService } from './sessions.js';
import { usersService } from './users.js';
import { PasswordHasher, passwordHashParameters } from '../../users/password.js';
import { keysService } from './keys.js';
import { resourcesService } from './resources.js';
import { trustedIssuersService } from './trusted-issuers.js';

/**
 * The admin services, built once per server from the composition root's context: the admin API
 * (src/admin/api/) and the console call the same ones, so both validate, store and audit alike.
 */
export function createAdminServices(ctx: AppContext) {
  return {
    clients: clientsService({ db: ctx.db, secrets: ctx.secrets, clock: ctx.clock, registry: ctx.registry }),
    resources: resourcesService({ db: ctx.db, issuer: ctx.config.issuer, registry: ctx.registry }),
    trustedIssuers: trustedIssuersService({ db: ctx.db, issuer: ctx.config.issuer }),
    keys: keysService({
      db: ctx.db,
      clock: ctx.clock,
      keystore: ctx.keystore,
      kek: ctx.secrets.keyEncryptionKey,
      config: ctx.config,
      events: ctx.events,
    }),
    events: eventsService(ctx.db),
    users: usersService({
      db: ctx.db,
      clock: ctx.clock,
      passwords: new PasswordHasher(passwordHashParameters(ctx.config)),
      throttle: ctx.config,
    }),
    sessions: sessionsService({ db: ctx.db, clock: ctx.clock }),
    grants: grantsService({ db: ctx.db, clock: ctx.clock }),
  };
}

export type AdminServices = ReturnType<typeof createAdminServices>;
