/**
 * The environment the handler modules read when they load (import this before importing them):
 * fake names and credentials for mocked SDK clients, Powertools quiet.
 */
Object.assign(process.env, {
  TABLE_NAME: 'sessions',
  BUCKET_NAME: 'bucket',
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
  AWS_SECRET_ACCESS_KEY: 'secret',
  POWERTOOLS_DEV: 'true',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  POWERTOOLS_METRICS_DISABLED: 'true',
});
