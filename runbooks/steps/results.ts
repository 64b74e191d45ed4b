import type { StepContext } from '../../engine/types.js';

/**
 * What one step hands the steps after it: the step's id together with the
 * type of the result its `run` returns. The engine keeps every succeeded
 * step's result by id in `ctx.results`, untyped (and gives them back from the
 * journal on resume); a key names both ends of the hand-over in one place:
 * the step takes its id from the key, a later step reads its result through
 * it. The type is that of the JSON the journal holds: what `run` returned
 * after a round trip through JSON (no Date, no undefined fields).
 */
export interface ResultKey<T> {
  readonly id: string;
  /** Never set: it only carries the result's type. */
  readonly resultType?: T;
}

export function resultKey<T>(id: string): ResultKey<T> {
  return { id };
}

/** What reading a result needs of a step's context (describe and prompt get it too). */
export type WithResults = Pick<StepContext, 'results'>;

/** The step's result, or undefined when it has not succeeded in this run (not yet, or a dry run). */
export function resultOf<T>(ctx: WithResults, key: ResultKey<T>): T | undefined {
  return (ctx.results[key.id] ?? undefined) as T | undefined;
}

/** The step's result; throws an Error with the message `missing` when it has none. */
export function requireResult<T>(ctx: WithResults, key: ResultKey<T>, missing: string): T {
  const result = resultOf(ctx, key);
  if (result === undefined) throw new Error(missing);
  return result;
}
