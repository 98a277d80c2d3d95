/**
 * The API tokens table, laid out by lambdas/aws/table-definition.ts TOKENS_TABLE (the local cloud
 * creates the same table from the same definition). Hardened like the sessions table: it holds no
 * secrets (SHA-256 of each token's secret), but whoever can write it can mint access.
 */
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { TOKENS_TABLE } from '../../lambdas/aws/table-definition.js';
import { hardenedTable, type TableProps } from './hardened-table.js';

export class TokensTable extends Construct {
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: TableProps) {
    super(scope, id);
    this.table = hardenedTable(this, 'Table', {
      ...props,
      partitionKey: TOKENS_TABLE.partitionKey,
      // Revoked and expired tokens' rows go after a retention (lambdas/core/tokens.ts).
      ttlAttribute: TOKENS_TABLE.ttlAttribute,
    });
  }
}
