import { fileURLToPath } from 'node:url';
import { DECISION_ROUTE_ARN, PROMOTION_ROUTE_ARN } from '../decision-api.ts';
import { ZONE } from '../worlds.ts';
import { readTemplate } from './cfn-template.ts';
import type { Stack } from './template.ts';
import { type PolicyDocument, TemplateResolver } from './template.ts';

/** Where the operator's policy is written, as README "Command line" gives it to users. */
export const OPERATOR_POLICY_TEMPLATE = 'examples/operator-policy.cfn.yml';

/** The operator policy's stack as deployed into the simulated account, for the service's stage sim. */
const OPERATOR_STACK: Stack = {
  name: 'bluegreen-ec2-sim-operators',
  parameters: {
    Stage: 'sim',
    HostedZoneIds: ZONE,
    DecisionRouteArn: DECISION_ROUTE_ARN,
    PromotionRouteArn: PROMOTION_ROUTE_ARN,
  },
};

/**
 * The operator's managed policy resolved as CloudFormation would create it in the simulated
 * account: every call the command line makes there is judged by it. `template` is the template
 * read into JSON (its short-form intrinsics in their long form).
 */
export function operatorPolicies(template: Record<string, unknown>): PolicyDocument[] {
  const resources = template.Resources as Record<
    string,
    { Type: string; Properties: { PolicyDocument: unknown } }
  >;
  const resolver = new TemplateResolver(template, OPERATOR_STACK);
  return Object.values(resources)
    .filter((r) => r.Type === 'AWS::IAM::ManagedPolicy')
    .map((r) => resolver.resolve(r.Properties.PolicyDocument) as PolicyDocument);
}

/** The operator policy of the README, as attached to the simulated account's operators. */
export function readOperatorPolicies(): PolicyDocument[] {
  const path = fileURLToPath(new URL(`../../${OPERATOR_POLICY_TEMPLATE}`, import.meta.url));
  return operatorPolicies(readTemplate(path) as unknown as Record<string, unknown>);
}
