// The daemon's REST API (docs: README, "The web console"). On TCP the daemon wants a bearer
// token: the page is opened once as /?token=..., keeps the token in sessionStorage (so a reload
// in the same tab still works) and drops it from the address bar, where it would otherwise end
// up in screenshots, bookmarks and the history.

const kTokenKey = 'vessel.token';

function takeToken() {
  const url = new URL(window.location.href);
  const given = url.searchParams.get('token');
  if (given !== null) {
    sessionStorage.setItem(kTokenKey, given);
    url.searchParams.delete('token');
    window.history.replaceState(null, '', url);
  }
  return sessionStorage.getItem(kTokenKey) ?? '';
}

const token = takeToken();

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// The response of a call the daemon accepted; an ApiError carrying its one-line message if not.
async function request(method, path) {
  // A tab opened without ?token= is let in by the cookie; the daemon then wants this header on
  // anything that changes state, since a page on another origin cannot send it.
  const headers = { 'X-Vessel-Request': '1' };
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(path, { method, headers, cache: 'no-store' });
  } catch (e) {
    throw new ApiError(0, `${method} ${path}: the daemon does not answer (${e.message})`);
  }
  if (!response.ok) {
    let message = `${method} ${path}: HTTP ${response.status}`;
    try {
      // The daemon says {"error"}; the per-VM API of `vessel run` says {"fault_message"}.
      const body = await response.json();
      const text = body.error ?? body.fault_message;
      if (typeof text === 'string') message = text;
    } catch {
      // Not the daemon's JSON error (a proxy's page, say): the status line says enough.
    }
    throw new ApiError(response.status, message);
  }
  return response;
}

export async function call(method, path) {
  const response = await request(method, path);
  return response.status === 204 ? null : response.json();
}

export async function callBytes(method, path) {
  const response = await request(method, path);
  return new Uint8Array(await response.arrayBuffer());
}

export const vmPath = (name) => `/api/v1/vms/${encodeURIComponent(name)}`;

// Browsers cannot set headers on a WebSocket, so the token goes in the query string; the
// daemon accepts ?token= on the console endpoint for that reason.
export function consoleUrl(name) {
  const url = new URL(`${vmPath(name)}/console`, window.location.href);
  url.protocol = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
  if (token) url.searchParams.set('token', token);
  return url.href;
}

export const hasToken = () => token !== '';
