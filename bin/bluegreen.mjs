#!/usr/bin/env node
// The `bluegreen` command line: runs cli/main.ts through tsx, on the Node the repo brings.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
