/**
 * `npm run local`: start the local cloud, print its endpoints, write .local/endpoints.json,
 * and run until Ctrl-C / SIGTERM, then stop everything and delete the file.
 *
 * `--lifeline`: also shut down when stdin closes. The e2e global setup starts us with a pipe on
 * stdin, so if Jest dies (even SIGKILL) we notice and clean up instead of running forever.
 */
import { parseArgs } from 'node:util';
import { checkDependencies, formatProblems } from './deps.js';
import { CLOUD_DEFAULTS, PROJECT_ROOT, startLocalCloud, type LocalCloud } from './cloud.js';
import { CEPH_DEFAULTS } from './ceph.js';
import { writeEndpointsFile } from './endpoints.js';
import { startLocalJwt } from './jwt/local-auth.js';
import { WEB_DEFAULT_PORT, freeWebPort, startWebServer, webOrigin } from './web-server.js';
import { parseSize } from '../client/index.js';
import { parseS3PublicEndpoint } from './public-endpoint.js';

const USAGE = `Usage: npm run local -- [options]

  --min-part-size <size>    S3 multipart minimum part size (RGW and handlers). Default 5MiB.
  --memstore-bytes <size>   Memory cap of the Ceph object store. Default 8GiB.
  --data-dir <dir>          Keep DynamoDB Local's tables on disk in <dir>. Default: in memory.
  --endpoints-file <path>   Where to write the endpoints JSON. Default .local/endpoints.json.
  --gateway-port <port>     Port of the API. Default: a free one.
  --region <r>  --bucket <name>  --table <name>  --tokens-table <name>
  --owner <name>            Owner of the API token written to the endpoints file. Default local-user.
  --auth-cache-ttl <s>      Seconds the gateway caches authorizer answers (API Gateway: 300).
                            Default 0: a revoked token is refused at once.
  --auth <token|jwt>        token (default): the stack's API token authorizer. jwt: the JWT variant
                            (-c jwtIssuer/-c jwtAudience) trusting a local OIDC issuer; the endpoints
                            file's token is then a JWT for --owner, valid 12 h (local/jwt/).
  --s3-public-endpoint <url>
                            Presign part URLs for this origin (scheme://host[:port]) instead of RGW's:
                            a proxy or CDN in front of RGW that forwards requests unchanged.
                            Synthesized into the stack like -c s3PublicEndpoint.
  --cors-origin <url>       A browser origin allowed by the API's and the bucket's CORS (repeatable);
                            synthesized into the stack like -c corsAllowedOrigins.
  --web-port <port>         Port of the example pages (http://localhost:<port>, allowed by CORS).
                            Default 8790 (a fixed origin keeps the synthesized stack cached), else a free one.
  --no-iam                  Do not enforce the template's IAM (by default: an RGW user per function,
                            a bucket policy from the roles, DynamoDB behind a policy front; local/iam/).
  --from-source             Run the handler sources in the gateway process (development) instead
                            of the synthesized stack's bundles (the default, as deployed).
  --lifeline                Exit when stdin closes (for supervising processes).
  -h, --help

Sizes: bytes, or a number with a unit: KiB, MiB, GiB (powers of 1024) or kB, MB, GB (powers of 1000), e.g. 64KiB.`;

