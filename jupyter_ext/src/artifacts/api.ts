/** The calls the Artifacts tab, the artifact view and the execution view make, through the one typed client. */
import type { PlaitClient, Schemas } from '../api/client';
import { keysCover, partitionParams, type ArtifactSearch } from './search';
import type { ArtifactSummary, ArtifactVersion, ExecutionArtifacts, Lineage } from './types';

/** Where an artifact lives; the backend's defaults when absent. */
export interface Scope {
  project?: string;
  domain?: string;
}

type Domain = NonNullable<Schemas['ArtifactCreate']['domain']>;

/** A page of a list route. */
export interface Page<T> {
  items: T[];
  limit: number;
  offset: number;
  next_offset: number | null;
}

/** The scope as query parameters (a domain the backend does not know is its to refuse). */
function scoped(scope: Scope): { project?: string; domain?: Domain } {
  return { project: scope.project, domain: scope.domain as Domain | undefined };
}

/** How many names the list shows, and how many of them a partition search looks into. */
export const LIST_LIMIT = 200;
export const PARTITION_PROBES = 50;

export function listArtifacts(
  client: PlaitClient,
  query: { name_contains?: string; limit?: number; offset?: number } & Scope,
  signal?: AbortSignal
): Promise<Page<ArtifactSummary>> {
  const { project, domain, ...rest } = query;
  return client.request('get', 'artifacts', { query: { ...rest, ...scoped({ project, domain }) }, signal });
}

export function listVersions(
  client: PlaitClient,
  name: string,
  query: { partition?: string[]; execution?: string; limit?: number; offset?: number } & Scope,
  signal?: AbortSignal
): Promise<Page<ArtifactVersion>> {
  const { project, domain, ...rest } = query;
  return client.request('get', 'artifacts/{name}/versions', {
    path: { name },
    query: { ...rest, ...scoped({ project, domain }) },
    signal
  });
}

export function getVersion(client: PlaitClient, name: string, version: string, scope: Scope = {}): Promise<ArtifactVersion> {
  return client.request('get', 'artifacts/{name}/versions/{version}', { path: { name, version }, query: scoped(scope) });
}

export function getLineage(
  client: PlaitClient,
  name: string,
  version: string,
  depth: number,
  scope: Scope = {}
): Promise<Lineage> {
  return client.request('get', 'artifacts/{name}/versions/{version}/lineage', {
    path: { name, version },
    query: { depth, ...scoped(scope) }
  });
}

export function getExecutionArtifacts(client: PlaitClient, id: string): Promise<ExecutionArtifacts> {
  return client.request('get', 'executions/{execution_id}/artifacts', { path: { execution_id: id } });
}

/** A row of the Artifacts tab: an artifact, and with partition filters its newest matching version. */
export interface ArtifactRow extends ArtifactSummary {
  /** With partition filters: the newest version that matches them. */
  matching?: ArtifactVersion;
}

/**
 * The artifacts a search finds, newest first. Names come from the list route
 * (`name_contains`); with partition filters, each artifact whose keys can
 * match is asked for its newest matching version, and only those that have
 * one are kept (the first PARTITION_PROBES candidates: the search says so when
 * there were more).
 */
export async function searchArtifacts(
  client: PlaitClient,
  search: ArtifactSearch,
  signal?: AbortSignal
): Promise<{ rows: ArtifactRow[]; truncated: boolean }> {
  const page = await listArtifacts(client, { name_contains: search.name || undefined, limit: LIST_LIMIT }, signal);
  const partition = partitionParams(search.partitions);
  if (partition.length === 0) {
    return { rows: page.items, truncated: page.next_offset != null };
  }
  const candidates = page.items.filter((a: ArtifactSummary) => keysCover(a.partition_keys, a.time_partitioned, search.partitions));
  const probed = candidates.slice(0, PARTITION_PROBES);
  const found = await Promise.all(
    probed.map(a =>
      listVersions(client, a.name, { partition, limit: 1, project: a.project, domain: a.domain }, signal).then(
        (versions): ArtifactRow | null => (versions.items.length ? { ...a, matching: versions.items[0] } : null)
      )
    )
  );
  return {
    rows: found.filter((r): r is ArtifactRow => r !== null),
    truncated: page.next_offset != null || candidates.length > probed.length
  };
}
