import { routeClientsTo } from '../../sim/router.ts';
import { loadHandlers } from '../../sim/simulate.ts';
import { World } from '../../sim/world.ts';
import { seedWorld } from '../../sim/worlds.ts';

/**
 * The handlers as the simulator loads them, and a fresh simulated account every SDK client is
 * routed into, seeded with web/prod and the blue fleet serving all its traffic.
 */
export async function seededAccount() {
  const handlers = await loadHandlers();
  const world = new World();
  routeClientsTo(world);
  seedWorld(world, { firstDeploy: false });
  return { handlers, world };
}
