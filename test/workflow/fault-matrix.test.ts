import { faultMatrix } from '../support/fault-matrix.ts';

// Every Task state of the ASL × every kind of fault (test/support/fault-matrix.ts), on bare
// instance fleets; fault-matrix-groups.test.ts runs the states with group paths on group fleets.
faultMatrix({
  title: 'instances',
  bases: [
    'happy',
    'slow-drain',
    'alarm-during-shift',
    'approval-both-stages',
    'bad-config',
    'concurrent-uploads',
    'rollback-fails',
    'blue-termination-fails',
    'split-traffic-heal',
  ],
  // A Stop, and a Stop whose rollback fails.
  rollbackBases: ['stopped-by-operator', 'stopped-rollback-fails'],
});
