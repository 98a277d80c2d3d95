/**
 * Which IAM actions on which resources one DynamoDB API call needs, as DynamoDB authorizes it.
 * Pure: the front (dynamo-front.ts) evaluates the answer against the caller's policy.
 *
 * Sources: DynamoDB Developer Guide, "Using IAM with DynamoDB transactions" (each part of a
 * transaction by the action of its underlying operation; ConditionCheck by
 * dynamodb:ConditionCheckItem); Service Authorization Reference for DynamoDB (BatchGetItem and
 * BatchWriteItem are actions of their own, on every table the request names; Query and Scan on
 * an index are authorized on the index ARN; ListTables on `*`).
 */
import { LOCAL_ACCOUNT_ID } from '../template.js';

export interface RequiredPermission {
  action: string;
  resource: string;
}

/** A call the mapping does not know: refused loudly rather than let through unchecked. */
export class UnmappedOperationError extends Error {
  override readonly name = 'UnmappedOperationError';
}

/** Operations authorized by `dynamodb:<Operation>` on the table named by `TableName`. */
const TABLE_OPERATIONS = new Set([
  'GetItem',
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'DescribeTable',
  'CreateTable',
  'DeleteTable',
  'UpdateTable',
  'DescribeTimeToLive',
  'UpdateTimeToLive',
  'DescribeContinuousBackups',
  'ListTagsOfResource',
]);
/** Operations on no particular resource. */
const ACCOUNT_OPERATIONS = new Set(['ListTables', 'DescribeLimits', 'DescribeEndpoints']);

export function tableArn(region: string, tableName: string): string {
  // DynamoDB accepts a table ARN wherever a TableName goes.
  return tableName.startsWith('arn:') ? tableName : `arn:aws:dynamodb:${region}:${LOCAL_ACCOUNT_ID}:table/${tableName}`;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function tableNameOf(input: unknown, where: string): string {
  const name = isObject(input) ? input.TableName : undefined;
  if (typeof name !== 'string' || name.length === 0) throw new UnmappedOperationError(`${where}: no TableName`);
  return name;
}

/** `DynamoDB_20120810.GetItem` -> `GetItem`. */
export function operationOf(target: string | undefined): string {
  const m = /^DynamoDB_\d{8}\.([A-Za-z]+)$/.exec(target ?? '');
  if (!m) throw new UnmappedOperationError(`not a DynamoDB X-Amz-Target: ${JSON.stringify(target)}`);
  return m[1]!;
}

const TRANSACT_WRITE_PARTS: Record<string, string> = {
  Put: 'dynamodb:PutItem',
  Update: 'dynamodb:UpdateItem',
  Delete: 'dynamodb:DeleteItem',
  ConditionCheck: 'dynamodb:ConditionCheckItem',
};

export function requiredPermissions(operation: string, body: unknown, region: string): RequiredPermission[] {
  const on = (action: string, table: string, index?: string): RequiredPermission => ({
    action,
    resource: index === undefined ? tableArn(region, table) : `${tableArn(region, table)}/index/${index}`,
  });
  if (!isObject(body)) throw new UnmappedOperationError(`${operation}: the body is not a JSON object`);
  if (TABLE_OPERATIONS.has(operation)) return [on(`dynamodb:${operation}`, tableNameOf(body, operation))];
  if (ACCOUNT_OPERATIONS.has(operation)) return [{ action: `dynamodb:${operation}`, resource: '*' }];
  switch (operation) {
    case 'Query':
    case 'Scan': {
      const index = body.IndexName;
      if (index !== undefined && typeof index !== 'string') throw new UnmappedOperationError(`${operation}: IndexName is not a string`);
      return [on(`dynamodb:${operation}`, tableNameOf(body, operation), index)];
    }
    case 'TransactWriteItems':
    case 'TransactGetItems': {
      const items = body.TransactItems;
      if (!Array.isArray(items) || items.length === 0) throw new UnmappedOperationError(`${operation}: no TransactItems`);
      return items.map((item: unknown, i) => {
        const parts = isObject(item) ? Object.keys(item) : [];
        const where = `${operation} item ${i}`;
        if (parts.length !== 1) throw new UnmappedOperationError(`${where}: expected one of Put/Update/Delete/ConditionCheck/Get`);
        const part = parts[0]!;
        const action = operation === 'TransactGetItems' ? (part === 'Get' ? 'dynamodb:GetItem' : undefined) : TRANSACT_WRITE_PARTS[part];
        if (!action) throw new UnmappedOperationError(`${where}: unknown part ${part}`);
        return on(action, tableNameOf((item as Json)[part], where));
      });
    }
    case 'BatchGetItem':
    case 'BatchWriteItem': {
      const tables = body.RequestItems;
      if (!isObject(tables) || Object.keys(tables).length === 0) throw new UnmappedOperationError(`${operation}: no RequestItems`);
      return Object.keys(tables).map((t) => on(`dynamodb:${operation}`, t));
    }
    default:
      // PartiQL (ExecuteStatement & co.) is authorized by statement kind (PartiQLSelect, ...):
      // not modelled, so refused until someone needs it.
      throw new UnmappedOperationError(`no IAM mapping for DynamoDB ${operation}`);
  }
}
