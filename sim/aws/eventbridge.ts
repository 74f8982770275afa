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
  deliver: ((target: string, event: BusEvent) => void) | undefined;
  private count = 0;

  constructor(
    private readonly account: string,
    private readonly region: string,
    private readonly now: () => number,
  ) {}

  put(event: Omit<BusEvent, 'version' | 'id' | 'account' | 'region' | 'time'>): void {
    this.count += 1;
    const full: BusEvent = {
      version: '0',
      id: `sim-event-${this.count}`,
      account: this.account,
      region: this.region,
      time: new Date(this.now()).toISOString(),
      ...event,
    };
    if (this.lostSources.has(full.source)) return;
    for (const rule of this.rules) {
      if (!matches(rule.pattern, full)) continue;
      this.delivered.push({ at: this.now(), target: rule.target, event: full });
      this.deliver?.(rule.target, full);
    }
  }
}
