/**
 * The sessions table, laid out by lambdas/aws/table-definition.ts (the local cloud creates the
 * same table from the same definition).
 */
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { SESSION_INDEXES, TABLE } from '../../lambdas/aws/table-definition.js';
import { hardenedTable, type TableProps } from './hardened-table.js';

export class SessionsTable extends Construct {
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: TableProps) {
    super(scope, id);
    this.table = hardenedTable(this, 'Table', {
      ...props,
      partitionKey: TABLE.partitionKey,
      // Finished sessions' rows go after their retention (contract/limits.ts).
      ttlAttribute: TABLE.ttlAttribute,
    });
    // Sparse (only open sessions carry the key), so it stays small.
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
