/**
 * How every table of the stack is built: on demand, TTL, point-in-time recovery, encrypted,
 * protected from deletion whenever its data is retained. The sessions and tokens tables differ
 * only in their keys (and the sessions table's indexes).
 */
import type { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type { Construct } from 'constructs';

export interface HardenedTableProps {
  readonly tableName?: string;
  readonly partitionKey: string;
  readonly ttlAttribute: string;
  readonly removalPolicy: RemovalPolicy;
  /** Deletion protection: on whenever the data is retained. */
  readonly protect: boolean;
}

/** What a table construct takes from the stack: the layout comes from lambdas/aws/table-definition.ts. */
export type TableProps = Omit<HardenedTableProps, 'partitionKey' | 'ttlAttribute'>;

export function hardenedTable(scope: Construct, id: string, props: HardenedTableProps): dynamodb.Table {
  return new dynamodb.Table(scope, id, {
    ...(props.tableName ? { tableName: props.tableName } : {}),
    partitionKey: { name: props.partitionKey, type: dynamodb.AttributeType.STRING },
    // On-demand: nothing to pay while idle, no capacity to plan for bursts.
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    // DynamoDB deletes rows after their retention, free of write cost.
    timeToLiveAttribute: props.ttlAttribute,
    // A mistaken write or delete can be undone from a point in time.
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    // The AWS managed key: encryption at rest visible in the template and in CloudTrail, no key fee.
    encryption: dynamodb.TableEncryption.AWS_MANAGED,
    deletionProtection: props.protect,
    removalPolicy: props.removalPolicy,
  });
}
