/** `p`, or a rejection once `ms` have passed ("<what>: no answer in <ms> ms"): nobody waits on a dark host for good. */
export function within<T>(p: Promise<T>, ms: number, what?: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const late = new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what ? `${what}: ` : ''}no answer in ${ms} ms`)), ms)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}
