import type { Scenario, Status } from '../../sim/scenarios.ts';

/** What a scenario does besides its name and end: its summary, how it sets up and runs the world. */
export type ScenarioFields = Omit<Scenario, 'name' | 'expect'>;

/** A scenario of one test: `name`, which must end `expect`, with its other `fields`. */
export function testScenario(name: string, expect: Status, fields: ScenarioFields): Scenario {
  return { name, expect, ...fields };
}
