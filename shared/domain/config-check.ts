import { type ConfigParseResult, type DeployConfig, parseConfigText } from './config.ts';
import { topicProblem } from './notifications.ts';

/** What a config's rules depend on of the service itself: its own topic and the topics it may use. */
export interface ServiceSide {
  topicArn: string;
  /** The stack parameter NotificationTopicNames (IAM wildcards). */
  topicNames: string;
}

/**
 * Every rule the service applies to a config's text on its own, before it reads the account: the
 * schema (its rules across fields included), then where the notifications may go. Plan applies it
 * to the config it reads, `bluegreen validate` to a file: one set of rules, so a file validate
 * accepts is one Plan accepts (as far as the account agrees: alarms, slots, fleets). `service` may
 * be found from the config itself (validate has no stack to ask: the service runs where the slots are).
 */
export function checkConfigText(
  text: string,
  service: ServiceSide | ((config: DeployConfig) => ServiceSide),
): ConfigParseResult {
  const parsed = parseConfigText(text);
  if (!parsed.ok) return parsed;
  const topic = parsed.config.notifications.topicArn;
  const { topicArn, topicNames } = typeof service === 'function' ? service(parsed.config) : service;
  const refused = topic ? topicProblem(topic, topicArn, topicNames) : undefined;
  return refused ? { ok: false, problems: [refused] } : parsed;
}
