#!/usr/bin/env node
// The `isfuse` executable: see program.ts. Exit status: 0 success, 2 bad usage or bad input, 1 otherwise.
import { main } from './program.js';

process.exitCode = await main(process.argv.slice(2));
