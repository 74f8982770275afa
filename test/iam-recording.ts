import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, inject } from 'vitest';
import { IamRecorder } from '../sim/iam/recorder.ts';

// Every test file: each AWS call a handler makes into a simulated world (scenarios, the fault
// matrix, recovery and lock tests, the approval page...) is evaluated against the packaged IAM
// role of its function when the file ends. A call the role would deny fails the file; the totals
// are printed at the end of the run (test/global-setup.ts).

const recorder = new IamRecorder().start();

afterAll(async () => {
  recorder.stop();
  const result = await recorder.evaluate(inject('iamPolicies'));
  writeFileSync(join(inject('iamResults'), `${randomUUID()}.json`), JSON.stringify(result));
  if (result.denied.length > 0 || result.unattributed.length > 0) {
    throw new Error(
      [
        ...result.denied.map((d) => `denied by the packaged role: ${d}`),
        ...result.unattributed.map((u) => `made outside any function's handler: ${u}`),
      ].join('\n'),
    );
  }
});
