#!/usr/bin/env node
// The `isfuse` executable: see program.ts. Exit status: 0 success, 2 bad usage or bad input, 1 otherwise,
// 130 / 143 when interrupted (SIGINT / SIGTERM).
import { main } from './program.js';

process.exitCode = await main(process.argv.slice(2));
