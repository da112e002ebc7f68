/**
 * The plan: per cluster, what apply would create, update or delete, down to the field. Plain data
 * (the `--json` output is this, as is). Secret values never appear: a changed secret shows as
 * {@link SENSITIVE}.
 */

export type ResourceKind = "realm" | "key" | "clientScope" | "identityProvider" | "client" | "user";

export type FieldValue = string | number | boolean | string[];

/** Stands in for a secret value in a plan. */
export const SENSITIVE = "(sensitive value)";

/** One field that differs; `from` is absent on create, `to` on delete. */
export interface FieldChange {
  path: string;
  from?: FieldValue;
  to?: FieldValue;
}

/** A protocol mapper of a client or client scope to create, update or delete. */
export interface MapperChange {
  op: "create" | "update" | "delete";
  name: string;
  fields: FieldChange[];
}

export type Change =
  | { op: "create"; kind: ResourceKind; name: string; fields: FieldChange[]; mappers: MapperChange[] }
  | { op: "update"; kind: ResourceKind; name: string; id: string; fields: FieldChange[]; mappers: MapperChange[] }
  | { op: "delete"; kind: ResourceKind; name: string; id: string; reason: string }
  /** Something realm-sync would have to change but does not own: apply refuses the cluster. */
  | { op: "conflict"; kind: ResourceKind; name: string; id: string; reason: string }
  /**
   * Something realm-sync does not own that reaches what it does (another client emitting a managed
   * workload's `sub`, a server feature granting exchanges): apply never changes it, carries out the
   * rest of the plan and fails until it is removed by hand.
   */
  | { op: "foreign"; kind: ResourceKind; name: string; id: string; reason: string };

export interface ClusterPlan {
  cluster: string;
  realm: string;
  changes: Change[];
}

export interface PlanSummary {
  create: number;
  update: number;
  delete: number;
  conflict: number;
  foreign: number;
}

export function summarize(changes: readonly Change[]): PlanSummary {
  const s: PlanSummary = { create: 0, update: 0, delete: 0, conflict: 0, foreign: 0 };
  for (const c of changes) s[c.op]++;
  return s;
}

/** Whether applying the plan would change anything (conflicts count: the cluster is not as configured). */
export function hasChanges(plan: ClusterPlan): boolean {
  return plan.changes.length > 0;
}
