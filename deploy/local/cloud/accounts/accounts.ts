/**
 * The customer's side of the local clouds: what lives in the customer's AWS and Azure accounts and
 * not in realm-config — IAM roles' permission policies, the Bedrock models and application
 * inference profiles of the account, the Azure OpenAI account with its deployments and the role
 * assignments of each identity. realm-config decides who may assume a role or use an identity; this
 * file decides what that role or identity may then do, as the customer's IAM and Azure RBAC do.
 * Validated strictly at load (unknown keys refused, every error with its path).
 */
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { z } from "zod";

const ACCOUNT = z.string().regex(/^\d{12}$/, "a 12-digit AWS account id");
const GUID = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, "a lower-case GUID");
const NAME = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, "1-64 characters of letters, digits, _ . -");
const ROLE_ARN = z.string().regex(/^arn:aws:iam::\d{12}:role\/(?:[\x21-\x7e]*\/)?[\w+=,.@-]{1,64}$/, "an IAM role ARN");
const POLICY = z
  .record(z.string(), z.unknown())
  .refine(
    (p) => p.Version === "2012-10-17" && typeof p.Statement === "object" && p.Statement !== null,
    "an IAM policy document (Version 2012-10-17, Statement)",
  );

const AwsAccounts = z.strictObject({
  /** The region the local Bedrock endpoint serves. */
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, "an AWS region such as us-east-1"),
  /** Base model ids the region offers (`amazon.nova-micro-v1:0`). */
  foundationModels: z.array(z.string().regex(/^[a-z0-9-]+\.[A-Za-z0-9.:-]+$/, "a Bedrock model id such as amazon.nova-micro-v1:0")).min(1),
  /** Application inference profiles: taggable resources that route to one base model (ABAC targets). */
  inferenceProfiles: z
    .array(
      z.strictObject({
        id: z.string().regex(/^[a-z0-9]{1,64}$/, "lower-case letters and digits"),
        account: ACCOUNT,
        model: z.string(),
        tags: z.record(z.string(), z.string()).default({}),
      }),
    )
    .default([]),
  /** The permission policies attached to each role (identity-based policies). */
  roles: z
    .array(z.strictObject({ arn: ROLE_ARN, policies: z.array(z.strictObject({ name: NAME, document: POLICY })).default([]) }))
    .default([]),
});

const AzureAccounts = z.strictObject({
  /** The Azure OpenAI (Cognitive Services) account the local endpoint stands for. */
  openai: z.strictObject({ subscriptionId: GUID, resourceGroup: NAME, account: NAME }),
  deployments: z.array(z.strictObject({ name: NAME, model: z.string().min(1), version: z.string().min(1) })).min(1),
  /** Role assignments of the identities (service principals of the apps realm-config federates). */
  roleAssignments: z
    .array(
      z.strictObject({
        principal: z.strictObject({ tenantId: GUID, clientId: GUID }),
        role: z.enum(["Cognitive Services OpenAI User", "Cognitive Services OpenAI Contributor"]),
        /** An ARM scope: the account, or one deployment under it. */
        scope: z.string().startsWith("/subscriptions/"),
      }),
    )
    .default([]),
});

export const CloudAccounts = z.strictObject({ aws: AwsAccounts, azure: AzureAccounts });
export type CloudAccounts = z.infer<typeof CloudAccounts>;
export type CloudAccountsInput = z.input<typeof CloudAccounts>;

/** Validates a fixture document; throws a `TypeError` listing every problem with its path. */
export function parseCloudAccounts(doc: unknown, source = "cloud accounts"): CloudAccounts {
  const result = CloudAccounts.safeParse(doc);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join(".") || "(root)"}: ${i.message}`);
    throw new TypeError(`${source} is invalid:\n${lines.join("\n")}`);
  }
  const accounts = result.data;
  const models = new Set(accounts.aws.foundationModels);
  const problems: string[] = [];
  accounts.aws.inferenceProfiles.forEach((p, i) => {
    if (!models.has(p.model)) problems.push(`  aws.inferenceProfiles.${i}.model: ${p.model} is not one of aws.foundationModels`);
  });
  const accountScope = azureAccountScope(accounts);
  accounts.azure.roleAssignments.forEach((a, i) => {
    if (!isWithin(a.scope, accountScope)) problems.push(`  azure.roleAssignments.${i}.scope: must be ${accountScope} or below it`);
  });
  if (problems.length > 0) throw new TypeError(`${source} is invalid:\n${problems.join("\n")}`);
  return accounts;
}

export function loadCloudAccounts(file: string): CloudAccounts {
  return parseCloudAccounts(parse(readFileSync(file, "utf8")) as unknown, file);
}

/** `/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.CognitiveServices/accounts/{a}` */
export function azureAccountScope(accounts: CloudAccounts): string {
  const o = accounts.azure.openai;
  return `/subscriptions/${o.subscriptionId}/resourceGroups/${o.resourceGroup}/providers/Microsoft.CognitiveServices/accounts/${o.account}`;
}

/** Whether ARM resource id `resource` is `scope` or below it (segment-wise, case-insensitive as ARM ids are). */
export function isWithin(resource: string, scope: string): boolean {
  const r = resource.toLowerCase().replace(/\/+$/, "");
  const s = scope.toLowerCase().replace(/\/+$/, "");
  return r === s || r.startsWith(`${s}/`);
}
