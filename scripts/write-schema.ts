import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { toJsonSchema } from '@valibot/to-json-schema';
import type * as v from 'valibot';
import { deployConfigSchema } from '#shared/domain/config.ts';

/** Writes schema/deploy-config.schema.json from the valibot schema (`npm run schema`). */
export const SCHEMA_PATH = resolve(import.meta.dirname, '../schema/deploy-config.schema.json');

/**
 * What the published schema cannot say, in its `$comment`: the rules `bluegreen validate` (and the
 * service, before anything launches) applies beyond it. The rules across fields that JSON Schema can
 * state are in the schema itself (config.ts gives each its JSON Schema form).
 */
export const NOT_IN_SCHEMA = [
  'traffic.steps must increase (JSON Schema cannot compare items; it checks that they are distinct and end at 100)',
  'slots.a and slots.b must use different target groups (JSON Schema cannot compare two values)',
  "notifications.topicArn must be the service's own topic or one in its account and Region whose name matches the stack parameter NotificationTopicNames (it depends on where the service is deployed)",
];

/** The published JSON Schema of the config, for editor completion in config files. */
export function renderSchema(): string {
  return `${JSON.stringify(
    {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      ...toJsonSchema(deployConfigSchema, {
        target: 'draft-2020-12',
        typeMode: 'input',
        // A check is a function: its JSON Schema form, where there is one, is the metadata beside it.
        ignoreActions: ['check'],
        // JSON Schema patterns are Unicode-aware already: the `u` flag (for \\p{Cc}) carries over as is.
        overrideAction: ({ valibotAction, jsonSchema }) => {
          if (valibotAction.type !== 'regex') return undefined;
          const { requirement } = valibotAction as v.RegexAction<
            string,
            v.ErrorMessage<v.RegexIssue<string>>
          >;
          return requirement.flags === 'u' ? { ...jsonSchema, pattern: requirement.source } : undefined;
        },
      }),
      $id: 'https://github.com/bluegreen-ec2/bluegreen-ec2/schema/deploy-config.schema.json',
      title: 'bluegreen-ec2 deployment config',
      $comment: `This schema cannot express every rule; \`bluegreen validate FILE\` applies all of them, as the service does before anything launches. Not expressed here: ${NOT_IN_SCHEMA.join('; ')}.`,
    },
    null,
    2,
  )}\n`;
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  writeFileSync(SCHEMA_PATH, renderSchema());
  console.log(`wrote ${SCHEMA_PATH}`);
}
