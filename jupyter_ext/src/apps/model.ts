/**
 * What the Apps tab and the app view compute: a status's badge, whether to
 * ask again, a row's facts, an app's inputs and replicas as people read them,
 * and where the lab serves an app. Framework-free: no DOM, no React.
 */
import type { AppStatus, AppView, Replica } from './types';

/** How often the tab and the view ask again while an app is on its way somewhere (ms). */
export const POLL_INTERVAL_MS = 2000;

/** The colour class of a status or replica phase badge: `plait-phase-scaled-to-zero`, `plait-phase-backoff`. */
export function statusClass(status: string | null | undefined): string {
  return `plait-phase-${(status ?? 'unknown').toLowerCase().replace(/[\s_]+/g, '-')}`;
}

/** What a status means, for the badge's tooltip. */
export const STATUS_HELP: Record<AppStatus, string> = {
  Pending: 'Starting: waiting for a replica to answer its health check',
  Started: 'Serving requests',
  Stopped: 'Not running; Start runs it again',
  Failed: 'Its replicas keep failing; the reason says why',
  'Scaled to zero': 'No replica runs; the next request starts one (and waits for it)'
};

/**
 * Whether the app will change by itself soon: it is Pending, or it was asked
 * to start or stop and is not there yet.
 */
export function changing(app: Pick<AppView, 'status' | 'desired_state'>): boolean {
  if (app.status === 'Pending') {
    return true;
  }
  if (app.desired_state === 'Stopped') {
    return app.status !== 'Stopped' && app.status !== 'Failed';
  }
  return app.status === 'Stopped';
}

/** Whether the tab asks again in `POLL_INTERVAL_MS`: while any app is changing (see `changing`). */
export function shouldPoll(apps: ReadonlyArray<Pick<AppView, 'status' | 'desired_state'>>): boolean {
  return apps.some(changing);
}

/** Whether the view asks again: the app is changing, or one of its replicas is starting or backing off. */
export function viewShouldPoll(app: Pick<AppView, 'status' | 'desired_state' | 'replicas'>): boolean {
  return changing(app) || app.replicas.some(r => r.phase === 'STARTING' || r.phase === 'BACKOFF');
}

/** Whether the Stop button is the one shown (else Start): the app is asked to run. */
export function runningWanted(app: Pick<AppView, 'desired_state' | 'status'>): boolean {
  return app.desired_state === 'Started' && app.status !== 'Failed';
}

/** Whether "Open" is offered: a request reaches a replica (a scaled-to-zero app starts one for it). */
export function openable(app: Pick<AppView, 'status' | 'desired_state'>): boolean {
  return app.desired_state === 'Started' && (app.status === 'Started' || app.status === 'Scaled to zero');
}

/** A row's CPU and memory: `1 CPU`, `1Gi` (`—` for what the spec leaves out). */
export function cpuText(app: Pick<AppView, 'resources'>): string {
  return `${app.resources.cpu ?? '—'} CPU`;
}

export function memText(app: Pick<AppView, 'resources'>): string {
  return app.resources.mem ?? '—';
}

/** `1 CPU · 1Gi`, with the GPUs when it asks for any: the view's resources (none asked: the server's defaults). */
export function resourcesText(app: Pick<AppView, 'resources'>): string {
  const { cpu, mem, gpu } = app.resources;
  if (!cpu && !mem && !gpu) {
    return 'the server’s defaults';
  }
  const parts = [cpuText(app), memText(app)];
  if (gpu && gpu !== '0') {
    parts.push(`${gpu} GPU`);
  }
  return parts.join(' · ');
}

/** Where the lab serves an app, under its login: `<base>plait/apps/<p>/<d>/<name>/`. */
export function appUrl(baseUrl: string, app: Pick<AppView, 'project' | 'domain' | 'name'>): string {
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  const parts = [app.project, app.domain, app.name].map(encodeURIComponent);
  return `${base}plait/apps/${parts.join('/')}/`;
}

/** One input of the app as the view lists it. */
export interface InputRow {
  name: string;
  envVar: string | null;
  download: boolean;
  /** `model:v3` for an artifact query's resolved version; null for a literal. */
  artifact: string | null;
}

/** The app's inputs (`{NAME: {env_var, download, artifact?: {name, version}}}`), by name. */
export function inputRows(inputs: AppView['inputs']): InputRow[] {
  return Object.entries(inputs ?? {})
    .map(([name, raw]) => {
      const value = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
      const artifact = value.artifact as { name?: unknown; version?: unknown } | null | undefined;
      return {
        name,
        envVar: typeof value.env_var === 'string' && value.env_var ? value.env_var : null,
        download: value.download === true,
        artifact: artifact && typeof artifact === 'object' ? `${String(artifact.name ?? '?')}:${String(artifact.version ?? '?')}` : null
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** A replica's restarts: `none`, `1 restart`, `3 restarts`. */
export function restartsText(replica: Pick<Replica, 'restarts'>): string {
  return replica.restarts === 0 ? 'none' : `${replica.restarts} restart${replica.restarts === 1 ? '' : 's'}`;
}

/** The replicas by slot (the log picker's choices and the table's rows). */
export function bySlot(replicas: readonly Replica[]): Replica[] {
  return [...replicas].sort((a, b) => a.slot - b.slot || b.revision - a.revision);
}

/** The replica whose log is shown: the chosen one while it exists, else the first. */
export function logReplica(replicas: readonly Replica[], chosen: number | null): number {
  if (chosen !== null && replicas.some(r => r.slot === chosen)) {
    return chosen;
  }
  return bySlot(replicas)[0]?.slot ?? 0;
}
