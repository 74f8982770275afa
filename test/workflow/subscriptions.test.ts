import { describe, expect, it } from 'vitest';
import { approvalLinks } from '../../sim/approver.ts';
import type { SimMessage, SimSubscription } from '../../sim/aws/small.ts';
import { findScenario, type Scenario } from '../../sim/scenarios.ts';
import { simulate } from '../../sim/simulate.ts';
import { DEFAULT_TOPIC_ARN, type World } from '../../sim/world.ts';
import { APPROVER_ROLE, type ScenarioContext, uploadRelease } from '../../sim/worlds.ts';
import { readTemplate } from '../support/cfn-template.ts';

// The subscriptions of examples/notifications.cfn.yml, made on the simulated topic with the
// template's own filter policies (the simulated SNS delivers by them, sim/aws/sns-filter.ts), then
// real deployments publish: each approver's subscription must get its own approval links and no
// one else's, the team's everything but approval requests.

const TEMPLATE_PATH = 'examples/notifications.cfn.yml';
const template = readTemplate(TEMPLATE_PATH);
const PARAMETERS: Record<string, string> = {
  TopicArn: DEFAULT_TOPIC_ARN,
  TeamEmail: 'deploys@example.com',
  TeamAlarmEmail: 'deploys+alarms@example.com',
  FirstApprover: 'alice@example.com',
  SecondApprover: 'bob@example.com',
  TerminalApproversEmail: 'approvers@example.com',
};

/** The template's value with every `Ref` to a parameter replaced by the value deployed with. */
function resolved(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(resolved);
  if (typeof value !== 'object' || value === null) return value;
  const entries = Object.entries(value);
  const [first] = entries;
  if (entries.length === 1 && first?.[0] === 'Ref') {
    const name = String(first[1]);
    if (!(name in PARAMETERS))
      throw new Error(`${TEMPLATE_PATH}: Ref to ${name}, which this test does not give`);
    return PARAMETERS[name];
  }
  if (entries.some(([key]) => key.startsWith('Fn::')))
    throw new Error(`${TEMPLATE_PATH}: ${JSON.stringify(value)}`);
  return Object.fromEntries(entries.map(([key, v]) => [key, resolved(v)]));
}

const SUBSCRIPTIONS = Object.entries(template.Resources).filter(
  ([, r]) => r.Type === 'AWS::SNS::Subscription',
);

type Subscribed = Record<string, SimSubscription>;

/** Makes the template's subscriptions on the world's topic, as CloudFormation would. */
function subscribeAsTheExample(world: World): Subscribed {
  return Object.fromEntries(
    SUBSCRIPTIONS.map(([id, resource]) => {
      const p = resolved(resource.Properties) as Record<string, unknown>;
      const subscription = world.sns.Subscribe({
        TopicArn: String(p.TopicArn),
        Protocol: String(p.Protocol),
        Endpoint: String(p.Endpoint),
        Attributes: {
          FilterPolicy: JSON.stringify(p.FilterPolicy),
          FilterPolicyScope: String(p.FilterPolicyScope),
        },
      });
      return [id, subscription];
    }),
  );
}

/** The scenario, with the example's subscriptions made before anything is uploaded. */
async function runSubscribed(
  scenario: Scenario,
  configure: (ctx: ScenarioContext) => void = () => undefined,
): Promise<{ world: World; subscribed: Subscribed; status: string }> {
  let subscribed: Subscribed = {};
  const { summary, world } = await simulate({
    ...scenario,
    prepare: (ctx) => {
      scenario.prepare?.(ctx);
      configure(ctx);
      subscribed = subscribeAsTheExample(ctx.world);
    },
  });
  expect(summary.problems).toEqual([]);
  return { world, subscribed, status: summary.status };
}

function scenario(name: string): Scenario {
  const found = findScenario(name);
  if (!found) throw new Error(`no scenario ${name}`);
  return found;
}

const kinds = (messages: SimMessage[]) => messages.map((m) => m.attributes.kind);
const linkApprovers = (messages: SimMessage[]) =>
  messages.flatMap((m) => approvalLinks(m.message).map((url) => new URL(url).searchParams.get('approver')));

function delivered(subscribed: Subscribed, id: string): SimMessage[] {
  const subscription = subscribed[id];
  if (!subscription) throw new Error(`${TEMPLATE_PATH} has no subscription ${id}`);
  return subscription.delivered;
}

