/**
 * What the Workspaces tab, the workspace form and the workspace view compute:
 * the list's filter and sort, a row's facts, the form's fields from a spec
 * and back, and where a server error belongs in the form. Framework-free: no
 * DOM, no React.
 */
import { ApiError } from '../api/client';
import { formatDuration } from '../format';
import type { Workspace, WorkspacePhase, WorkspaceSpecFields } from './types';

/** The phases that change by themselves: the list and the view poll while one is shown (see `settled`). */
export const TRANSITIONAL: ReadonlySet<WorkspacePhase> = new Set(['STARTING', 'STOPPING']);

export function isTransitional(phase: string): boolean {
  return TRANSITIONAL.has(phase as WorkspacePhase);
}

/** Whether the start/stop switch is on: the workspace runs or is asked to. */
export function switchedOn(ws: Pick<Workspace, 'desired' | 'phase'>): boolean {
  return ws.desired === 'ACTIVE' && ws.phase !== 'FAILED';
}

/** Whether the workspace is on its way to another state than its phase (asked to start or stop, not there yet). */
export function headingFor(ws: Pick<Workspace, 'desired' | 'phase'>): boolean {
  const running = ws.phase === 'ACTIVE' || ws.phase === 'STARTING';
  return ws.phase !== 'FAILED' && (ws.desired === 'ACTIVE') !== running;
}

/** Whether nothing will change by itself: not STARTING or STOPPING, nor asked to and not there yet. */
export function settled(ws: Pick<Workspace, 'desired' | 'phase'>): boolean {
  return !isTransitional(ws.phase) && !headingFor(ws);
}

// ------------------------------------------------------------------ the list

export interface ListFilter {
  /** Only ACTIVE workspaces. */
  activeOnly: boolean;
  /** Most recently updated first (else by name). */
  recent: boolean;
  /** Archived ones too. */
  showArchived: boolean;
}

export const DEFAULT_FILTER: ListFilter = { activeOnly: false, recent: false, showArchived: false };

/** The list route's query for a filter (the server filters and sorts; `arrange` does it again here). */
export function listQuery(filter: ListFilter): { active?: boolean; archived: boolean; sort: 'name' | 'updated' } {
  return {
    ...(filter.activeOnly ? { active: true } : {}),
    archived: filter.showArchived,
    sort: filter.recent ? 'updated' : 'name'
  };
}

/**
 * The rows as the tab shows them: only ACTIVE ones with `activeOnly`, archived
 * ones only with `showArchived`, by name or most recently updated first (then
 * by name, so rows updated together keep their order).
 */
export function arrange(items: readonly Workspace[], filter: ListFilter): Workspace[] {
  const kept = items.filter(w => (!filter.activeOnly || w.phase === 'ACTIVE') && (filter.showArchived || !w.archived));
  const byName = (a: Workspace, b: Workspace) =>
    a.name.localeCompare(b.name) || a.project.localeCompare(b.project) || a.domain.localeCompare(b.domain);
  return kept.sort((a, b) => {
    if (filter.recent) {
      const d = Date.parse(b.updated_at) - Date.parse(a.updated_at);
      if (d) {
        return d;
      }
    }
    return byName(a, b);
  });
}

/** `2 CPU · 4Gi · 1 GPU (nvidia-l4)`: a row's resources (`—` for what the spec leaves out). */
export function resourcesText(ws: Pick<Workspace, 'resources' | 'accelerator'>): string {
  const { cpu, mem, gpu } = ws.resources;
  const parts = [`${cpu ?? '—'} CPU`, mem ?? '—'];
  if (gpu && gpu !== '0') {
    parts.push(`${gpu} GPU${ws.accelerator ? ` (${ws.accelerator})` : ''}`);
  }
  return parts.join(' · ');
}

/** The idle time-to-live as people read it: `20m 0s`, `1h 0m`. */
export function ttlText(seconds: number | null | undefined): string {
  return seconds ? formatDuration(seconds) : '—';
}

/** Where the lab serves a workspace's code-server: `<base>plait/workspaces/<p>/<d>/<name>/`. */
export function vscodeUrl(baseUrl: string, ws: Pick<Workspace, 'project' | 'domain' | 'name'>): string {
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  const parts = [ws.project, ws.domain, ws.name].map(encodeURIComponent);
  return `${base}plait/workspaces/${parts.join('/')}/`;
}

/** The execution and node a debug workspace was made from, when it is one. */
export interface Origin {
  execution_id: string;
  node_id: string;
  task?: string;
}

export function originOf(ws: Pick<Workspace, 'origin'>): Origin | null {
  const o = ws.origin;
  if (o && typeof o.execution_id === 'string' && typeof o.node_id === 'string') {
    return { execution_id: o.execution_id, node_id: o.node_id, task: typeof o.task === 'string' ? o.task : undefined };
  }
  return null;
}

// ------------------------------------------------------------------ the form

export interface SecretRow {
  key: string;
  env_var: string;
}

/** The form's fields, as text (what the inputs hold). */
export interface SpecForm {
  name: string;
  description: string;
  project: string;
  domain: string;
  /** An image name; '' for the server's own Python environment. */
  container_image: string;
  /** The spec's ImageSpec fields when its image is one: kept as they are (edit them in the yaml). */
  image_spec: Record<string, unknown> | null;
  cpu: string;
  mem: string;
  gpu: string;
  accelerator: string;
  /** One shell command a line. */
  on_startup: string;
  ttl_seconds: string;
  secrets: SecretRow[];
  working_dir: string;
}

