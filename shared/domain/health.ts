/** What counts as a healthy green fleet, from ELBv2 target health. */

export interface TargetHealthState {
  id: string;
  /** initial | healthy | unhealthy | unused | draining | unavailable | unhealthy.draining */
  state: string;
  reason?: string | undefined;
}

export interface HealthVerdict {
  healthy: boolean;
  healthyCount: number;
  total: number;
  required: number;
  /** Targets not healthy, with ELB's reason, for causes an operator can act on. */
  notHealthy: TargetHealthState[];
}

/** How many of `total` targets must be healthy for `minHealthyPercent` (at least one). */
export function requiredHealthy(total: number, minHealthyPercent: number): number {
  return Math.max(1, Math.ceil((total * minHealthyPercent) / 100));
}

/**
 * Judges green against the instances it should have. An expected instance that ELB does not report
 * counts as not healthy, so a target that was deregistered behind our back is never counted.
 */
export function evaluateHealth(
  expectedIds: readonly string[],
  reported: readonly TargetHealthState[],
  minHealthyPercent: number,
  /** How many instances were launched: one EC2 no longer lists counts as not healthy too. */
  launched = 0,
): HealthVerdict {
  const byId = new Map(reported.map((t) => [t.id, t]));
  const states = expectedIds.map(
    (id) => byId.get(id) ?? { id, state: 'unused', reason: 'Target.NotRegistered' },
  );
  const healthyCount = states.filter((t) => t.state === 'healthy').length;
  const total = Math.max(expectedIds.length, launched);
  const required = requiredHealthy(total, minHealthyPercent);
  return {
    healthy: total > 0 && healthyCount >= required,
    healthyCount,
    total,
    required,
    notHealthy: states.filter((t) => t.state !== 'healthy'),
  };
}

export function describeHealth(verdict: HealthVerdict): string {
  const head = `${verdict.healthyCount} of ${verdict.total} green targets healthy (${verdict.required} required)`;
  if (verdict.notHealthy.length === 0) return head;
  const shown = verdict.notHealthy
    .slice(0, 5)
    .map((t) => `${t.id} ${t.state}${t.reason ? ` (${t.reason})` : ''}`)
    .join(', ');
  const more = verdict.notHealthy.length > 5 ? ` and ${verdict.notHealthy.length - 5} more` : '';
  return `${head}; ${shown}${more}`;
}

/**
 * An EC2 instance state in which the instance serves nothing and never will again by itself
 * (stopped, terminated, or on the way): ELB reports such a target `unused` (Target.InvalidState).
 */
export function isDead(instanceState: string): boolean {
  return ['shutting-down', 'terminated', 'stopping', 'stopped'].includes(instanceState);
}
