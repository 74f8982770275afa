// The template reader lives beside the IAM evaluation, which reads the operator policy with it.
export * from '../../sim/iam/cfn-template.ts';
