/** An event on the default bus, shaped as AWS services put them. */
export interface BusEvent {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, unknown>;
}

export interface BusRule {
  target: string;
  pattern: Record<string, unknown>;
}

/** EventBridge pattern matching, the subset rules here use: exact values listed in arrays, nested objects. */
export function matches(pattern: unknown, value: unknown): boolean {
  if (Array.isArray(pattern)) {
    const values = Array.isArray(value) ? value : [value];
    return values.some((v) => pattern.some((p) => JSON.stringify(p) === JSON.stringify(v)));
  }
  if (pattern && typeof pattern === 'object') {
    if (!value || typeof value !== 'object') return false;
    return Object.entries(pattern).every(([key, sub]) =>
      matches(sub, (value as Record<string, unknown>)[key]),
    );
  }
  return pattern === value;
}

/**
 * The default event bus: rules (from serverless.yml) route events to functions, a second after the
 * event, as EventBridge does in near real time. Delivery can be switched off per source to show
 * what the fallbacks do when events are lost (EventBridge delivers AWS service events best effort).
 */
export class EventBusModel {
  readonly rules: BusRule[] = [];
  readonly delivered: { at: number; target: string; event: BusEvent }[] = [];
  readonly lostSources = new Set<string>();
  /** Scheduled rules (serverless.yml `schedule`) switched off, by target function. */
  readonly schedulesOff = new Set<string>();
  /** The invocations scheduled rules made: when, and which function. */
  readonly scheduled: { at: number; target: string }[] = [];
  deliver: ((target: string, event: BusEvent) => void) | undefined;
  private count = 0;

  constructor(
    private readonly account: string,
    private readonly region: string,
    private readonly now: () => number,
  ) {}

  /** What the service itself put (PutEvents), in order: its progress events. */
  readonly putByService: BusEvent[] = [];

  /**
   * PutEvents on the default bus, as the service's functions call it: each entry's Detail is a JSON
   * object (EventBridge refuses an entry whose Detail is not), and every entry is accepted.
   */
  PutEvents(input: {
    Entries?: { Source?: string; DetailType?: string; Detail?: string; EventBusName?: string }[];
  }): { FailedEntryCount: number; Entries: { EventId: string }[] } {
    const entries = input.Entries ?? [];
    if (entries.length === 0 || entries.length > 10) {
      throw Object.assign(new Error('PutEvents takes 1 to 10 entries'), { name: 'ValidationException' });
    }
    return {
      FailedEntryCount: 0,
      Entries: entries.map((entry) => {
        if (entry.EventBusName && entry.EventBusName !== 'default') {
          throw Object.assign(new Error(`event bus ${entry.EventBusName} does not exist`), {
            name: 'ResourceNotFoundException',
          });
        }
        const detail = JSON.parse(entry.Detail ?? '{}') as Record<string, unknown>;
        const event = this.stamp({
          source: entry.Source ?? '',
          'detail-type': entry.DetailType ?? '',
          resources: [],
          detail,
        });
        this.putByService.push(event);
        this.route(event);
        return { EventId: event.id };
      }),
    };
  }

  put(event: Omit<BusEvent, 'version' | 'id' | 'account' | 'region' | 'time'>): void {
    this.route(this.stamp(event));
  }

  private stamp(event: Omit<BusEvent, 'version' | 'id' | 'account' | 'region' | 'time'>): BusEvent {
    this.count += 1;
    const full: BusEvent = {
      version: '0',
      id: `sim-event-${this.count}`,
      account: this.account,
      region: this.region,
      time: new Date(this.now()).toISOString(),
      ...event,
    };
    return full;
  }

  private route(full: BusEvent): void {
    if (this.lostSources.has(full.source)) return;
    for (const rule of this.rules) {
      if (!matches(rule.pattern, full)) continue;
      this.delivered.push({ at: this.now(), target: rule.target, event: full });
      this.deliver?.(rule.target, full);
    }
  }
}
