import type { WorldContext } from './context.ts';
import { awsError } from './errors.ts';

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED' | 'TIMED_OUT';

export interface SimExecution {
  arn: string;
  name: string;
  input: string;
  status: ExecutionStatus;
  startedAt: number;
  stoppedAt?: number;
  error?: string;
  cause?: string;
  output?: unknown;
  transitions: number;
  /** Every state entered, with the virtual time, for reports. */
  states: { at: number; name: string }[];
}

/**
 * Step Functions (Standard) as the starter sees it: names are unique, a repeated start with the
 * same name and input while the execution runs returns it, anything else with that name is
 * ExecutionAlreadyExists. Starting an execution hands it to the runner.
 */
export class SfnModel {
  readonly executions = new Map<string, SimExecution>();
  onStart: ((execution: SimExecution) => void) | undefined;

  constructor(
    private readonly world: WorldContext,
    readonly stateMachineArn: string,
  ) {}

  StartExecution(input: { stateMachineArn?: string; name?: string; input?: string }) {
    if (input.stateMachineArn !== this.stateMachineArn) {
      throw awsError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${input.stateMachineArn}'`);
    }
    const name = input.name ?? this.world.id('', 32);
    if (!/^[A-Za-z0-9_-]{1,80}$/.test(name)) throw awsError('InvalidName', `Invalid Name: '${name}'`);
    const existing = this.executions.get(name);
    if (existing) {
      if (existing.status === 'RUNNING' && existing.input === (input.input ?? '{}')) {
        return { executionArn: existing.arn, startDate: new Date(existing.startedAt) };
      }
      throw awsError('ExecutionAlreadyExists', `Execution Already Exists: '${existing.arn}'`);
    }
    const execution: SimExecution = {
      arn: `${this.stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`,
      name,
      input: input.input ?? '{}',
      status: 'RUNNING',
      startedAt: this.world.now(),
      transitions: 0,
      states: [],
    };
    this.executions.set(name, execution);
    this.onStart?.(execution);
    return { executionArn: execution.arn, startDate: new Date(execution.startedAt) };
  }

  DescribeExecution(input: { executionArn?: string }) {
    const execution = [...this.executions.values()].find((e) => e.arn === input.executionArn);
    if (!execution)
      throw awsError('ExecutionDoesNotExist', `Execution Does Not Exist: '${input.executionArn}'`);
    return {
      executionArn: execution.arn,
      name: execution.name,
      status: execution.status,
      startDate: new Date(execution.startedAt),
      input: execution.input,
    };
  }
}
