/**
 * An account's API rate limits, as EC2 and Route 53 document them: a request the limit refuses is
 * throttled and takes nothing from it, so a retried request competes only with what was admitted.
 */

/**
 * A token bucket: it holds at most `capacity` tokens and gains `refillPerSecond` a second; a
 * request takes its cost in tokens, or is refused (throttled) when the bucket holds fewer.
 */
export class TokenBucket {
  private tokens: number;
  private at: number;

  constructor(
    readonly capacity: number,
    readonly refillPerSecond: number,
    now: number,
  ) {
    this.tokens = capacity;
    this.at = now;
  }

  private refill(now: number): void {
    if (now > this.at) {
      this.tokens = Math.min(this.capacity, this.tokens + ((now - this.at) / 1000) * this.refillPerSecond);
      this.at = now;
    }
  }

  /** Takes `cost` tokens if the bucket holds them (true), or takes none (false: throttled). */
  take(now: number, cost = 1): boolean {
    this.refill(now);
    if (this.tokens < cost) return false;
    this.tokens -= cost;
    return true;
  }
}

type Bucket = readonly [capacity: number, refillPerSecond: number];

/**
 * EC2's request token buckets ("Request throttling for the Amazon EC2 API", EC2 Developer Guide,
 * https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html, read 2026-12): each API
 * action has its own bucket per account and Region ("Limits are applied to individual API actions,
 * not API action categories"), sized by the action's category, or by the action itself where the
 * guide lists it as uncategorized.
 */
const EC2_REQUEST = {
  /** Describe*, List*, Search*, Get* not in another category. */
  nonMutating: [100, 20],
  /** DescribeInstances (and a few others) asked with neither a filter nor pagination. */
  unfilteredUnpaginated: [50, 10],
  mutating: [50, 5],
  /** Uncategorized actions with their own sizes. */
  RunInstances: [5, 2],
  TerminateInstances: [100, 5],
  CreateTags: [100, 10],
  DeleteTags: [100, 10],
} as const satisfies Record<string, Bucket>;

/** The actions the guide lists as "unfiltered and unpaginated non-mutating actions". */
const UNFILTERED_UNPAGINATED = new Set([
  'DescribeInstances',
  'DescribeInstanceStatus',
  'DescribeNetworkInterfaces',
  'DescribeSecurityGroups',
  'DescribeSnapshots',
  'DescribeSpotInstanceRequests',
  'DescribeVolumes',
]);

/**
 * EC2's resource token buckets (the same guide, "Resource token bucket sizes and refill rates"):
 * besides its request, RunInstances takes a token per instance launched and TerminateInstances
 * one per instance terminated. 1,000 instances can launch at once, then 2 a second.
 */
export const EC2_RESOURCE = {
  RunInstances: [1000, 2],
  TerminateInstances: [1000, 20],
} as const satisfies Record<string, Bucket>;

/** The bucket an EC2 request draws on: its action's own, sized by its category. */
function ec2RequestBucket(operation: string, input: unknown): { key: string; size: Bucket } {
  if (operation in EC2_REQUEST)
    return { key: operation, size: EC2_REQUEST[operation as keyof typeof EC2_REQUEST] };
  if (/^(Describe|List|Search|Get)/.test(operation)) {
    const { Filters, MaxResults, NextToken } = (input ?? {}) as Record<string, unknown>;
    const narrowed = (Array.isArray(Filters) && Filters.length > 0) || MaxResults !== undefined || NextToken;
    // The smaller bucket is its own, beside the action's standard one.
    if (UNFILTERED_UNPAGINATED.has(operation) && !narrowed)
      return { key: `${operation} (unfiltered, unpaginated)`, size: EC2_REQUEST.unfilteredUnpaginated };
    return { key: operation, size: EC2_REQUEST.nonMutating };
  }
  return { key: operation, size: EC2_REQUEST.mutating };
}

/**
 * Route 53's rate: "All requests: Five requests per second per AWS account. If you submit more
 * than five requests per second, Route 53 returns an HTTP 400 error (Bad request)" with the code
 * Throttling (Route 53 Developer Guide, quotas on API requests; DESIGN.md). Route 53 has since
 * documented a token bucket of 50 requests refilled at 10 a second per account
 * (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/throttling-api-requests.html): the
 * simulator keeps the stricter five admitted requests in any one second.
 */
export class SlidingWindowLimit {
  private readonly admitted: number[] = [];

  constructor(readonly perSecond: number) {}

  take(now: number): boolean {
    while (this.admitted.length > 0 && (this.admitted[0] ?? 0) <= now - 1000) this.admitted.shift();
    if (this.admitted.length >= this.perSecond) return false;
    this.admitted.push(now);
    return true;
  }
}

/** EC2's request buckets of one account and Region, created full as each action is first called. */
export class Ec2RateLimits {
  private readonly requests = new Map<string, TokenBucket>();
  private readonly resources = new Map<string, TokenBucket>();

  constructor(private readonly now: () => number) {}

  /** Whether EC2 admits this request (its action's request bucket has a token). */
  admitRequest(operation: string, input: unknown): boolean {
    const { key, size } = ec2RequestBucket(operation, input);
    let bucket = this.requests.get(key);
    if (!bucket) {
      bucket = new TokenBucket(size[0], size[1], this.now());
      this.requests.set(key, bucket);
    }
    return bucket.take(this.now());
  }

  /** Whether the action's resource bucket holds a token for each of `count` instances (then takes them). */
  admitResources(operation: keyof typeof EC2_RESOURCE, count: number): boolean {
    let bucket = this.resources.get(operation);
    if (!bucket) {
      const [capacity, refill] = EC2_RESOURCE[operation];
      bucket = new TokenBucket(capacity, refill, this.now());
      this.resources.set(operation, bucket);
    }
    return bucket.take(this.now(), count);
  }
}
