import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { toJSONSchema } from 'zod/mini';
import { deployConfigSchema, descriptions } from '#shared/domain/config.ts';

/** Writes schema/deploy-config.schema.json from the zod schema (`npm run schema`). */
export const SCHEMA_PATH = resolve(import.meta.dirname, '../schema/deploy-config.schema.json');

/** The published JSON Schema of the config, for editor completion in config files. */
export function renderSchema(): string {
  return `${JSON.stringify(
    {
      ...(toJSONSchema(deployConfigSchema, {
        io: 'input',
        target: 'draft-2020-12',
        metadata: descriptions,
      }) as Record<string, unknown>),
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
