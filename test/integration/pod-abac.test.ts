/**
 * Per-pod attribute-based access control at a resource API: one IAM role shared by the workloads of
 * two namespaces, whose permission policy is keyed on `${aws:PrincipalTag/kubernetes-namespace}` (in
 * the Resource element and in a condition on the resource's tag). Each pod authenticates to the
 * real Keycloak with its projected service-account token; the Keycloak extension puts its
 * namespace into the session tags; the STS emulator (trust from `export-trust`) carries them into
 * the session; the Bedrock emulator's IAM evaluator (`@cloud-copilot/iam-simulate`) substitutes
 * the policy variable. Each pod reaches its own namespace's model and is denied the other's
 * (AccessDeniedException, and an event naming the principal tags it was judged with).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BedrockRuntimeClient, BedrockRuntimeServiceException, ConverseCommand } from "@aws-sdk/client-bedrock-runtime";
import { AssumeRoleWithWebIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { loadTrustExport } from "../../admin-scripts/trust/artifacts.ts";
import { parseCloudAccounts } from "../../deploy/local/cloud/accounts/accounts.ts";
import { startBedrockEmulator, startStsEmulator, type BedrockEmulator, type StsEmulator } from "../../deploy/local/cloud/index.ts";
import { startKubeIssuer, type KubeIssuer } from "../../deploy/local/issuer/kube-issuer.ts";
import { ensureLocalPki } from "../../deploy/local/pki/local-pki.ts";
import { createRealmFixture, type RealmFixture } from "../support/realm-fixture.ts";
import { recordStsSession } from "../support/world.ts";

const domain = inject("trustDomain");
const CLUSTERS = domain.clusters.map((c) => c.name);
const ACCOUNT = "111122223333";
const ROLE = `arn:aws:iam::${ACCOUNT}:role/namespace-models`;
const MICRO = "amazon.nova-micro-v1:0";
const NAMESPACES = ["orders", "billing"] as const;
type Namespace = (typeof NAMESPACES)[number];
const PROFILE: Record<Namespace, string> = { orders: "ordersnova01", billing: "billingnova01" };
const profileArn = (id: string) => `arn:aws:bedrock:us-east-1:${ACCOUNT}:application-inference-profile/${id}`;

/** The customer's IAM: one role for every namespace, each pod limited to its namespace's inference profiles. */
const accounts = parseCloudAccounts({
  aws: {
    region: "us-east-1",
    foundationModels: [MICRO],
    inferenceProfiles: NAMESPACES.map((ns) => ({ id: PROFILE[ns], account: ACCOUNT, model: MICRO, tags: { "kubernetes-namespace": ns } })),
    roles: [
      {
        arn: ROLE,
        policies: [
          {
            name: "own-namespace-models",
            document: {
              Version: "2012-10-17",
              Statement: [
                {
                  Effect: "Allow",
                  Action: "bedrock:InvokeModel",
                  Resource: `arn:aws:bedrock:us-east-1:${ACCOUNT}:application-inference-profile/\${aws:PrincipalTag/kubernetes-namespace}*`,
                  Condition: { StringEquals: { "aws:ResourceTag/kubernetes-namespace": "${aws:PrincipalTag/kubernetes-namespace}" } },
                },
                {
                  Effect: "Allow",
                  Action: "bedrock:InvokeModel",
                  Resource: `arn:aws:bedrock:us-east-1::foundation-model/${MICRO}`,
                  Condition: { StringLike: { "bedrock:InferenceProfileArn": profileArn("*") } },
                },
              ],
            },
          },
        ],
      },
    ],
  },
  azure: {
    openai: { subscriptionId: "7b2d4f6a-8c0e-4a1b-9d3f-5a7c9e1b3d5f", resourceGroup: "abac-it", account: "abac-it-openai" },
    deployments: [{ name: "gpt-4o-mini", model: "gpt-4o-mini", version: "2024-07-18" }],
  },
});

let kube: KubeIssuer;
let fx: RealmFixture;
let sts: StsEmulator;
let bedrock: BedrockEmulator;
let exportDir: string;

