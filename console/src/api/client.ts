// The one API client: the public StepStore API with the user's token, errors in the API's shape.
import { apiUrl } from "../config";
import { currentToken, signOut } from "../auth";

export class ApiError extends Error {
  readonly status: number;
  readonly kind: string;
  readonly field: string | null;

  constructor(status: number, kind: string, message: string, field: string | null) {
    super(message);
    this.status = status;
    this.kind = kind;
    this.field = field;
  }
}

/** A path segment, encoded (flow ids, step names and element ids are user-chosen text). */
export function seg(value: string): string {
  return encodeURIComponent(value);
}

type Query = Record<string, string | number | boolean | null | undefined>;

function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

export async function request<T>(
  method: string,
  path: string,
  options: { body?: unknown; query?: Query; token?: string } = {},
): Promise<T> {
  const token = options.token ?? currentToken();
  const headers: Record<string, string> = { Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  let response: Response;
  try {
    response = await fetch(apiUrl() + withQuery(path, options.query), {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      credentials: "omit",
      cache: "no-store",
    });
  } catch {
    throw new ApiError(0, "network", "The StepStore API could not be reached. Check your connection and try again.", null);
  }
  const text = await response.text();
  let body: unknown = null;
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = null;
    }
  }
  if (!response.ok) {
    const shaped = (body ?? {}) as { error?: string; message?: string; field?: string };
    if (response.status === 401 && !options.token) signOut(); // the token expired or was revoked
    throw new ApiError(
      response.status,
      shaped.error ?? "error",
      shaped.message ?? `The API answered ${response.status} ${response.statusText}`,
      shaped.field ?? null,
    );
  }
  return body as T;
}

export const api = {
  get: <T>(path: string, query?: Query) => request<T>("GET", path, { query }),
  put: <T>(path: string, body?: unknown) => request<T>("PUT", path, { body }),
  post: <T>(path: string, body?: unknown) => request<T>("POST", path, { body: body ?? {} }),
  del: <T>(path: string) => request<T>("DELETE", path),
};
