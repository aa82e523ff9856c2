/** The artifact service's wire types (docs/artifacts.md), as the backend's OpenAPI document generates them. */
import type { Schemas } from '../api/client';

/** One version of an artifact: identity, partitions, value, cards and producer. */
export type ArtifactVersion = Schemas['ArtifactVersion'];
export type ArtifactCard = Schemas['ArtifactCard'];
/** One row of the artifact list: a name, its version count and keys, and its newest version. */
export type ArtifactSummary = Schemas['ArtifactSummary'];
/** A version's lineage: executions and versions as nodes, `produced` and `consumed` edges. */
export type Lineage = Schemas['Lineage'];
export type LineageNode = Schemas['LineageNode'];
export type LineageEdge = Schemas['LineageEdge'];
/** A version an execution emitted or consumed; `node_path` is '' for the execution itself. */
export type ArtifactUse = Schemas['ArtifactUse'];
export type ExecutionArtifacts = Schemas['ExecutionArtifacts'];