/** AWS credentials of one pod of `ns`: its projected token → Keycloak (client assertion) → STS. */
async function podCredentials(ns: Namespace, cluster: string) {
  const assertion = await kube.mintToken({
    namespace: ns,
    serviceAccount: `${ns}-api`,
    audience: fx.issuer,
    pod: { name: `${ns}-api-6c5d4-x1y2z` },
  });
  const res = await fetch(fx.tokenEndpoint(cluster), {
    method: "POST",
    body: new URLSearchParams({
      grant_type: "client_credentials",
      client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
      client_assertion: assertion,
      scope: "kcb-aws",
    }),
  });
  const body = (await res.json()) as { access_token?: string };
  if (!body.access_token) throw new Error(`${cluster}: HTTP ${res.status} ${JSON.stringify(body)}`);
  const client = new STSClient({
    endpoint: sts.url,
    region: "us-east-1",
    credentials: { accessKeyId: "unused", secretAccessKey: "unused" },
  });
  const out = await client.send(
    new AssumeRoleWithWebIdentityCommand({ RoleArn: ROLE, RoleSessionName: `${ns}-pod`, WebIdentityToken: body.access_token }),
  );
  const c = out.Credentials!;
  return { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! };
}

function converse(credentials: Awaited<ReturnType<typeof podCredentials>>, profile: string) {
  const client = new BedrockRuntimeClient({ region: "us-east-1", endpoint: bedrock.url, credentials, maxAttempts: 1 });
  return client.send(new ConverseCommand({ modelId: profileArn(profile), messages: [{ role: "user", content: [{ text: "hi" }] }] }));
}

beforeAll(async () => {
  kube = await startKubeIssuer({ pki: await ensureLocalPki() });
  fx = await createRealmFixture({
    domain,
    prefix: "abac",
    workloads: NAMESPACES.map((ns) => ({
      name: `${ns}-api`,
      subject: `workload:${ns}-api`,
      authentication: { kubernetes: { issuer: kube.issuer, serviceAccount: `system:serviceaccount:${ns}:${ns}-api` } },
      aws: { roles: [{ arn: ROLE }] },
    })),
  });
  fx.writeConfig((doc) => {
    doc.kubernetesIssuers = [{ issuer: kube.issuer, clusterName: "local-1", requirePodBinding: true }];
  });
  await fx.apply();
  exportDir = mkdtempSync(join(tmpdir(), "kcb-abac-trust-"));
  const exported = await fx.run("export-trust", { out: exportDir });
  if (exported.exitCode !== 0) throw new Error(exported.stderr);
  sts = await startStsEmulator({ trust: loadTrustExport(exportDir), allowIssuerPort: true, onSessionIssued: recordStsSession });
  bedrock = await startBedrockEmulator({
    sts,
    accounts,
    pki: await ensureLocalPki(),
    eventLogFile: join(exportDir, "bedrock-events.jsonl"),
  });
});

afterAll(async () => {
  await bedrock?.close();
  await sts?.close();
  await kube?.close();
  await fx?.remove();
  if (exportDir) rmSync(exportDir, { recursive: true, force: true });
});

describe("a role keyed on ${aws:PrincipalTag/kubernetes-namespace}", () => {
  it.each(NAMESPACES.map((ns, i) => [ns, NAMESPACES[1 - i]!, CLUSTERS[i % CLUSTERS.length]!] as const))(
    "a pod of %s reaches its namespace's model and is denied %s's (session tags from the extension, through %s)",
    async (own, other, cluster) => {
      const credentials = await podCredentials(own, cluster);
      expect(sts.session(credentials.accessKeyId)?.tags).toMatchObject({
        "kubernetes-namespace": own,
        "kubernetes-service-account": `${own}-api`,
      });

      const answer = await converse(credentials, PROFILE[own]);
      expect(JSON.stringify(answer.output)).toContain("[local Bedrock emulator, no model ran]");
      const allowed = bedrock.events.at(-1)!;
      expect(allowed).toMatchObject({ eventName: "Converse", userIdentity: { principalTags: { "kubernetes-namespace": own } } });
      expect(allowed.errorCode).toBeUndefined();

      const denied = await converse(credentials, PROFILE[other]).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(denied).toBeInstanceOf(BedrockRuntimeServiceException);
      expect(denied).toMatchObject({ name: "AccessDeniedException", $metadata: { httpStatusCode: 403 } });
      const event = bedrock.events.at(-1)!;
      expect(event).toMatchObject({
        eventName: "Converse",
        errorCode: "AccessDeniedException",
        userIdentity: {
          type: "AssumedRole",
          sessionContext: { sessionIssuer: { arn: ROLE } },
          principalTags: { "kubernetes-namespace": own },
        },
      });
      expect(event.errorMessage).toContain(
        `on resource: ${profileArn(PROFILE[other])} because no identity-based policy allows the bedrock:InvokeModel action`,
      );
    },
  );
});