function parseSeconds(s: string): number {
  const n = Number(s);
  if (!/^\d+$/.test(s.trim()) || n > 3600) throw new Error(`not a number of seconds from 0 to 3600: '${s}'`);
  return n;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      'min-part-size': { type: 'string' },
      'memstore-bytes': { type: 'string' },
      'data-dir': { type: 'string' },
      'endpoints-file': { type: 'string' },
      'gateway-port': { type: 'string' },
      region: { type: 'string' },
      bucket: { type: 'string' },
      table: { type: 'string' },
      'tokens-table': { type: 'string' },
      owner: { type: 'string' },
      'auth-cache-ttl': { type: 'string' },
      'cors-origin': { type: 'string', multiple: true },
      's3-public-endpoint': { type: 'string' },
      'web-port': { type: 'string' },
      'from-source': { type: 'boolean' },
      'no-iam': { type: 'boolean' },
      auth: { type: 'string' },
      lifeline: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const log = (line: string) => console.log(`[local] ${line}`);
  // Checked before anything starts: a bad URL would only show as part PUTs that never arrive.
  const s3PublicEndpoint = values['s3-public-endpoint'] !== undefined ? parseS3PublicEndpoint(values['s3-public-endpoint']) : undefined;

  const problems = await checkDependencies();
  if (problems.length) {
    console.error(formatProblems(problems));
    return 1;
  }

  // Filled once started; the signal handlers are installed before, so they can interrupt startup.
  const state: { cloud?: LocalCloud } = {};
  let stopping = false;
  let stoppingSince = 0;
  let startupAborted = false;
  const shutdown = async (why: string) => {
    if (stopping) {
      // A second Ctrl-C leaves at once (the watchdog still stops the daemons). Ignore repeats
      // within 2 s: under `npm run local` one Ctrl-C reaches us twice, directly and relayed by tsx.
      if (Date.now() - stoppingSince > 2000) process.exit(130);
      return;
    }
    stopping = true;
    stoppingSince = Date.now();
    log(`stopping (${why})`);
    if (!state.cloud) {
      startupAborted = true;
      return;
    }
    await state.cloud.stop();
    process.exit(0);
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => void shutdown(sig));
  if (values.lifeline) {
    process.stdin.on('end', () => void shutdown('stdin closed'));
    process.stdin.on('error', () => void shutdown('stdin error'));
    process.stdin.resume();
  }

  // The example pages' origin is allowed by the API's and the bucket's CORS (local/web-server.ts).
  const webPort = await freeWebPort(values['web-port'] ? Number(values['web-port']) : WEB_DEFAULT_PORT);
  const authMode = values.auth ?? 'token';
  if (authMode !== 'token' && authMode !== 'jwt') throw new Error(`--auth is token or jwt, not '${authMode}'`);
  // The JWT variant trusts a local OIDC issuer, started first: its URL is part of the synthesized stack.
  const jwt = authMode === 'jwt' ? await startLocalJwt(PROJECT_ROOT) : undefined;
  const cloud = await startLocalCloud({
    ...(values['min-part-size'] ? { minPartSize: parseSize(values['min-part-size']) } : {}),
    ...(values['memstore-bytes'] ? { memstoreBytes: parseSize(values['memstore-bytes']) } : {}),
    ...(values['data-dir'] ? { dynamoDataDir: values['data-dir'] } : {}),
    ...(values['endpoints-file'] ? { endpointsFile: values['endpoints-file'] } : {}),
    ...(values['gateway-port'] ? { gatewayPort: Number(values['gateway-port']) } : {}),
    ...(values.region ? { region: values.region } : {}),
    ...(values.bucket ? { bucket: values.bucket } : {}),
    ...(values.table ? { table: values.table } : {}),
    ...(values['tokens-table'] ? { tokensTable: values['tokens-table'] } : {}),
    ...(values.owner ? { defaultOwner: values.owner } : {}),
    ...(values['auth-cache-ttl'] !== undefined ? { authCacheTtlSeconds: parseSeconds(values['auth-cache-ttl']) } : {}),
    corsAllowedOrigins: [webOrigin(webPort), ...(values['cors-origin'] ?? [])],
    ...(s3PublicEndpoint ? { s3PublicEndpoint } : {}),
    ...(values['from-source'] ? { fromSource: true } : {}),
    ...(values['no-iam'] ? { iam: false } : {}),
    ...(jwt ? { jwtAuth: jwt.jwtAuth } : {}),
    skipDependencyCheck: true,
    log,
  });
  state.cloud = cloud;
  if (startupAborted) {
    await cloud.stop();
    return 130;
  }

  if (jwt) cloud.endpoints.token = await jwt.tokenFor(values.owner ?? CLOUD_DEFAULTS.defaultOwner);
  const web = await startWebServer({ port: webPort, config: { api_url: cloud.endpoints.api_url, token: cloud.endpoints.token }, log });
  cloud.endpoints.web_url = web.url;
  if (cloud.endpointsFile) writeEndpointsFile(cloud.endpointsFile, cloud.endpoints);
  const e = cloud.endpoints;
  console.log(`
Local cloud is up (${(cloud.timings.total ?? 0) / 1000} s). Ctrl-C stops it and deletes everything.

  API (gateway)   ${e.api_url}   ${cloud.synth ? `stack ${cloud.synth.stackName} from ${cloud.synth.dir}${cloud.synth.cached ? ' (cached)' : ''}` : 'handlers from source'}
  Web pages       ${web.url}/upload.html  ${web.url}/uppy.html
  S3 (Ceph RGW)   ${e.s3_endpoint}   bucket ${e.bucket}  (path-style)
  Part URLs       ${s3PublicEndpoint ? `${s3PublicEndpoint} (--s3-public-endpoint: it must forward to ${e.s3_endpoint})` : `${e.s3_endpoint} (RGW itself)`}
  DynamoDB Local  ${e.dynamodb_endpoint}   table ${e.table}, tokens ${e.tokens_table}
  ${
    jwt
      ? `JWT             sub ${values.owner ?? CLOUD_DEFAULTS.defaultOwner}, valid 12 h, in the endpoints file (mpu finds it there); issuer ${jwt.issuer.issuer}, audience ${jwt.jwtAuth.audience.join(',')}`
      : `API token       owner ${values.owner ?? CLOUD_DEFAULTS.defaultOwner}, in the endpoints file (mpu finds it there; npm run -s admin -- token create --owner NAME makes more)`
  }
  region ${e.region}  access key ${e.access_key_id}  secret ${e.secret_access_key}
  endpoints file  ${cloud.endpointsFile ?? '(not written)'}
  logs            ${cloud.dir}

  export AWS_ACCESS_KEY_ID=${e.access_key_id} AWS_SECRET_ACCESS_KEY=${e.secret_access_key} AWS_REGION=${e.region}
  aws --endpoint-url ${e.s3_endpoint} s3 ls s3://${e.bucket}
`);
  // Daemons and the watchdog are unref'd so they never pin a process; this timer is what keeps
  // us running until a signal (or the lifeline) ends it.
  setInterval(() => undefined, 1 << 30);
  return -1;
}

main().then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  },
);

// Referenced so defaults show up in one place for readers of --help.
void CLOUD_DEFAULTS;
void CEPH_DEFAULTS;
