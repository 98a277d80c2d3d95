/**
 * CloudFormation intrinsic functions, resolved against the local cloud's resources: Ref,
 * Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select and the pseudo parameters. Pure.
 *
 * Anything it cannot resolve is a TemplateError naming the path in the template: a reference
 * the local cloud does not know must fail the start, never become `undefined` in a handler's
 * environment (which the handler would then read as "not configured").
 */
import { LOCAL_ACCOUNT_ID, localArn, type LocalResources } from './template.js';

export class TemplateError extends Error {
  override readonly name = 'TemplateError';
}

/** A CloudFormation template as JSON, only the parts the reader looks at. */
export interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
  Metadata?: Record<string, unknown>;
}
export interface CfnTemplate {
  Resources: Record<string, CfnResource>;
}

/** What one resource of the template is locally: its Ref value and attributes. */
export interface LocalBinding {
  ref: string;
  attrs: Record<string, string>;
}

/** The role a resource plays in the stack, from its construct path (`aws:cdk:path` metadata). */
export function constructPath(r: CfnResource): string | undefined {
  const p = r.Metadata?.['aws:cdk:path'];
  return typeof p === 'string' ? p : undefined;
}

/** `MpuLocal/InitHandler/Function/Resource` -> `init` (lib/mpu-stack.ts names them `<Pascal>Handler`). */
export function functionIdOfPath(path: string | undefined): string | undefined {
  const m = /^[^/]+\/([A-Z][A-Za-z]*)Handler\/Function\/Resource$/.exec(path ?? '');
  return m ? m[1]!.charAt(0).toLowerCase() + m[1]!.slice(1) : undefined;
}

export function localFunctionName(res: LocalResources, functionId: string): string {
  return `${res.stackName}-${functionId}`;
}

/**
 * Local identity of each resource the template's references may name. Resources of other kinds
 * (alarms, dashboards, ...) have none: a reference to them fails loudly when resolved.
 */
export function bindResources(t: CfnTemplate, res: LocalResources): Map<string, LocalBinding> {
  const out = new Map<string, LocalBinding>();
  const { region } = res;
  for (const [id, r] of Object.entries(t.Resources)) {
    const path = constructPath(r) ?? '';
    switch (r.Type) {
      case 'AWS::S3::Bucket': {
        // The upload bucket is the local bucket; the access-log bucket has no local counterpart.
        if (/\/Storage\/Uploads\/Resource$/.test(path)) out.set(id, { ref: res.bucket, attrs: { Arn: localArn.bucket(res.bucket) } });
        break;
      }
      case 'AWS::DynamoDB::Table': {
        const name = /\/Sessions\/Table\/Resource$/.test(path) ? res.table : /\/Tokens\/Table\/Resource$/.test(path) ? res.tokensTable : undefined;
        if (name) out.set(id, { ref: name, attrs: { Arn: localArn.table(region, name) } });
        break;
      }
      case 'AWS::Lambda::Function': {
        const fid = functionIdOfPath(path);
        if (fid) {
          const name = localFunctionName(res, fid);
          out.set(id, { ref: name, attrs: { Arn: localArn.function(region, name) } });
        }
        break;
      }
      case 'AWS::IAM::Role':
        out.set(id, { ref: id, attrs: { Arn: `arn:aws:iam::${LOCAL_ACCOUNT_ID}:role/${id}` } });
        break;
      case 'AWS::Logs::LogGroup': {
        const name = `/aws/local/${res.stackName}/${id}`;
        out.set(id, { ref: name, attrs: { Arn: `arn:aws:logs:${region}:${LOCAL_ACCOUNT_ID}:log-group:${name}:*` } });
        break;
      }
      case 'AWS::ApiGatewayV2::Api':
        out.set(id, { ref: 'mpulocal', attrs: { ApiEndpoint: res.apiUrl } });
        break;
      // Referenced by id only (routes name their integration and authorizer): the logical id will do.
      case 'AWS::ApiGatewayV2::Integration':
      case 'AWS::ApiGatewayV2::Authorizer':
        out.set(id, { ref: id, attrs: {} });
        break;
      default:
        break;
    }
  }
  return out;
}

function pseudo(name: string, res: LocalResources): string | undefined {
  switch (name) {
    case 'AWS::Region':
      return res.region;
    case 'AWS::AccountId':
      return LOCAL_ACCOUNT_ID;
    case 'AWS::Partition':
      return 'aws';
    case 'AWS::URLSuffix':
      return 'amazonaws.com';
    case 'AWS::StackName':
      return res.stackName;
    default:
      return undefined;
  }
}

