/**
 * A fake of our own `CredentialSource` interface: fixed targets, credentials that tests
 * replace at will, and errors to throw on demand.
 */
import type {
  AwsCredentials,
  AwsTargetRef,
  AzureAccessToken,
  AzureTargetRef,
  CredentialSource,
  TargetStatus,
} from "../../../broker/credentials.ts";
import { BrokerError } from "../../../broker/errors.ts";

export const TENANT = "11111111-2222-3333-4444-555555555555";
export const STORAGE_CLIENT = "aaaaaaaa-0000-0000-0000-000000000001";
export const VAULT_CLIENT = "bbbbbbbb-0000-0000-0000-000000000002";

export class FakeSource implements CredentialSource {
  readonly awsTargets: AwsTargetRef[] = [
    { name: "s3-reader", roleArn: "arn:aws:iam::123456789012:role/s3-reader" },
    { name: "sqs-writer", roleArn: "arn:aws:iam::123456789012:role/sqs-writer" },
  ];
  readonly azureTargets: AzureTargetRef[] = [
    {
      name: "storage",
      tenantId: TENANT,
      clientId: STORAGE_CLIENT,
      scopes: ["https://storage.azure.com/.default", "https://management.azure.com//.default"],
    },
    { name: "vault", tenantId: TENANT, clientId: VAULT_CLIENT, scopes: ["https://vault.azure.net/.default"] },
  ];
  /** Throw this from every credential call when set. */
  failWith: BrokerError | Error | undefined;
  awsCalls: string[] = [];
  azureCalls: Array<[string, string | undefined]> = [];
  ready = true;
  expiresAt = new Date("2030-01-01T12:00:00.000Z");
  workloadTokens: Record<"aws" | "azure", { token: string; expiresAt: Date }> = {
    aws: { token: "eyJhbGciOiJSUzI1NiJ9.aws.sig", expiresAt: this.expiresAt },
    azure: { token: "eyJhbGciOiJSUzI1NiJ9.azure.sig", expiresAt: this.expiresAt },
  };
  private readonly awsCache = new Map<string, AwsCredentials>();
  private readonly azureCache = new Map<string, AzureAccessToken>();

  aws(target: string): Promise<AwsCredentials> {
    this.awsCalls.push(target);
    if (this.failWith) return Promise.reject(this.failWith);
    const ref = this.awsTargets.find((t) => t.name === target);
    if (!ref) return Promise.reject(new BrokerError("UNKNOWN_TARGET", `no AWS target ${target}`));
    let creds = this.awsCache.get(target);
    if (!creds) {
      creds = {
        accessKeyId: `ASIA${target.toUpperCase().replace(/-/g, "").padEnd(16, "X").slice(0, 16)}`,
        secretAccessKey: `secret-${target}`,
        sessionToken: `session-${target}`,
        expiration: this.expiresAt,
        accountId: "123456789012",
        assumedRoleArn: `arn:aws:sts::123456789012:assumed-role/${target}/workload`,
      };
      this.awsCache.set(target, creds);
    }
    return Promise.resolve(creds);
  }

  azure(target: string, scope?: string): Promise<AzureAccessToken> {
    this.azureCalls.push([target, scope]);
    if (this.failWith) return Promise.reject(this.failWith);
    const token = this.azureNow(target, scope);
    return token ? Promise.resolve(token) : Promise.reject(new BrokerError("UNKNOWN_TARGET", `no Azure target ${target}`));
  }

  /** What `azure(target, scope)` resolves with, synchronously and uncounted (for a fake `azureIfCached`). */
  azureNow(target: string, scope?: string): AzureAccessToken | undefined {
    const ref = this.azureTargets.find((t) => t.name === target);
    if (!ref) return undefined;
    const wanted = scope ?? ref.scopes[0]!;
    const key = `${target} ${wanted}`;
    let token = this.azureCache.get(key);
    if (!token) {
      token = {
        accessToken: `azure-token:${key}`,
        expiresOn: this.expiresAt,
        resource: wanted.replace(/\/\.default$/, ""),
        clientId: ref.clientId,
        tenantId: ref.tenantId,
      };
      this.azureCache.set(key, token);
    }
    return token;
  }

  workloadToken(audience: "aws" | "azure"): Promise<{ token: string; expiresAt: Date }> {
    if (this.failWith) return Promise.reject(this.failWith);
    return Promise.resolve(this.workloadTokens[audience]);
  }

  status(): TargetStatus[] {
    return [
      ...this.awsTargets.map((t) => ({ target: t.name, cloud: "aws" as const, ready: this.ready, expiresAt: this.expiresAt })),
      ...this.azureTargets.map((t) => ({ target: t.name, cloud: "azure" as const, ready: this.ready, expiresAt: this.expiresAt })),
    ];
  }

  /** Simulate a refresh: the next call returns new objects. */
  refresh(expiresAt: Date): void {
    this.expiresAt = expiresAt;
    this.awsCache.clear();
    this.azureCache.clear();
  }
}