describe(`the subscriptions of ${TEMPLATE_PATH}`, () => {
  it('each filter on message attributes or the body, said explicitly, within SNS limits', () => {
    expect(SUBSCRIPTIONS.length).toBeGreaterThan(0);
    for (const [id, resource] of SUBSCRIPTIONS) {
      expect(resource.Properties?.FilterPolicy, id).toBeDefined();
      expect(['MessageAttributes', 'MessageBody'], id).toContain(resource.Properties?.FilterPolicyScope);
    }
  });

  it('each go to an address of their own: SNS keeps one subscription per topic, protocol and address', () => {
    const endpoints = SUBSCRIPTIONS.map(([, r]) => JSON.stringify(r.Properties?.Endpoint));
    expect(new Set(endpoints).size).toBe(endpoints.length);
  });

  it('give each approver only their own link, the terminal approvers the command, and the team no link but the outcome', async () => {
    // Bob is written in mixed case in the config: the service lower-cases him, as the filter does.
    const { world, subscribed, status } = await runSubscribed(scenario('approval-approved'), ({ config }) => {
      config.approval = {
        before: ['traffic-shift'],
        approvers: ['alice@example.com', 'Bob@Example.COM', APPROVER_ROLE],
      };
    });
    expect(status).toBe('SUCCEEDED');

    const alice = delivered(subscribed, 'FirstApproverSubscription');
    expect(kinds(alice)).toEqual(['approval-request']);
    expect(alice[0]?.attributes.approver).toBe('alice@example.com');
    expect(linkApprovers(alice)).toEqual(['alice@example.com']);

    const bob = delivered(subscribed, 'SecondApproverSubscription');
    expect(kinds(bob)).toEqual(['approval-request']);
    expect(linkApprovers(bob)).toEqual(['bob@example.com']);

    const terminal = delivered(subscribed, 'TerminalApproversSubscription');
    expect(terminal.map((m) => m.attributes.approver)).toEqual(['terminal']);
    expect(linkApprovers(terminal)).toEqual([]);

    const team = delivered(subscribed, 'TeamSubscription');
    expect(kinds(team)).not.toContain('approval-request');
    expect(linkApprovers(team)).toEqual([]);
    expect(team.map((m) => m.subject)).toContain('Deployed web/prod 1.1.0');
    expect(team.find((m) => m.subject === 'Deployed web/prod 1.1.0')?.attributes).toMatchObject({
      kind: 'outcome',
      outcome: 'succeeded',
    });
    expect(delivered(subscribed, 'TeamAlarmSubscription')).toEqual([]);

    // Every message went to someone, and every message has a kind to filter on.
    const reached = new Set(Object.values(subscribed).flatMap((s) => s.delivered));
    expect(world.sns.messages.filter((m) => !reached.has(m))).toEqual([]);
    expect(world.sns.messages.filter((m) => !m.attributes.kind)).toEqual([]);
  });

  it('tell the team of a rejection and its rollback, and the approvers nothing more', async () => {
    const { subscribed, status } = await runSubscribed(scenario('approval-rejected'));
    expect(status).toBe('ROLLED_BACK');
    const team = delivered(subscribed, 'TeamSubscription');
    expect(team).toHaveLength(1);
    expect(team[0]?.attributes).toMatchObject({ kind: 'outcome', outcome: 'rolled-back' });
    expect(kinds(delivered(subscribed, 'FirstApproverSubscription'))).toEqual(['approval-request']);
    expect(kinds(delivered(subscribed, 'SecondApproverSubscription'))).toEqual(['approval-request']);
  });

  it('tell the team of ignored uploads, and no approver', async () => {
    const { world, subscribed } = await runSubscribed(scenario('bad-key'));
    const told = world.sns.messages;
    expect(told.length).toBeGreaterThan(0);
    expect(delivered(subscribed, 'TeamSubscription')).toEqual(told);
    expect(kinds(told).every((kind) => kind === 'ignored-upload')).toBe(true);
    for (const id of [
      'FirstApproverSubscription',
      'SecondApproverSubscription',
      'TerminalApproversSubscription',
    ]) {
      expect(delivered(subscribed, id), id).toEqual([]);
    }
  });

  it("tell the team of the service's alarms, which CloudWatch publishes as JSON without attributes", async () => {
    const { world, subscribed } = await runSubscribed({
      name: 'alarm',
      summary: 'the dead-letter alarm notifies the topic',
      expect: 'SUCCEEDED',
      act: (ctx) => {
        uploadRelease(ctx);
        // The shape of CloudWatch's alarm notification (a JSON object; no message attributes).
        ctx.world.sns.Publish({
          TopicArn: DEFAULT_TOPIC_ARN,
          Subject: 'ALARM: "bluegreen-ec2-prod-dead-letters" in US East (N. Virginia)',
          Message: JSON.stringify({
            AlarmName: 'bluegreen-ec2-prod-dead-letters',
            AlarmDescription: 'An asynchronous invocation of a bluegreen-ec2 function failed',
            AWSAccountId: '123456789012',
            NewStateValue: 'ALARM',
            NewStateReason: 'Threshold Crossed: 1 datapoint [1.0] was greater than the threshold (0.0).',
            StateChangeTime: '2026-12-02T15:00:00.000+0000',
            Region: 'US East (N. Virginia)',
            OldStateValue: 'OK',
          }),
        });
      },
    });
    const alarms = delivered(subscribed, 'TeamAlarmSubscription');
    expect(alarms.map((m) => m.subject)).toEqual([
      'ALARM: "bluegreen-ec2-prod-dead-letters" in US East (N. Virginia)',
    ]);
    // The service's own messages are plain text: none reaches the body filter.
    const service = world.sns.messages.filter((m) => m.attributes.kind);
    expect(service.length).toBeGreaterThan(0);
    expect(alarms.filter((m) => service.includes(m))).toEqual([]);
    expect(delivered(subscribed, 'TeamSubscription')).toEqual(service);
  });
});
