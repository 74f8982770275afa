import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { toJsonSchema } from '@valibot/to-json-schema';
import type * as v from 'valibot';
import { deployConfigSchema } from '#shared/domain/config.ts';

/** Writes schema/deploy-config.schema.json from the valibot schema (`npm run schema`). */
export const SCHEMA_PATH = resolve(import.meta.dirname, '../schema/deploy-config.schema.json');

/** The published JSON Schema of the config, for editor completion in config files. */
export function renderSchema(): string {
  return `${JSON.stringify(
    {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      ...toJsonSchema(deployConfigSchema, {
        target: 'draft-2020-12',
        typeMode: 'input',
        // Rules across fields (steps increase, id or name, distinct target groups) have no JSON
        // Schema form; the service checks them and names the field in its error.
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
    },
    null,
    2,
  )}\n`;
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  writeFileSync(SCHEMA_PATH, renderSchema());
  console.log(`wrote ${SCHEMA_PATH}`);
}
