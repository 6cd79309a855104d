import type { AppContext } from '../../app.js';
import { eventsService } from './events.js';

/**
 * The admin services, built once per server from the composition root's context: the admin API
 * (src/admin/api/) and the console call the same ones, so both validate, store and audit alike.
 */
export function createAdminServices(ctx: AppContext) {
  return {
    events: eventsService(ctx.db),
  };
}

export type AdminServices = ReturnType<typeof createAdminServices>;
