/** Small promise helpers. */

/**
 * Like Promise.all (the work runs concurrently), but when several reject, the error thrown is the first in
 * argument order, not the first to happen: an error message that names the infrared image when both inputs
 * are bad, on every run.
 */
export async function allInOrder<T extends readonly unknown[]>(promises: { [K in keyof T]: T[K] | Promise<T[K]> }): Promise<T> {
  const settled = await Promise.allSettled(promises);
  for (const s of settled) if (s.status === 'rejected') throw s.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<unknown>).value) as unknown as T;
}
