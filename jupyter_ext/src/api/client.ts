/**
 * The one typed request function the panels use, and the wire types.
 *
 * Paths, parameters and bodies are checked against `schema.d.ts`, which is
 * generated from the backend's OpenAPI document (`make types`); the lab server
 * extension serves the same routes under `/plait/api` (minus `/api/v1`) and
 * adds the backend's token, so the browser never holds it.
 */
import type { components, paths } from './schema';

export type Schemas = components['schemas'];
export type Execution = Schemas['Execution'];
export type ExecutionSummary = Schemas['ExecutionSummary'];
export type ExecutionCreate = Schemas['ExecutionCreate'];
export type ExecutionSettings = Schemas['ExecutionSettings'];
export type NodeExecution = Schemas['NodeExecution'];
export type Attempt = Schemas['Attempt'];
export type Entity = Schemas['Entity'];
export type EntityListItem = Schemas['EntityListItem'];
export type EntitySummary = Schemas['EntitySummary'];
export type LogChunk = Schemas['LogChunk'];
export type ErrorBody = Schemas['ErrorBody'];
/** The phases an execution goes through (plait.model.vocab's ExecutionPhase, inlined by the schema). */
export type ExecutionPhase = Execution['phase'];
/** The phases a node or an attempt goes through: an execution's, SKIPPED and CACHE_HIT (NodePhase). */
export type NodePhase = NodeExecution['phase'];
export type EntityKind = 'task' | 'workflow' | 'launch_plan';

type Method = 'get' | 'post' | 'put';
/** The backend's paths with the `/api/v1` prefix the proxy adds. */
type Route<P> = P extends `/api/v1/${infer R}` ? R : never;
export type ApiPath = Route<keyof paths>;
type Full<R extends ApiPath> = `/api/v1/${R}` & keyof paths;
type Op<R extends ApiPath, M extends Method> = NonNullable<paths[Full<R>][M]>;
type ParamsOf<O, K extends string> = O extends { parameters: infer P }
  ? K extends keyof P
    ? P[K]
    : never
  : never;
/** The media type of the DAG routes (`GET {kind}s/{name}/dag`): JSON, typed as `Schemas['Dag']`. */
export const DAG_MIME = 'application/vnd.plait.dag+json';
/** The body of a response in one of the JSON media types the backend sends. */
type JsonOf<R> = R extends { content: { 'application/json': infer J } }
  ? J
  : R extends { content: { [DAG_MIME]: infer D } }
    ? D
    : unknown;
type Ok<O> = O extends { responses: infer Rs }
  ? 200 extends keyof Rs
    ? JsonOf<Rs[200]>
    : 201 extends keyof Rs
      ? JsonOf<Rs[201]>
      : 202 extends keyof Rs
        ? JsonOf<Rs[202]>
        : unknown
  : unknown;
type BodyOf<O> = O extends { requestBody?: { content: { 'application/json': infer B } } } ? B : never;

export interface RequestOptions<R extends ApiPath, M extends Method> {
  path?: ParamsOf<Op<R, M>, 'path'>;
  query?: ParamsOf<Op<R, M>, 'query'>;
  body?: BodyOf<Op<R, M>>;
  signal?: AbortSignal;
}

/** What sends an HTTP request: `fetch` in tests, Jupyter's ServerConnection in the lab. */
export type Transport = (url: string, init: RequestInit) => Promise<Response>;

/** A refused or failed call, with the backend's explanation (and per-field problems). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: Partial<ErrorBody> & { message?: string; detail?: unknown },
    readonly route: string
  ) {
    super(ApiError.describe(status, body, route));
    this.name = 'ApiError';
  }

  /** Problems by input or field name, for showing next to form fields. */
  get problems(): Record<string, string> {
    const out: Record<string, string> = {};
    const body = this.body;
    for (const p of (body.problems ?? []) as Array<{ input?: string; field?: string; message: string }>) {
      const key = p.input ?? p.field;
      if (key) {
        out[key] = p.message;
      }
    }
    const key = body.input ?? body.field;
    if (key && !out[key] && body.message) {
      out[key] = body.message;
    }
    return out;
  }

  private static describe(status: number, body: ApiError['body'], route: string): string {
    if (body && typeof body.message === 'string') {
      return body.message;
    }
    return `${route} failed with HTTP ${status}`;
  }
}

function fill(template: string, params: Record<string, unknown> | undefined): string {
  return template.replace(/\{(\w+)\}/g, (_, key: string) => {
    const value = params?.[key];
    if (value === undefined || value === null) {
      throw new Error(`request to ${template}: path parameter \`${key}\` is missing`);
    }
    return encodeURIComponent(String(value));
  });
}

export function queryString(query: Record<string, unknown> | undefined): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value === undefined || value === null || value === '') {
      continue;
    }
    for (const item of Array.isArray(value) ? value : [value]) {
      search.append(key, String(item));
    }
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

/**
 * Call `method route` through `transport`; resolve to the typed success body,
 * reject with an ApiError that carries the backend's message.
 */
export async function request<R extends ApiPath, M extends Method>(
  transport: Transport,
  method: M,
  route: R,
  options: RequestOptions<R, M> = {}
): Promise<Ok<Op<R, M>>> {
  const url =
    fill(route, options.path as Record<string, unknown> | undefined) +
    queryString(options.query as Record<string, unknown> | undefined);
  const init: RequestInit = { method: method.toUpperCase(), signal: options.signal };
  if (options.body !== undefined) {
    init.body = JSON.stringify(options.body);
    init.headers = { 'Content-Type': 'application/json' };
  }
  const response = await transport(url, init);
  const text = await response.text();
  let data: unknown = undefined;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = { message: text };
    }
  }
  if (!response.ok) {
    const body = (data && typeof data === 'object' ? data : {}) as ApiError['body'];
    throw new ApiError(response.status, body, `${method.toUpperCase()} ${route}`);
  }
  return data as Ok<Op<R, M>>;
}

/** A client bound to one transport: the panels hold one of these. */
export class PlaitClient {
  constructor(readonly transport: Transport) {}

  request<R extends ApiPath, M extends Method>(
    method: M,
    route: R,
    options: RequestOptions<R, M> = {}
  ): Promise<Ok<Op<R, M>>> {
    return request(this.transport, method, route, options);
  }
}
