// The REST client: the bearer token (kept in sessionStorage, see docs/web.md) and fetch with
// the API's one error shape {"error": {"code", "message", "request_id"}} turned into ApiError.

const TOKEN_KEY = "netra.token";

export const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY),
  set: (value) => sessionStorage.setItem(TOKEN_KEY, value),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

// The workspace the page acts in: `?workspace=<id>` in the page's URL (an id is no secret), else
// the user's personal workspace (the server's default when no workspace is named).
export const workspace = new URLSearchParams(location.search).get("workspace");

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// request("/api/threads") -> JSON; {method, body} send JSON; {as: "text" | "blob" | "response"}
export async function request(path, { method = "GET", body, as = "json" } = {}) {
  const init = { method, headers: headersFor(body) };
  if (body !== undefined) init.body = JSON.stringify(body);
  const response = await fetch(path, init);
  if (!response.ok) throw await failure(response);
  return readAs(response, as);
}

function readAs(response, as) {
  if (as === "response") return response;
  if (response.status === 204) return null;
  return as === "text" ? response.text() : as === "blob" ? response.blob() : response.json();
}

function headersFor(body) {
  const headers = {};
  if (token.get()) headers.Authorization = `Bearer ${token.get()}`;
  if (workspace) headers["X-Netra-Workspace"] = workspace;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  return headers;
}

async function failure(response) {
  const body = await response.json().catch(() => ({}));
  const error = body.error || {};
  if (response.status === 401) window.dispatchEvent(new CustomEvent("netra:unauthorized"));
  const message = error.message || response.statusText || `HTTP ${response.status}`;
  return new ApiError(response.status, error.code || `http_${response.status}`, message);
}

// Save an authenticated download (the browser cannot send the bearer token on a plain link).
export async function download(path, filename) {
  const url = URL.createObjectURL(await request(path, { as: "blob" }));
  const link = Object.assign(document.createElement("a"), { href: url, download: filename, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
