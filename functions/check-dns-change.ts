import type { DnsChange } from '#shared/domain/workflow.ts';
import { defineTask } from '#shared/task.ts';
import { checkDnsChange } from '#shared/tasks/check-dns-change.ts';

/** "Check the DNS change": one bounded GetChange poll until Route 53 reports INSYNC. */
export const handler = defineTask('check-dns-change', (input: { change: DnsChange }) =>
  checkDnsChange(input),
);
