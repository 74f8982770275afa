import { Metrics } from '@aws-lambda-powertools/metrics';
import { worldOfWork } from './router.ts';
import { actor } from './world.ts';

/** One embedded-metric-format document the service wrote, as CloudWatch reads it. */
export interface EmittedMetrics {
  /** The execution whose task wrote it. */
  execution: string | null;
  namespace: string;
  /** Every dimension of the document by name (`service`, `app`, `env`). */
  dimensions: Record<string, string>;
  values: { name: string; unit: string; value: number }[];
}

/** A document as its task wrote it: the line Powertools writes on stdout in Lambda. */
export interface WrittenMetrics {
  execution: string | undefined;
  line: string;
}

let recording = false;

/**
 * Records in each simulated account the metrics its handlers publish: the document Powertools
 * serializes (the one it writes on stdout in Lambda, where CloudWatch Logs reads it) goes to the
 * world whose work published it, and Powertools then goes on as it would (the simulator keeps
 * metrics disabled, so nothing reaches stdout, where `--json` prints its report). Work outside any
 * simulated account publishes as before.
 */
export function recordMetricsPerWorld(): void {
  if (recording) return;
  recording = true;
  const publish = Metrics.prototype.publishStoredMetrics;
  Metrics.prototype.publishStoredMetrics = function (this: Metrics) {
    const world = worldOfWork();
    if (world && this.hasStoredMetrics())
      world.metrics.push({ execution: actor.getStore(), line: JSON.stringify(this.serializeMetrics()) });
    return publish.call(this);
  };
}

interface EmfDocument {
  _aws?: {
    CloudWatchMetrics?: {
      Namespace?: string;
      Dimensions?: string[][];
      Metrics?: { Name: string; Unit?: string }[];
    }[];
  };
  [key: string]: unknown;
}

/** What a written document says: its namespace, dimensions and each metric's unit and value. */
export function parseMetrics({ execution, line }: WrittenMetrics): EmittedMetrics[] {
  const doc = JSON.parse(line) as EmfDocument;
  return (doc._aws?.CloudWatchMetrics ?? []).map((directive) => ({
    execution: execution ?? null,
    namespace: directive.Namespace ?? '',
    dimensions: Object.fromEntries(
      [...new Set((directive.Dimensions ?? []).flat())].map((name) => [name, String(doc[name])]),
    ),
    values: (directive.Metrics ?? []).map(({ Name, Unit }) => {
      const value = doc[Name];
      if (typeof value !== 'number')
        throw new Error(`metric ${Name} has no single value: ${JSON.stringify(value)}`);
      return { name: Name, unit: Unit ?? 'None', value };
    }),
  }));
}
