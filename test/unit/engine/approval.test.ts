import { afterEach, describe, expect, it } from 'vitest';
import { resumeRun, startRun } from '../../../engine/runner.js';
import { effectsOf, toyEntry, toyLookup } from '../../fixtures/runbooks/toy.js';
import { engineOptions, events, tempDirs } from '../../fixtures/runbooks/helpers.js';

const tmp = tempDirs();
afterEach(() => tmp.cleanup());

describe('approvals', () => {
  it('without a terminal and without --yes, the run stops at the approval step and resumes with --yes', async () => {
    const stateDir = tmp.make();
    const dir = tmp.make();
    const first = await startRun(toyEntry(), { dir, approve: true }, engineOptions(stateDir));
    expect(first.state).toBe('waiting-approval');
    expect(first.run.state).toBe('waiting-approval');
    expect(effectsOf(dir)).toEqual(['ran append-a']);
    expect(events(stateDir, first.runId, 'approve').map((e) => [e.event, e.data?.state])).toEqual([
      ['intent', undefined],
      ['approval', 'requested'],
    ]);

    // Resuming without --yes never assumes it.
    const again = await resumeRun(first.runId, toyLookup, engineOptions(stateDir));
    expect(again.state).toBe('waiting-approval');
    expect(effectsOf(dir)).toEqual(['ran append-a']);

    const done = await resumeRun(first.runId, toyLookup, engineOptions(stateDir, { yes: true }));
    expect(done.state).toBe('succeeded');
    expect(effectsOf(dir)).toEqual(['ran append-a', 'ran append-b', 'ran append-c']);
    const approvals = events(stateDir, first.runId, 'approve').filter((e) => e.event === 'approval').map((e) => `${e.data?.state}${e.data?.by ? ` by ${e.data.by}` : ''}`);
    expect(approvals).toEqual(['requested', 'requested', 'granted by --yes']);
  });

  it('asks the approver (the terminal) when there is one: yes goes on, no stops the run, resumable', async () => {
    const stateDir = tmp.make();
    const dir = tmp.make();
    const asked: string[] = [];
    const no = await startRun(toyEntry(), { dir, approve: true }, engineOptions(stateDir, {
      approver: async (req) => {
        asked.push(`${req.stepId}: ${req.prompt}`);
        return 'denied';
      },
    }));
    expect(asked).toEqual(['approve: Append b and c?']);
    expect(no.state).toBe('stopped');
    expect(no.stopReason).toBe('approval denied at step approve');
    expect(effectsOf(dir)).toEqual(['ran append-a']);

    const yes = await resumeRun(no.runId, toyLookup, engineOptions(stateDir, { approver: async () => 'granted' }));
    expect(yes.state).toBe('succeeded');
    expect(events(stateDir, no.runId, 'approve').filter((e) => e.event === 'approval').map((e) => e.data?.state)).toEqual(['requested', 'denied', 'requested', 'granted']);
  });
});
