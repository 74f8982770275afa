import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { loadFunctionHandlers } from '../sim/definition.ts';
import { OPERATOR_POLICY_TEMPLATE, operatorPolicies } from '../sim/iam/operator.ts';
import { packagedPolicies, type RecordingResult } from '../sim/iam/recorder.ts';
import type { PolicyDocument } from '../sim/iam/template.ts';
import { NOT_REACHED_IN_THE_SIMULATOR } from '../sim/iam/unreached.ts';
import { cachedTemplatePath, sdkUse } from '../sim/packaging.ts';
import { OPERATOR } from '../sim/world.ts';
import { readTemplate } from './support/cfn-template.ts';

declare module 'vitest' {
  interface ProvidedContext {
    /** Each function's packaged role (stage sim, resolved once), and the operator policy (the command line's calls), every recorded call is evaluated against. */
    iamPolicies: Record<string, PolicyDocument[]>;
    /** Where each test file writes what its recording found. */
    iamResults: string;
  }
}

/** Test files of the suite, to tell a whole run from a partial one. */
function testFiles(dir = join(import.meta.dirname)): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? testFiles(join(dir, entry.name))
      : entry.name.endsWith('.test.ts')
        ? [join(dir, entry.name)]
        : [],
  );
}

export default async function setup(project: TestProject) {
  const results = mkdtempSync(join(tmpdir(), 'bluegreen-iam-'));
  project.provide('iamPolicies', {
    ...packagedPolicies(await cachedTemplatePath('sim')),
    // The command line's calls, made with the operator's credentials (README "Command line").
    [OPERATOR]: operatorPolicies(
      readTemplate(OPERATOR_POLICY_TEMPLATE) as unknown as Record<string, unknown>,
    ),
  });
  project.provide('iamResults', results);
  return async () => {
    const files = readdirSync(results).map(
      (f) => JSON.parse(readFileSync(join(results, f), 'utf8')) as RecordingResult,
    );
    rmSync(results, { recursive: true, force: true });
    const allowed = new Set(files.flatMap((f) => f.allowed));
    const calls = files.reduce((sum, f) => sum + f.calls, 0);
    console.log(
      `IAM evaluation: ${allowed.size} distinct requests from ${calls} recorded AWS calls in ${files.length} test files, each allowed by its function's packaged role (the command line's by the operator policy)`,
    );
    // Only a whole run can tell whether some call of the code was never evaluated.
    if (files.length < testFiles().length) return;
    const reached = new Set(files.flatMap((f) => f.reached));
    const missing: string[] = [];
    for (const [fn, { module }] of Object.entries(loadFunctionHandlers())) {
      const { commands } = await sdkUse(module.replace(/^.*\/functions\//, 'functions/'));
      for (const command of [...commands.values()].flatMap((set) => [...set])) {
        const operation = command.replace(/Command$/, '');
        const key = `${fn} ${operation}`;
        if (!reached.has(key) && !(key in NOT_REACHED_IN_THE_SIMULATOR)) missing.push(`${fn}: ${operation}`);
      }
    }
    if (missing.length > 0) {
      throw new Error(
        `IAM evaluation: these calls of the code were never made against the simulated account, so their permissions are unproven:\n${missing.join('\n')}`,
      );
    }
  };
}
