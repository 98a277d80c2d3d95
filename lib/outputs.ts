/**
 * The stack's output keys: `cdk deploy --outputs-file` writes them; the CLI (`mpu token
 * --outputs`) and the e2e suite read them. No CDK imports here, so readers stay light.
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
