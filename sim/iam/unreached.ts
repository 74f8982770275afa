import { ACCOUNT, REGION, SIGNING_SECRET_ID } from '../world.ts';
import { type IamRequest, secretArn } from './requests.ts';

const build = `arn:aws:imagebuilder:${REGION}:${ACCOUNT}:image/bluegreen-web-prod-0123456789ab/1.0.0/1`;
const ami = `arn:aws:ec2:${REGION}::image/ami-00000000000000011`;
const execution = `arn:aws:states:${REGION}:${ACCOUNT}:execution:bluegreen-ec2-sim-deploy:web-prod-1_2_0-0123456789`;
const describeInstances: IamRequest = { action: 'ec2:DescribeInstances', resource: '*', context: {} };
const tagAmi: IamRequest = {
  action: 'ec2:CreateTags',
  resource: ami,
  context: {
    'aws:ResourceTag/CreatedBy': 'EC2 Image Builder',
    'aws:ResourceTag/Ec2ImageBuilderArn': build,
    'aws:RequestTag/bluegreen:managed-by': 'bluegreen-ec2',
    'aws:RequestTag/bluegreen:artifact-id': '0123456789abcdef',
    'aws:TagKeys': ['bluegreen:managed-by', 'bluegreen:artifact-id'],
  },
};

/**
 * Calls in the functions' code that no test makes against the simulated account, with why, and
 * the requests AWS would authorize for them, which the IAM evaluation judges as written here. Each
 * is a gap in the simulated tests to close with a scenario that reaches it.
 */
export const NOT_REACHED_IN_THE_SIMULATOR: Record<string, { why: string; requests: IamRequest[] }> = {
  // Naming who launched an instance found in green's slot: the scenarios lock-lost-second-deploy
  // (the claim is found first) and foreign-instance-in-green (found by checkStep) reach the others;
  // next-upload-hours-after-blue-died reaches planDeployment's and launchGreen's (targets left in
  // green's slot whose instances are gone).
  'shiftTraffic DescribeInstances': {
    why: "names an instance registered in green's slot between a step's check and the next step, the same virtual moment: no scenario lands there",
    requests: [describeInstances],
  },
  'watchWindow DescribeInstances': {
    why: "names an instance registered in green's slot during the termination window: no scenario registers one then",
    requests: [describeInstances],
  },
  'checkBake CancelImageCreation': {
    why: 'cancels a build still running at bake.timeoutMinutes: every simulated build ends in time (test/handlers/check-bake.test.ts, mocked)',
    requests: [{ action: 'imagebuilder:CancelImageCreation', resource: build, context: {} }],
  },
  'awaitBake SendTaskSuccess': {
    why: 'resumes its own wait when the build ended before it parked: no simulated test lands there (test/handlers/await-bake.test.ts, mocked)',
    requests: [{ action: 'states:SendTaskSuccess', resource: '*', context: {} }],
  },
  'watchAlarms SendTaskFailure': {
    why: 'fails its own wait when an alarm was already in ALARM as it parked: no simulated test lands there (test/handlers/watch-alarms.test.ts, mocked)',
    requests: [{ action: 'states:SendTaskFailure', resource: '*', context: {} }],
  },
  'approvalPage GetSecretValue': {
    why: 'the simulator runs every function in one process, so the signing key requestApproval read is already in the shared module cache',
    requests: [
      { action: 'secretsmanager:GetSecretValue', resource: secretArn(SIGNING_SECRET_ID), context: {} },
    ],
  },
  'recoverExecution SendTaskFailure': {
    why: 'supersedes a parked waiter while handing on the lock: no simulated test reaches it',
    requests: [{ action: 'states:SendTaskFailure', resource: '*', context: {} }],
  },
  'recoverExecution CreateTags': {
    why: 'tags the AMI of a build that finished as the deployment was stopped: no simulated test reaches it (test/handlers/bake-cleanup.test.ts, mocked)',
    requests: [tagAmi],
  },
  'notify CreateTags': {
    why: 'tags the AMI of a build that finished as the deployment failed: no simulated test reaches it (test/handlers/bake-cleanup.test.ts, mocked)',
    requests: [tagAmi],
  },
  'notify DescribeExecution': {
    why: 'asks whether a waiter still runs while handing on the lock: no simulated test reaches it',
    requests: [{ action: 'states:DescribeExecution', resource: execution, context: {} }],
  },
  'notify SendTaskFailure': {
    why: 'supersedes a parked waiter while handing on the lock: no simulated test reaches it',
    requests: [{ action: 'states:SendTaskFailure', resource: '*', context: {} }],
  },
};
