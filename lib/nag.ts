/**
 * cdk-nag (AwsSolutions) acknowledgements: every finding the stack keeps on purpose, on the
 * construct it concerns, with the reason. The infra tests fail on any finding not listed here.
 */
import { Stack, Validations, type IResolvable } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';

export const REASONS = {
  logBucket:
    'This bucket receives the upload bucket\'s server access logs; logging it too would need yet another ' +
    'bucket whose logs only record S3\'s own log deliveries.',
  objectPrefix:
    'Object actions are scoped to the upload key prefix (bucket/<prefix>*): session object keys are ' +
    'generated at runtime, so no narrower ARN exists.',
  logStreams:
    'Lambda writes to log streams it names at runtime inside the function\'s own log group (<group>:*); ' +
    'nothing outside that one group is granted.',
  xray:
    'xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions; "*" is the ' +
    'only resource they accept (only with tracing enabled).',
  alarmTopicKms:
    'The alarm topic carries alarm names and states, nothing from the uploads. Encrypting it would need a ' +
    'customer-managed KMS key (CloudWatch cannot publish to a topic under the AWS-managed SNS key) for a ' +
    'monthly fee; publishing is TLS-only (SNS3) and restricted to this account\'s CloudWatch.',
} as const;

/** The flat form cdk-nag gives a resource in an IAM5 finding id (Fn::GetAtt -> <Id.Attr>, Ref -> <Id>). */
function flatten(node: unknown): string {
  if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/\}/g, '>');
  if (node && typeof node === 'object') {
    const o = node as Record<string, unknown>;
    if (Array.isArray(o['Fn::Join'])) {
      const [delimiter, items] = o['Fn::Join'] as [string, unknown[]];
      return items.map(flatten).join(delimiter);
    }
    if (o['Fn::Sub'] !== undefined) return flatten(o['Fn::Sub']);
    if (Array.isArray(o['Fn::GetAtt'])) {
      const [res, attr] = o['Fn::GetAtt'] as [unknown, unknown];
      return `<${flatten(res)}.${flatten(attr)}>`;
    }
    if (o.Ref !== undefined) return `<${flatten(o.Ref)}>`;
  }
  return JSON.stringify(node);
}

/**
 * Acknowledges the wildcard resources of a role's inline policies, statement by statement, with
 * the reason its statement id maps to. A wildcard in any other statement stays a finding.
 */
export function acknowledgeRoleWildcards(role: iam.Role, reasonBySid: Record<string, string>): void {
  const stack = Stack.of(role);
  const cfn = role.node.defaultChild as iam.CfnRole;
  // Resolved the way cdk-nag resolves it: L1 property names outside, the policy JSON inside.
  const policies = stack.resolve(cfn.policies as IResolvable) as { policyDocument: unknown }[] | undefined;
  for (const policy of policies ?? []) {
    const document = stack.resolve(policy.policyDocument) as { Statement?: Statement[] };
    for (const statement of document.Statement ?? []) {
      const reason = statement.Sid === undefined ? undefined : reasonBySid[statement.Sid];
      if (reason === undefined) continue;
      const resources = Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
      for (const resource of resources.map(flatten).filter((r) => r.includes('*'))) {
        Validations.of(role).acknowledge({ id: `AwsSolutions-IAM5[Resource::${resource}]`, reason });
      }
    }
  }
}

interface Statement {
  Sid?: string;
  Resource: unknown;
}

export function acknowledgeLogBucket(bucket: IConstruct): void {
  Validations.of(bucket).acknowledge({ id: 'AwsSolutions-S1', reason: REASONS.logBucket });
}

export function acknowledgeAlarmTopic(topic: IConstruct): void {
  Validations.of(topic).acknowledge({ id: 'AwsSolutions-SNS2', reason: REASONS.alarmTopicKms });
}
