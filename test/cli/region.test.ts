import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EXIT } from '../../cli/exit-codes.ts';
import { scenarioNamed, simulatedSession } from '../../cli/simulated.ts';
import { bluegreen } from '../support/cli.ts';

const saved = { ...process.env };
afterEach(() => {
  process.env = { ...saved };
});

describe('the Region of a command', () => {
  it('comes from the profile when neither --region nor AWS_REGION gives it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bluegreen-profile-'));
    writeFileSync(join(dir, 'config'), '[profile deployer]\nregion = eu-west-1\n');
    writeFileSync(join(dir, 'credentials'), '');
    process.env.AWS_CONFIG_FILE = join(dir, 'config');
    process.env.AWS_SHARED_CREDENTIALS_FILE = join(dir, 'credentials');
    return simulatedSession(scenarioNamed(undefined), 'sim', async (session) => {
      // The simulated account sets a Region of its own: none but the profile's is left.
      delete process.env.AWS_REGION;
      delete process.env.AWS_DEFAULT_REGION;
      const ran = await session.run(() =>
        bluegreen('status', 'web', 'prod', '--stage', 'sim', '--profile', 'deployer', '--json'),
      );
      expect(ran.stderr).not.toContain('no Region');
      expect(ran.code).toBe(EXIT.ok);
      // The profile's Region, which every client then uses.
      expect(process.env.AWS_REGION).toBe('eu-west-1');
    });
  });
});
