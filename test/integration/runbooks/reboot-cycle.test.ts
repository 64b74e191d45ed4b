import { rebootCycleSuite } from './rebootCycle.js';

// The lab's own power driver, on 198.18.24.x.
rebootCycleSuite(24, 'lab');
