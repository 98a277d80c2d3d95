/**
 * CloudFormation resource types LocalStack's free (Hobby) plan can deploy, as far as this stack
 * needs them: S3, DynamoDB, Lambda (with Function URLs), IAM and EventBridge rules, deployed by
 * its CloudFormation. Not on the list, hence not in the `-c localstack=true` template: API Gateway
 * v2 (HTTP API), CloudWatch alarms and dashboards, CloudWatch Logs resources, SNS, custom
 * resources (they would need extra provider Lambdas and assets). The infra test proves the
 * LocalStack template uses nothing else.
 */
export const LOCALSTACK_FREE_PLAN_RESOURCE_TYPES: ReadonlySet<string> = new Set([
  'AWS::S3::Bucket',
  'AWS::S3::BucketPolicy',
  'AWS::DynamoDB::Table',
  'AWS::Lambda::Function',
  'AWS::Lambda::Permission',
  'AWS::Lambda::Url',
  'AWS::IAM::Role',
  'AWS::IAM::Policy',
  'AWS::Events::Rule',
]);
