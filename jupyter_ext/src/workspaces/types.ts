/** The workspaces' wire types, as the backend's OpenAPI document generates them. */
import type { Schemas } from '../api/client';

/** A browser workspace: its spec, phase, resources and where it was made from. */
export type Workspace = Schemas['Workspace'];
export type WorkspacePhase = Workspace['phase'];
export type WorkspaceList = Schemas['WorkspaceList'];
export type WorkspaceLog = Schemas['WorkspaceLog'];

/** The fields of `workspace.yaml` (the API takes and gives them as a JSON object). */
export interface WorkspaceSpecFields {
  name: string;
  description?: string;
  project?: string;
  domain?: string;
  /** An image name, ImageSpec fields, or null for the server's own Python environment. */
  container_image?: string | Record<string, unknown> | null;
  resources?: { cpu?: string | null; mem?: string | null; gpu?: string | null };
  accelerator?: string | null;
  on_startup?: string[] | string | null;
  ttl_seconds?: number;
  secrets?: Array<{ key: string; env_var?: string | null }>;
  working_dir?: string;
}
