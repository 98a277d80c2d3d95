/**
 * `npm run local -- --s3-public-endpoint URL`: the origin the handlers presign part URLs for
 * (the stack setting s3PublicEndpoint), when clients reach storage through something in front of
 * RGW: a proxy, a CDN, a WAN emulator. The URL is signed path-style for that host, so whatever
 * listens there must forward requests to RGW unchanged (same path, same Host header as sent).
 */

export class PublicEndpointError extends Error {
  override readonly name = 'PublicEndpointError';
}

/**
 * The origin `value` names, normalized (`http://127.0.0.1:9000`), or a PublicEndpointError that
 * says what is wrong: only http(s), and no path, query or credentials (a path would not be the
 * path RGW is asked for, so the signature could not match).
 */
export function parseS3PublicEndpoint(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new PublicEndpointError(`--s3-public-endpoint: not a URL: '${value}' (e.g. http://127.0.0.1:9000)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new PublicEndpointError(`--s3-public-endpoint: ${url.protocol} is not http: or https: ('${value}')`);
  }
  if (url.username || url.password) throw new PublicEndpointError(`--s3-public-endpoint: no credentials in the URL ('${value}')`);
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) {
    throw new PublicEndpointError(`--s3-public-endpoint: an origin only (scheme://host[:port]), without path, query or fragment: '${value}'`);
  }
  return url.origin;
}
