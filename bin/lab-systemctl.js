#!/usr/bin/env node
// The lab's systemctl (lab/systemctlMain.ts), run by ssh/bin/systemctl on a
// --power ssh lab's hosts; compiled when current, as the CLI (bin/launch.js):
// never a stale copy writing the lab's state.
import { launch } from './launch.js';

await launch('lab/systemctlMain');
