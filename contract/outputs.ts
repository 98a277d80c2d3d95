/**
 * The stack's output keys: `cdk deploy --outputs-file` writes them (lib/mpu-stack.ts); the
 * operator tool (`mpu-admin token --outputs`) and the e2e suite read them.
 */
export const OUTPUT_KEYS = {
  apiUrl: 'ApiUrl',
  bucketName: 'BucketName',
  tableName: 'TableName',
  /** Only with API token auth (the default), not with a JWT authorizer. */
  tokensTableName: 'TokensTableName',
  /** Not on LocalStack (no alarms there). */
  alarmTopicArn: 'AlarmTopicArn',
  region: 'Region',
} as const;
