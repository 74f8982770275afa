import { defineTask } from '#shared/task.ts';
import { checkDnsChange } from '#shared/tasks/check-dns-change.ts';

/**
 * "Check the DNS change" (and the heal's and rollback's): one bounded GetChange poll until Route 53
 * reports INSYNC; a traffic step passes its plan too (see checkDnsChange).
 */
export const handler = defineTask('check-dns-change', (input: Parameters<typeof checkDnsChange>[0]) =>
  checkDnsChange(input),
);
