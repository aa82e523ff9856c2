/** The apps' wire types, as the backend's OpenAPI document generates them. */
import type { Schemas } from '../api/client';

/** An app: its spec and revision, its status and the state asked for, its replicas. */
export type AppView = Schemas['AppView'];
export type AppStatus = AppView['status'];
export type Replica = Schemas['Replica'];
export type ReplicaPhase = Replica['phase'];

/** One line of an app's history (`GET apps/{name}/events`). */
export interface AppEvent {
  at: string;
  message: string;
}

/** What `POST /plait/dashboards/execution/{id}` answers: the app that serves the dashboard. */
export interface DeployedDashboard {
  name: string;
  project: string;
  domain: string;
  url: string;
  status: AppStatus;
}
