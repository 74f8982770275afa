import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STATE } from '#shared/domain/states.ts';
import { EXIT } from '../../cli/exit-codes.ts';
import { evaluate } from '../../sim/iam/evaluate.ts';
import { OPERATOR_POLICY_TEMPLATE, operatorPolicies } from '../../sim/iam/operator.ts';
import { IamRecorder, roleArn } from '../../sim/iam/recorder.ts';
import type { IamRequest } from '../../sim/iam/requests.ts';
import { ACCOUNT, OPERATOR, REGION, type World } from '../../sim/world.ts';
import { BUCKET } from '../../sim/worlds.ts';
import { readTemplate } from '../support/cfn-template.ts';
import { ARTIFACT, inAccount } from '../support/cli.ts';

// The operator policy of the README is the one every call of the command line is judged by (each
// test file's IAM evaluation); here: it is enough for every command, the README's table names
// every action the commands need, and it allows nothing beside them.

const POLICIES = operatorPolicies(
  readTemplate(OPERATOR_POLICY_TEMPLATE) as unknown as Record<string, unknown>,
);
const README = readFileSync('README.md', 'utf8');
const TABLE = README.split('### What the command line may do in your account')[1]?.split('\n## ')[0] ?? '';

const recorder = new IamRecorder();
let actions: string[] = [];

beforeAll(async () => {
  recorder.start();
  await inAccount(async ({ bluegreen, pass, session }) => {
    expect((await bluegreen('plan', 'web', 'prod')).code).toBe(EXIT.ok);
    expect(
      (await bluegreen('deploy', ARTIFACT, '--app', 'web', '--env', 'prod', '--version', '2.0.0')).code,
    ).toBe(EXIT.ok);
    await pass(30 * 60);
    expect((await bluegreen('status')).code).toBe(EXIT.ok);
    expect((await bluegreen('abort', 'web', 'prod')).code).toBe(EXIT.rolledBack);
    expect((await bluegreen('history', 'web', 'prod')).code).toBe(EXIT.ok);
    expect(
      (await bluegreen('deploy', ARTIFACT, '--app', 'web', '--env', 'prod', '--version', '2.1.0', '--wait'))
        .code,
    ).toBe(EXIT.ok);
    // The decision API judges execute-api:Invoke by the operator policy: a denial would be exit 8.
    expect((await bluegreen('approve', 'web', 'prod')).code).toBe(EXIT.failed);
    const { VersionId } = session.world.s3.HeadObject({ Bucket: BUCKET, Key: 'releases/web/prod/2.0.0.zip' });
    expect(
      (
        await bluegreen(
          'redeploy',
          'web',
          'prod',
          '2.0.0',
          '--version-id',
          String(VersionId),
          '--request-id',
          'r1',
        )
      ).code,
    ).toBe(EXIT.ok);
    for (let s = 0; s < 3600 && !settling(session.world); s += 10) await pass(10);
    // A promote waits for resolvers to have moved: INSYNC and the record's TTL.
    await pass(90);
    expect((await bluegreen('promote', 'web', 'prod', '--wait')).code).toBe(EXIT.ok);
  });
  recorder.stop();
  actions = [
    ...new Set(
      recorder
        .recorded()
        .filter((r) => r.fn === OPERATOR)
        .map((r) => r.request.action),
    ),
  ].sort();
});

afterAll(() => recorder.stop());

/** Whether the newest deployment is in a traffic step's settle wait (a promote can end it). */
function settling(world: World): boolean {
  const newest = [...world.sfn.executions.values()].at(-1);
  return newest?.status === 'RUNNING' && newest.states.at(-1)?.name === STATE.settle;
}

const deny = (request: IamRequest) => evaluate(roleArn(OPERATOR), POLICIES, request);
const request = (action: string, resource: string): IamRequest => ({ action, resource, context: {} });

describe('the operator policy (examples/operator-policy.cfn.yml)', () => {
  it('allows every request the commands made, and the README names each of their actions', async () => {
    expect(actions.length).toBeGreaterThan(10);
    expect(actions).toEqual(expect.arrayContaining(['s3:GetObjectVersion', 'states:StartExecution']));
    for (const r of recorder.recorded().filter((x) => x.fn === OPERATOR))
      expect([r.request.action, (await evaluate(roleArn(OPERATOR), POLICIES, r.request)).decision]).toEqual([
        r.request.action,
        'Allowed',
      ]);
    const named = new Set(TABLE.match(/`[a-z0-9-]+:[A-Za-z]+`/g)?.map((a) => a.slice(1, -1)));
    expect(actions.filter((a) => !named.has(a))).toEqual([]);
  });

  it.each([
    ['writing a config', 's3:PutObject', `arn:aws:s3:::${BUCKET}/config/web/prod.json`],
    ['deleting a release', 's3:DeleteObject', `arn:aws:s3:::${BUCKET}/releases/web/prod/2.0.0.zip`],
    [
      'stopping a rollback',
      'states:StopExecution',
      `arn:aws:states:${REGION}:${ACCOUNT}:execution:bluegreen-ec2-sim-deploy-rollback:web-prod-2_0_0-0123456789-rollback`,
    ],
    [
      'starting a rollback by hand',
      'states:StartExecution',
      `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:bluegreen-ec2-sim-deploy-rollback`,
    ],
    [
      'calling another route of the API',
      'execute-api:Invoke',
      `arn:aws:execute-api:${REGION}:${ACCOUNT}:simapi/$default/POST/approvals/x`,
    ],
    [
      'writing a lock',
      'dynamodb:PutItem',
      `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/bluegreen-ec2-sim-locks`,
    ],
    [
      'reading another stage',
      'cloudformation:DescribeStacks',
      `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/bluegreen-ec2-prod/id`,
    ],
  ])('denies %s', async (_what, action, resource) => {
    expect((await deny(request(action, resource))).decision).toBe('ImplicitlyDenied');
  });
});
