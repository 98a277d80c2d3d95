/**
 * The sessions table, laid out by lambdas/aws/table-definition.ts (the local cloud creates the
 * same table from the same definition).
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { SESSION_INDEXES, TABLE } from '../../lambdas/aws/table-definition.js';

export interface SessionsTableProps {
  readonly tableName?: string;
  readonly removalPolicy: RemovalPolicy;
  /** Deletion protection: on whenever the data is retained. */
  readonly protect: boolean;
}

export class SessionsTable extends Construct {
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: SessionsTableProps) {
    super(scope, id);
    this.table = new dynamodb.Table(this, 'Table', {
      ...(props.tableName ? { tableName: props.tableName } : {}),
      partitionKey: { name: TABLE.partitionKey, type: dynamodb.AttributeType.STRING },
      // On-demand: nothing to pay while idle, no capacity to plan for bursts of part requests.
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      // DynamoDB deletes finished sessions after their retention, free of write cost.
      timeToLiveAttribute: TABLE.ttlAttribute,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // The AWS managed key: encryption at rest visible in the template and in CloudTrail, no key fee.
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      deletionProtection: props.protect,
      removalPolicy: props.removalPolicy,
    });
    // Both indexes are sparse (only open sessions carry their keys), so they stay small.
    for (const index of SESSION_INDEXES) {
      this.table.addGlobalSecondaryIndex({
        indexName: index.name,
        partitionKey: { name: index.partitionKey, type: dynamodb.AttributeType.STRING },
        sortKey: { name: index.sortKey, type: dynamodb.AttributeType.STRING },
        projectionType: dynamodb.ProjectionType[index.projection],
      });
    }
  }
}
