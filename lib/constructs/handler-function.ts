/**
 * One Lambda handler: its bundle, its own role with exactly the permissions of lib/access.ts,
 * and (outside LocalStack) its own log group with a retention.
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { LogLevel, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { TABLE } from '../../lambdas/aws/table-definition.js';
import { ENV } from '../../lambdas/env.js';
import type { Access, FunctionId } from '../access.js';

/** The repository root: entries, package-lock.json and tsconfig.json are found from here. */
export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Handler module of a function id: lambdas/handlers/<id>.ts exporting `handler`. */
export function handlerEntry(id: FunctionId): string {
  return path.join(PROJECT_ROOT, 'lambdas', 'handlers', `${id}.ts`);
}

/**
 * esbuild bundles the handler with everything it imports, the AWS SDK included: the SDK in the
 * Lambda runtime is whatever version AWS ships that week, the bundled one is the version the
 * tests ran against. ESM, because the handlers are ES modules; the banner gives CommonJS
 * dependencies inside the bundle the `require` that ESM lacks.
 */
export const BUNDLING = {
  format: OutputFormat.ESM,
  target: 'node24',
  mainFields: ['module', 'main'],
  externalModules: [] as string[],
  minify: true,
  sourceMap: true,
  sourcesContent: false,
  banner: "import { createRequire as __mpuCreateRequire } from 'node:module'; const require = __mpuCreateRequire(import.meta.url);",
  forceDockerBundling: false,
  logLevel: LogLevel.WARNING,
} as const;

/**
 * Build-time constants of a bundle: lambdas/tracing.ts reads the literal `process.env.MPU_TRACING`,
 * which esbuild replaces, so without tracing the Tracer and the X-Ray SDK are dead code, not shipped.
 */
export function bundleDefines(tracing: boolean): Record<string, string> {
  return { [`process.env.${ENV.tracing}`]: JSON.stringify(String(tracing)) };
}

export interface HandlerFunctionProps {
  readonly id: FunctionId;
  readonly description: string;
  readonly memorySize: number;
  readonly timeout: Duration;
  readonly environment: Record<string, string>;
  readonly access: Access;
  readonly table: ITable;
  /** The API tokens table; needed when `access.tokensTable` grants anything. */
  readonly tokensTable?: ITable;
  readonly bucket: IBucket;
  readonly objectKeyPrefix: string;
  /**
   * Undefined: no log group resource (LocalStack free plan); the function then gets a fixed
   * name so its role can be scoped to the log group Lambda creates for it.
   */
  readonly logRetention?: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
  /** AWS X-Ray: active tracing, the X-Ray grant, and Powertools Tracer in the bundle. */
  readonly tracing: boolean;
  /** Caps (and guarantees) the function's concurrency; undefined: the account's pool. */
  readonly reservedConcurrentExecutions?: number;
}

export class HandlerFunction extends Construct {
  readonly fn: NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup?: logs.LogGroup;

  constructor(scope: Construct, id: string, props: HandlerFunctionProps) {
    super(scope, id);
    const stack = Stack.of(this);

    // A fixed name only where it is needed (no log group resource): generated names never collide
    // with a retained log group of an earlier deployment.
    const functionName = props.logRetention === undefined ? `${stack.stackName}-${props.id}` : undefined;
    if (functionName !== undefined && functionName.length > 64) {
      throw new Error(`function name ${functionName} is longer than Lambda's 64 characters: choose a shorter stack name`);
    }

    if (props.logRetention !== undefined) {
      this.logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetention, removalPolicy: props.removalPolicy });
    }

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `mpu ${props.id} handler: least privilege (lib/access.ts)`,
      inlinePolicies: { access: new iam.PolicyDocument({ statements: this.statements(props, functionName) }) },
    });

    this.fn = new NodejsFunction(this, 'Function', {
      entry: handlerEntry(props.id),
      handler: 'handler',
      ...(functionName ? { functionName } : {}),
      description: props.description,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize,
      timeout: props.timeout,
      role: this.role,
      environment: props.environment,
      ...(props.reservedConcurrentExecutions !== undefined ? { reservedConcurrentExecutions: props.reservedConcurrentExecutions } : {}),
      ...(this.logGroup ? { logGroup: this.logGroup } : {}),
      // JSON logs with Lambda-side level filtering: Powertools Logger honours AWS_LAMBDA_LOG_LEVEL.
      loggingFormat: lambda.LoggingFormat.JSON,
      applicationLogLevelV2: lambda.ApplicationLogLevel.INFO,
      systemLogLevelV2: lambda.SystemLogLevel.WARN,
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
      bundling: {
        ...BUNDLING,
        externalModules: [...BUNDLING.externalModules],
        mainFields: [...BUNDLING.mainFields],
        define: bundleDefines(props.tracing),
      },
    });
    if (props.tracing) {
      // Set on the L1 resource: the L2 `tracing` prop would add the X-Ray grant as a second policy
      // (AWS::IAM::Policy) on this role; the grant is in the role's one inline policy instead.
      (this.fn.node.defaultChild as lambda.CfnFunction).tracingConfig = { mode: lambda.Tracing.ACTIVE };
    }
  }

  private statements(props: HandlerFunctionProps, functionName: string | undefined): iam.PolicyStatement[] {
    const { access, table, bucket } = props;
    const statements: iam.PolicyStatement[] = [];
    const allow = (sid: string, actions: readonly string[], resources: string[]) => {
      if (actions.length > 0) statements.push(new iam.PolicyStatement({ sid, actions: [...actions], resources }));
    };

    if (this.logGroup) {
      // The log group exists already (CloudFormation made it); the Arn attribute ends in `:*`,
      // which covers the group's log streams and nothing else.
      allow('Logs', ['logs:CreateLogStream', 'logs:PutLogEvents'], [this.logGroup.logGroupArn]);
    } else {
      const group = Stack.of(this).formatArn({
        service: 'logs',
        resource: 'log-group',
        resourceName: `/aws/lambda/${functionName}`,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      });
      allow('CreateLogGroup', ['logs:CreateLogGroup'], [group]);
      allow('Logs', ['logs:CreateLogStream', 'logs:PutLogEvents'], [`${group}:*`]);
    }
    allow('SessionsTable', access.table, [table.tableArn]);
    allow('OpenSessionsIndex', access.openSessionsIndex, [`${table.tableArn}/index/${TABLE.openSessionsIndex.name}`]);
    if (access.tokensTable.length > 0 && !props.tokensTable) throw new Error(`${props.id}: access to the tokens table needs the tokensTable prop`);
    if (props.tokensTable) allow('TokensTable', access.tokensTable, [props.tokensTable.tableArn]);
    allow('UploadObjects', access.objects, [bucket.arnForObjects(`${props.objectKeyPrefix}*`)]);
    allow('UploadBucket', access.bucket, [bucket.bucketArn]);
    // X-Ray has no resource-level permissions for sending traces: "*" is the only resource.
    if (props.tracing) allow('XRay', ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], ['*']);
    return statements;
  }
}
