import { AsyncLocalStorage } from 'node:async_hooks';
import { autoscaling } from '#shared/aws/autoscaling.ts';
import { cloudformation } from '#shared/aws/cloudformation.ts';
import { cloudwatch } from '#shared/aws/cloudwatch.ts';
import { dynamodb } from '#shared/aws/dynamodb.ts';
import { ec2 } from '#shared/aws/ec2.ts';
import { elbv2 } from '#shared/aws/elbv2.ts';
import { eventbridge } from '#shared/aws/eventbridge.ts';
import { iam } from '#shared/aws/iam.ts';
import { imagebuilder } from '#shared/aws/imagebuilder.ts';
import { route53 } from '#shared/aws/route53.ts';
import { s3 } from '#shared/aws/s3.ts';
import { secrets } from '#shared/aws/secrets.ts';
import { sfn } from '#shared/aws/sfn.ts';
import { sns } from '#shared/aws/sns.ts';
import { sts } from '#shared/aws/sts.ts';
import type { Service, World } from './world.ts';

let current: World | undefined;
let attached = false;

/**
 * The world of the simulated account whose work is running, carried through its promise chains
 * and timers: a call a finished account's work still makes (a recovery it started, a wait it left)
 * reaches that account, never the next one a later test or command routes the clients to.
 */
const accounts = new AsyncLocalStorage<World>();

/** Runs `work` in `world`'s account: every SDK call its promise chains make is answered there. */
export function inWorld<T>(world: World, work: () => Promise<T>): Promise<T> {
  return accounts.run(world, work);
}

/** The world of the simulated account whose work is running here, if any. */
export function worldOfWork(): World | undefined {
  return accounts.getStore();
}

interface MiddlewareClient {
  middlewareStack: {
    add(
      middleware: (
        next: unknown,
        context: { commandName?: string },
      ) => (args: { input: unknown }) => Promise<{ output: unknown; response: unknown }>,
      options: { step: 'initialize'; name: string; priority: 'high' },
    ): void;
  };
}

/**
 * Routes the handlers' own SDK clients (the module-scope ones in shared/aws/) into the simulated
 * world: a middleware at the front of each client's stack answers every command from the world
 * before anything is serialized, signed or sent. The code that runs is the code Lambda runs.
 */
export function routeClientsTo(world: World): void {
  current = world;
  if (attached) return;
  attached = true;
  const clients: [MiddlewareClient, Service][] = [
    [ec2 as unknown as MiddlewareClient, 'ec2'],
    [elbv2 as unknown as MiddlewareClient, 'elbv2'],
    [autoscaling as unknown as MiddlewareClient, 'autoscaling'],
    [route53 as unknown as MiddlewareClient, 'route53'],
    [imagebuilder as unknown as MiddlewareClient, 'imagebuilder'],
    [cloudwatch as unknown as MiddlewareClient, 'cloudwatch'],
    [sns as unknown as MiddlewareClient, 'sns'],
    [s3 as unknown as MiddlewareClient, 's3'],
    [sfn as unknown as MiddlewareClient, 'sfn'],
    [dynamodb as unknown as MiddlewareClient, 'dynamodb'],
    [secrets as unknown as MiddlewareClient, 'secretsmanager'],
    [eventbridge as unknown as MiddlewareClient, 'events'],
    // The command line's (cli/): it reads the service stack's outputs and who the caller is, and
    // plan asks IAM whether the bake's instance profile can read the release bucket.
    [cloudformation as unknown as MiddlewareClient, 'cloudformation'],
    [sts as unknown as MiddlewareClient, 'sts'],
    [iam as unknown as MiddlewareClient, 'iam'],
  ];
  for (const [client, service] of clients) {
    client.middlewareStack.add(
      (_next, context) => async (args) => {
        const world = accounts.getStore() ?? current;
        if (!world) throw new Error('no simulated world is active');
        const operation = (context.commandName ?? '').replace(/Command$/, '');
        const output = (await world.call(service, operation, args.input)) as Record<string, unknown>;
        return {
          output: { ...output, $metadata: { httpStatusCode: 200, requestId: 'simulated' } },
          response: {},
        };
      },
      { step: 'initialize', name: 'simulatedAws', priority: 'high' },
    );
  }
}
