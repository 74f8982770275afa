#!/usr/bin/env node
// The `bluegreen` command line: runs cli/main.ts through tsx, on the Node the repo brings.
import { register } from 'tsx/esm/api';

register();
// A reader that stops early (`| head`) closes the pipe: what was written stands, and the command
// ends quietly with 0 rather than with a stack trace.
for (const stream of [process.stdout, process.stderr])
  stream.on('error', (error) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(0);
  });
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
