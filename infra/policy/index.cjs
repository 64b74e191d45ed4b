// Entry point for the Pulumi CLI, which loads policy packs with require(): the pack is TypeScript
// and ES modules, run through tsx like the rest of gameday (no build step). The CLI awaits the
// exported promise.
module.exports = import('tsx/esm/api').then(({ tsImport }) => tsImport('./index.ts', __filename));
