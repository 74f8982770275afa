import { readObject } from '../aws/s3.ts';
import { type DeployConfig, parseConfigText } from '../domain/config.ts';
import type { PinnedConfig } from '../domain/workflow.ts';
import { InvalidConfig } from '../errors.ts';

/**
 * The config this deployment planned with, read by the S3 version Plan pinned: what the plan does
 * not carry (alarm names, approvers, the install command) so that the execution state stays small
 * however long the config's lists are. A config uploaded since changes nothing of a running deploy.
 * Read once per task that needs it (one small GET), not cached: nothing else is kept across calls.
 */
export async function pinnedConfig(plan: { config: PinnedConfig }): Promise<DeployConfig> {
  const where = plan.config;
  const object = await readObject(where.bucket, where.key, where.versionId);
  const name = `s3://${where.bucket}/${where.key} (version ${where.versionId})`;
  if (!object) throw new InvalidConfig(`${name}, which this deployment planned with, no longer exists`);
  const parsed = parseConfigText(object.text);
  if (!parsed.ok) throw new InvalidConfig(`${name}: ${parsed.problems.join('; ')}`);
  return parsed.config;
}
