/**
 * Reads the environment once, at cold start, so a missing variable fails the first invocation
 * with every missing name listed instead of failing halfway through a task.
 */
export function requireEnv<const K extends string>(...names: K[]): Record<K, string> {
  const missing = names.filter((name) => !process.env[name]);
  if (missing.length > 0) {
    throw new Error(`missing environment variable(s): ${missing.join(', ')}`);
  }
  return Object.fromEntries(names.map((name) => [name, process.env[name]])) as Record<K, string>;
}
