// What the functions read from their environment in Lambda, set before any handler module loads.
process.env.AWS_REGION ??= 'us-east-1';
process.env.AWS_ACCESS_KEY_ID ??= 'ASIATEST';
process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
process.env.STATE_MACHINE_ARN ??=
  'arn:aws:states:us-east-1:123456789012:stateMachine:bluegreen-ec2-sim-deploy';
process.env.ROLLBACK_STATE_MACHINE_ARN ??=
  'arn:aws:states:us-east-1:123456789012:stateMachine:bluegreen-ec2-sim-deploy-rollback';
process.env.NOTIFICATION_TOPIC_ARN ??= 'arn:aws:sns:us-east-1:123456789012:bluegreen-ec2-sim-deployments';
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
// The deployment metrics (EMF lines on stdout) are off but where a test reads them.
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.env.APPROVALS_TABLE ??= 'bluegreen-ec2-sim-approvals';
process.env.SIGNING_SECRET_ID ??= 'bluegreen-ec2-sim/approval-signing-key';
process.env.APPROVAL_BASE_URL ??= 'https://approvals.example.test';
process.env.LOCKS_TABLE ??= 'bluegreen-ec2-sim-locks';
process.env.NOTIFICATION_TOPIC_NAMES ??= 'bluegreen-*';
process.env.MANAGED_LISTENERS ??= [
  'arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/web-prod/50dc6c495c0c9188/f2f7dc8efc522ab2',
  'arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/web-prod/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee',
].join(',');
