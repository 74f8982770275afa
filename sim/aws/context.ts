import type { SimInstance } from './ec2.ts';

/** What the service models need from the world around them: time, ids and the monitor's hooks. */
export interface WorldContext {
  /** The Region the functions run in (their clients call it). */
  readonly region: string;
  now(): number;
  /** A new id with the prefix and that many hex digits, deterministic per world. */
  id(prefix: string, hexDigits: number): string;
  /** Called before an instance is terminated, while its registrations and traffic are as they were. */
  beforeTerminate(instance: SimInstance): void;
  /** Called after a Route 53 change batch was applied. */
  afterRecordsChange(zoneId: string): void;
  /** Runs `action` at virtual time `at`. */
  schedule(at: number, action: () => void): void;
  /** Puts an event on the default event bus. */
  readonly events: {
    put(event: {
      source: string;
      'detail-type': string;
      resources: string[];
      detail: Record<string, unknown>;
    }): void;
  };
}