export interface Resolver {
  /** A string value (or intrinsic that yields one). */
  str(v: unknown, at: string): string;
  /** Any value, intrinsics resolved deeply. */
  deep(v: unknown, at: string): unknown;
}

export function resolver(t: CfnTemplate, res: LocalResources): Resolver {
  const bindings = bindResources(t, res);
  const binding = (id: string, at: string): LocalBinding => {
    const b = bindings.get(id);
    if (!b) {
      const r = t.Resources[id];
      throw new TemplateError(
        r ? `${at}: ${id} (${r.Type}) has no local counterpart` : `${at}: reference to ${id}, which is not in the template`,
      );
    }
    return b;
  };
  const ref = (name: string, at: string): string => pseudo(name, res) ?? binding(name, at).ref;
  const getAtt = (id: string, attr: string, at: string): string => {
    const v = binding(id, at).attrs[attr];
    if (v === undefined) throw new TemplateError(`${at}: attribute ${attr} of ${id} is not known locally`);
    return v;
  };

  const str = (v: unknown, at: string): string => {
    if (typeof v === 'string') return v;
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw new TemplateError(`${at}: expected a string, got ${JSON.stringify(v)}`);
    const keys = Object.keys(v);
    if (keys.length !== 1) throw new TemplateError(`${at}: expected an intrinsic function, got ${JSON.stringify(v)}`);
    const fn = keys[0]!;
    const arg = (v as Record<string, unknown>)[fn];
    switch (fn) {
      case 'Ref':
        if (typeof arg !== 'string') break;
        return ref(arg, at);
      case 'Fn::GetAtt': {
        const [id, attr] = typeof arg === 'string' ? arg.split(/\.(.*)/s) : Array.isArray(arg) ? arg : [];
        if (typeof id !== 'string' || typeof attr !== 'string') break;
        return getAtt(id, attr, at);
      }
      case 'Fn::Join': {
        if (!Array.isArray(arg) || arg.length !== 2 || typeof arg[0] !== 'string') break;
        const parts = arg[1];
        if (!Array.isArray(parts)) break;
        return parts.map((p, i) => str(p, `${at}/Fn::Join[${i}]`)).join(arg[0]);
      }
      case 'Fn::Sub': {
        const [pattern, vars] = typeof arg === 'string' ? [arg, {}] : Array.isArray(arg) ? arg : [];
        if (typeof pattern !== 'string' || typeof vars !== 'object' || vars === null) break;
        return pattern.replace(/\$\{(!?)([^}]+)\}/g, (_m, bang: string, name: string) => {
          if (bang) return `\${${name}}`; // ${!Literal} is the literal text ${Literal}
          const local = (vars as Record<string, unknown>)[name];
          if (local !== undefined) return str(local, `${at}/Fn::Sub ${name}`);
          const dot = name.indexOf('.');
          if (dot > 0 && !name.startsWith('AWS::')) return getAtt(name.slice(0, dot), name.slice(dot + 1), `${at}/Fn::Sub`);
          return ref(name, `${at}/Fn::Sub`);
        });
      }
      case 'Fn::Select': {
        if (!Array.isArray(arg) || arg.length !== 2) break;
        const list = deep(arg[1], `${at}/Fn::Select`);
        const i = Number(str(arg[0], `${at}/Fn::Select`));
        if (!Array.isArray(list) || !Number.isInteger(i) || i < 0 || i >= list.length) break;
        return str(list[i], `${at}/Fn::Select[${i}]`);
      }
      default:
        throw new TemplateError(`${at}: intrinsic ${fn} is not supported locally`);
    }
    throw new TemplateError(`${at}: malformed ${fn}: ${JSON.stringify(arg)}`);
  };

  const deep = (v: unknown, at: string): unknown => {
    if (Array.isArray(v)) return v.map((x, i) => deep(x, `${at}[${i}]`));
    if (v && typeof v === 'object') {
      const keys = Object.keys(v);
      if (keys.length === 1 && (keys[0] === 'Ref' || keys[0]!.startsWith('Fn::'))) return str(v, at);
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, deep(x, `${at}/${k}`)]));
    }
    return v;
  };
  return { str, deep };
}
