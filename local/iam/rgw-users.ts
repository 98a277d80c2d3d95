/**
 * One RGW user per function, through RGW's Admin Ops API (`/admin/user`) signed with the local
 * cloud's administrator keys (which carry the `users=*` cap, set in ceph.ts).
 *
 * Why the HTTP API and not `radosgw-admin`: it needs only the S3 endpoint and the admin keys the
 * endpoints file already holds, so a test process can provision fresh users on the shared cloud;
 * and it costs a request (~10 ms), not a process start (~150-300 ms of CPU each).
 */
import { request } from 'node:http';
import type { FunctionIdentity } from './identities.js';
import { signRequest } from './sigv4.js';

export interface RgwAdmin {
  /** RGW's S3 endpoint, e.g. `http://127.0.0.1:41234`. */
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
}

export class RgwAdminError extends Error {
  override readonly name = 'RgwAdminError';
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
  ) {
    super(message);
  }
}

async function adminCall(admin: RgwAdmin, method: 'PUT' | 'DELETE' | 'GET', query: Record<string, string>): Promise<string> {
  const url = new URL(admin.endpoint);
  const qs = new URLSearchParams(query).toString().replace(/\+/g, '%20');
  const path = `/admin/user?${qs}`;
  const headers = signRequest({ method, url: path, host: url.host, headers: {}, body: Buffer.alloc(0) }, admin, { region: admin.region, service: 's3' });
  return new Promise<string>((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) return resolve(body);
        const code = /"Code"\s*:\s*"([^"]+)"|<Code>([^<]+)<\/Code>/.exec(body);
        reject(new RgwAdminError(`RGW admin ${method} /admin/user ${query.uid ?? ''}: ${status} ${body.slice(0, 300)}`, status, code?.[1] ?? code?.[2] ?? ''));
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Creates each function's user with its keys. A uid that exists already is an error: keys must be fresh. */
export async function createRgwUsers(admin: RgwAdmin, identities: readonly FunctionIdentity[]): Promise<void> {
  await Promise.all(
    identities.map((i) =>
      adminCall(admin, 'PUT', {
        uid: i.rgwUid,
        'display-name': `mpu ${i.functionId} function (${i.logicalId})`,
        'access-key': i.accessKeyId,
        'secret-key': i.secretAccessKey,
        'key-type': 's3',
        'generate-key': 'false',
        // A function owns nothing: it works only in the admin's bucket, through the bucket policy.
        'max-buckets': '-1',
      }),
    ),
  );
}

/** Removes the users (mutation tests clean up after themselves on the shared cloud). */
export async function removeRgwUsers(admin: RgwAdmin, identities: readonly FunctionIdentity[]): Promise<void> {
  await Promise.all(identities.map((i) => adminCall(admin, 'DELETE', { uid: i.rgwUid, 'purge-data': 'true' })));
}

/** The uid owning an access key: the admin's, who owns the bucket (bucket-policy.ts grants it everything). */
export async function uidOfAccessKey(admin: RgwAdmin, accessKeyId: string): Promise<string> {
  const user = JSON.parse(await adminCall(admin, 'GET', { 'access-key': accessKeyId })) as { user_id?: string };
  if (!user.user_id) throw new RgwAdminError(`RGW knows no user for access key ${accessKeyId}`, 404, 'NoSuchUser');
  return user.user_id;
}

/** The user's record as RGW keeps it (tests check the keys landed). */
export async function getRgwUser(admin: RgwAdmin, uid: string): Promise<{ user_id: string; keys: { access_key: string }[]; max_buckets: number }> {
  return JSON.parse(await adminCall(admin, 'GET', { uid })) as { user_id: string; keys: { access_key: string }[]; max_buckets: number };
}
