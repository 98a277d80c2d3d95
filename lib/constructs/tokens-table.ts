/**
 * The API tokens table, laid out by lambdas/aws/table-definition.ts TOKENS_TABLE (the local cloud
 * creates the same table from the same definition). Hardened like the sessions table: it holds no
 * secrets (SHA-256 of each token's secret), but whoever can write it can mint access.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { TOKENS_TABLE } from '../../lambdas/aws/table-definition.js';

export interface TokensTableProps {
  readonly tableName?: string;
  readonly removalPolicy: RemovalPolicy;
  /** Deletion protection: on whenever the data is retained. */
  readonly protect: boolean;
}

export class TokensTable extends Construct {
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: TokensTableProps) {
    super(scope, id);
    this.table = new dynamodb.Table(this, 'Table', {
      ...(props.tableName ? { tableName: props.tableName } : {}),
      partitionKey: { name: TOKENS_TABLE.partitionKey, type: dynamodb.AttributeType.STRING },
      // On-demand: a handful of reads per cache TTL and caller, nothing to provision.
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      // Revoked and expired tokens' rows go after a retention (lambdas/core/tokens.ts).
      timeToLiveAttribute: TOKENS_TABLE.ttlAttribute,
      // A mistaken revoke or delete can be undone from a point in time.
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      deletionProtection: props.protect,
      removalPolicy: props.removalPolicy,
    });
  }
}
