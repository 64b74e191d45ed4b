import type { Options, ResultPromise } from 'execa';

/**
 * execa, loaded on first use: importing it costs about 0.15 s, which every
 * CLI start paid whether or not it ran a program. Only awaitable (the
 * subprocess handle is not returned).
 */
export async function execa<O extends Options = {}>(file: string, args: readonly string[] = [], options?: O): Promise<Awaited<ResultPromise<{} & O>>> {
  const { execa: run } = await import('execa');
  return await run(file, args, options);
}