/** A new workspace's form: the spec's defaults (`plait.config.workspaces`). */
export function emptyForm(scope: { project?: string; domain?: string } = {}): SpecForm {
  return {
    name: '',
    description: '',
    project: scope.project ?? 'default',
    domain: scope.domain ?? 'development',
    container_image: '',
    image_spec: null,
    cpu: '2',
    mem: '4Gi',
    gpu: '',
    accelerator: '',
    on_startup: '',
    ttl_seconds: '1200',
    secrets: [],
    working_dir: 'workspace'
  };
}

function text(value: unknown): string {
  return value === null || value === undefined ? '' : String(value);
}

/** The form of a stored spec (a Workspace's `spec`, `WorkspaceSpec.to_dict()`). */
export function formFromSpec(spec: WorkspaceSpecFields): SpecForm {
  const resources = (spec.resources ?? {}) as Record<string, unknown>;
  const image = spec.container_image;
  const startup = spec.on_startup;
  return {
    name: text(spec.name),
    description: text(spec.description),
    project: text(spec.project) || 'default',
    domain: text(spec.domain) || 'development',
    container_image: typeof image === 'string' ? image : '',
    image_spec: image && typeof image === 'object' ? { ...(image as Record<string, unknown>) } : null,
    cpu: text(resources.cpu),
    mem: text(resources.mem),
    gpu: text(resources.gpu),
    accelerator: text(spec.accelerator),
    on_startup: Array.isArray(startup) ? startup.join('\n') : text(startup),
    ttl_seconds: text(spec.ttl_seconds),
    secrets: (Array.isArray(spec.secrets) ? spec.secrets : []).map(s => ({ key: text(s?.key), env_var: text(s?.env_var) })),
    working_dir: text(spec.working_dir)
  };
}

/** Problems the form finds before asking the server, by field (`FieldErrors`' keys). */
export function checkForm(form: SpecForm): FieldErrors {
  const out: FieldErrors = {};
  if (!form.name.trim()) {
    out.name = 'Give the workspace a name: lower-case letters, digits, - and _.';
  }
  const ttl = form.ttl_seconds.trim();
  if (ttl && !/^\d+$/.test(ttl)) {
    out.ttl_seconds = `Expected a whole number of seconds, found “${ttl}”.`;
  }
  form.secrets.forEach((s, i) => {
    if (!s.key.trim() && s.env_var.trim()) {
      out[`secrets.${i}.key`] = 'Name the secret this variable takes its value from.';
    }
  });
  return out;
}

/**
 * The spec the form describes, as the API takes it (`{"spec": ...}`): empty
 * optional fields are left out (the server's defaults apply), `on_startup` is
 * its non-empty lines, secret rows without a key are dropped, and an ImageSpec
 * image is passed on unchanged unless an image name was typed over it.
 */
export function specFromForm(form: SpecForm): WorkspaceSpecFields {
  const spec: WorkspaceSpecFields = { name: form.name.trim() };
  const put = (key: keyof WorkspaceSpecFields, value: string) => {
    if (value.trim()) {
      (spec as unknown as Record<string, unknown>)[key] = value.trim();
    }
  };
  spec.description = form.description.trim();
  put('project', form.project);
  put('domain', form.domain);
  if (form.container_image.trim()) {
    spec.container_image = form.container_image.trim();
  } else if (form.image_spec) {
    spec.container_image = form.image_spec;
  } else {
    spec.container_image = null;
  }
  const resources: Record<string, string | null> = {};
  if (form.cpu.trim()) {
    resources.cpu = form.cpu.trim();
  }
  if (form.mem.trim()) {
    resources.mem = form.mem.trim();
  }
  resources.gpu = form.gpu.trim() && form.gpu.trim() !== '0' ? form.gpu.trim() : null;
  spec.resources = resources;
  spec.accelerator = form.accelerator.trim() || null;
  spec.on_startup = form.on_startup
    .split('\n')
    .map(line => line.trim())
    .filter(Boolean);
  const ttl = form.ttl_seconds.trim();
  if (ttl) {
    spec.ttl_seconds = /^\d+$/.test(ttl) ? Number(ttl) : (ttl as unknown as number);
  }
  spec.secrets = form.secrets
    .filter(s => s.key.trim())
    .map(s => ({ key: s.key.trim(), ...(s.env_var.trim() ? { env_var: s.env_var.trim() } : {}) }));
  put('working_dir', form.working_dir);
  return spec;
}

// ------------------------------------------------------------------ errors

/** Messages by form field: `name`, `cpu`, `secrets.0.key`, ...; `''` for the form as a whole. */
export type FieldErrors = Record<string, string>;

/**
 * The form field a spec error names (the server's `field`: `resources.mem`,
 * `secrets[1].env_var`, `container_image.packages`, `on_startup`), or '' when
 * it names none the form shows.
 */
export function formFieldOf(field: string | null | undefined): string {
  if (!field) {
    return '';
  }
  const secret = /^secrets\[(\d+)\](?:\.(key|env_var))?/.exec(field);
  if (secret) {
    return secret[2] ? `secrets.${secret[1]}.${secret[2]}` : `secrets.${secret[1]}.key`;
  }
  const resource = /^resources\.(cpu|mem|gpu)\b/.exec(field);
  if (resource) {
    return resource[1];
  }
  if (field === 'resources') {
    return 'cpu';
  }
  const head = field.split(/[.[]/)[0];
  const known = ['name', 'description', 'project', 'domain', 'container_image', 'accelerator', 'on_startup',
    'ttl_seconds', 'secrets', 'working_dir'];
  return known.includes(head) ? head : '';
}

/** A refused save's message, placed next to the field it names (or over the form). */
export function errorsOf(error: unknown): FieldErrors {
  if (error instanceof ApiError) {
    const field = formFieldOf(error.body.field ?? undefined);
    return { [field]: error.message };
  }
  return { '': error instanceof Error ? error.message : String(error) };
}
