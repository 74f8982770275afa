/** Writes statemachines/deploy.asl.yml and rollback.asl.yml from statemachines/deploy.ts (`npm run asl`). */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Document, isMap, isPair, isScalar, isSeq, visit } from 'yaml';
import { ASL_PATH, ROLLBACK_ASL_PATH } from '../sim/definition.ts';
import { deployMachine, rollbackMachine } from '../statemachines/deploy.ts';

const HEADER = `# Generated from statemachines/deploy.ts by \`npm run asl\`: edit that file, then run the command.
# test/unit/asl.test.ts fails when this file is stale. The reasons behind each retry and catch
# policy are comments in the source.
`;

/** The ASL as YAML that reads like the hand-written file it replaces: one blank line between states. */
export function renderAsl(definition: object = deployMachine()): string {
  const doc = new Document(definition, { aliasDuplicateObjects: false });
  visit(doc, {
    Pair(_, pair) {
      const key = isScalar(pair.key) ? pair.key.value : undefined;
      // One line per retrier and catcher, and for a function's name: [planDeployment, Arn].
      if ((key === 'Retry' || key === 'Catch') && isSeq(pair.value)) {
        for (const item of pair.value.items) if (isMap(item)) item.flow = true;
      }
      if (key === 'Fn::GetAtt' && isSeq(pair.value)) pair.value.flow = true;
      if (key === 'States' && isMap(pair.value)) {
        for (const state of pair.value.items.slice(1))
          if (isPair(state) && isScalar(state.key)) state.key.spaceBefore = true;
      }
    },
  });
  return HEADER + doc.toString({ lineWidth: 0, flowCollectionPadding: false });
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  writeFileSync(ASL_PATH, renderAsl());
  writeFileSync(ROLLBACK_ASL_PATH, renderAsl(rollbackMachine()));
  console.log(`wrote ${ASL_PATH} and ${ROLLBACK_ASL_PATH}`);
}
