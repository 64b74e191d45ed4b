#!/usr/bin/env node
// Entry point: the CLI, compiled or from its sources (bin/launch.js says which).
import { launch } from './launch.js';

await launch('cli/main');
