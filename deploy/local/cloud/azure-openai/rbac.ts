/**
 * Azure RBAC for the data plane of an Azure OpenAI account, as the service evaluates it: a caller
 * may perform a data action when one of its role assignments has a scope at or above the resource
 * and a role whose `dataActions` match the action (wildcards `*`, case-insensitive). Role
 * definitions from "Azure built-in roles — AI + machine learning" (Cognitive Services OpenAI User /
 * Contributor). The principal is the service principal of the app the token was issued to
 * (`tid` + `appid`). Pure.
 */
import { isWithin, type CloudAccounts } from "../accounts/accounts.ts";

const OPENAI = "Microsoft.CognitiveServices/accounts/OpenAI";

export const ROLE_DATA_ACTIONS: Record<CloudAccounts["azure"]["roleAssignments"][number]["role"], readonly string[]> = {
  "Cognitive Services OpenAI User": [
    `${OPENAI}/*/read`,
    `${OPENAI}/engines/completions/action`,
    `${OPENAI}/engines/search/action`,
    `${OPENAI}/engines/generate/action`,
    `${OPENAI}/deployments/search/action`,
    `${OPENAI}/deployments/completions/action`,
    `${OPENAI}/deployments/chat/completions/action`,
    `${OPENAI}/deployments/extensions/chat/completions/action`,
    `${OPENAI}/deployments/embeddings/action`,
    `${OPENAI}/images/generations/action`,
  ],
  "Cognitive Services OpenAI Contributor": [`${OPENAI}/*`],
};

export const CHAT_COMPLETIONS_ACTION = `${OPENAI}/deployments/chat/completions/action`;

function matches(pattern: string, action: string): boolean {
  const re = new RegExp(
    `^${pattern
      .split("*")
      .map((p) => p.replace(/[.+?^${}()|[\]\\/]/g, "\\$&"))
      .join(".*")}$`,
    "i",
  );
  return re.test(action);
}

export interface DataActionRequest {
  tenantId: string;
  clientId: string;
  /** ARM id of the resource acted on (a deployment). */
  resourceId: string;
  dataAction: string;
}

/** Whether some role assignment of the principal grants the data action on the resource. */
export function isAuthorized(req: DataActionRequest, assignments: CloudAccounts["azure"]["roleAssignments"]): boolean {
  return assignments.some(
    (a) =>
      a.principal.tenantId === req.tenantId.toLowerCase() &&
      a.principal.clientId === req.clientId.toLowerCase() &&
      isWithin(req.resourceId, a.scope) &&
      ROLE_DATA_ACTIONS[a.role].some((p) => matches(p, req.dataAction)),
  );
}
