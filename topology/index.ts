export * from './schema.js';
export * from './kinds.js';
export * from './clusters.js';
export * from './load.js';
export * from './domains.js';
export * from './blastRadius.js';
export * from './placement.js';
export * from './report.js';
