import { readWeights } from '../aws/route53.ts';
import { formatWeights, type Slot, sameWeights } from '../domain/traffic.ts';
import type { Plan } from '../domain/workflow.ts';
import { TrafficDrift } from '../errors.ts';

/**
 * The records must hold what this deployment last wrote (`expected`), or before its first step
 * no weight on green: otherwise someone else is moving traffic.
 */
export async function assertRecordsAsWritten(
  plan: Pick<Plan, 'dns' | 'green'>,
  expected: Record<Slot, number> | undefined,
): Promise<void> {
  const current = await readWeights(plan);
  const held = expected ? sameWeights(current, expected) : (current[plan.green] ?? 0) === 0;
  if (!held) {
    const wanted = expected ? formatWeights(expected) : `no weight on slot ${plan.green}`;
    throw new TrafficDrift(
      `the records hold ${formatWeights(current)}, not what this deployment last wrote (${wanted}); someone else is moving traffic`,
    );
  }
}
