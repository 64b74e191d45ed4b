/** The runbook engine: steps, journal, resume, locks, approvals, dry-run plan. */
export * from './types.js';
export { startRun, resumeRun, ancestry, type RunOptions, type ResumeOptions, type RunResult } from './runner.js';
export { planRun, renderPlan, type PlanView, type PlannedStep } from './plan.js';
export { terminalApprover, type Approver, type ApprovalRequest } from './approval.js';
export { lineProgress, silentProgress, type ProgressSink, type ProgressEvent } from './progress.js';
export { silentNotifier } from './notifications.js';
export { LockSet, listLocks, lockFile, readLock, DEFAULT_LOCK_TTL_MS, type LockRecord } from './locks.js';
export { JournalWriter, readJournal, journaled, type JournaledOutcome, type JournaledRecords } from './journal.js';
export { runStateFromJournal, isDone, type RunState, type StepState, type RunStatus } from './runState.js';
export { listRuns, loadRun } from './runs.js';
export { renderRun, renderRunList, runJson } from './summary.js';
export { renderDocs, renderRunbookDocs, sampleCommands, sampleParams } from './docs.js';
export { paramSpecs, parseParams, rawParamsFromFlags, flagOf, type ParamSpec } from './params.js';
export { durationParam, parseDuration, formatDuration } from '../core/duration.js';
export { resolveStateDir, runDir, journalFile, locksDir } from './stateDir.js';
export { newRunId, isRunId } from './runId.js';
export { runbookVersion } from './version.js';
export { stopOnSignals } from './signals.js';
