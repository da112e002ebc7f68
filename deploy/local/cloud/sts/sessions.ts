/**
 * The temporary credentials the emulator has issued. Every issued session is recorded with what
 * shaped it (role, session name, session policy, tags, source identity), so a test can assert that
 * a session policy or a tag really reached STS; SigV4 verification looks credentials up here.
 */
import { randomBytes } from "node:crypto";
import { randomBase32, stableBase32 } from "../common/ids.ts";

export interface IssuedSession {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
  issuedAt: Date;
  roleArn: string;
  account: string;
  roleName: string;
  sessionName: string;
  /** `arn:aws:sts::<account>:assumed-role/<role>/<session>` */
  assumedRoleArn: string;
  /** `<role id>:<session>` */
  assumedRoleId: string;
  /** `sub` of the web-identity token. */
  subject: string;
  audience: string;
  /** The IAM OIDC provider ARN. */
  provider: string;
  issuer: string;
  sessionPolicy: string | undefined;
  policyArns: string[];
  tags: Record<string, string>;
  transitiveTagKeys: string[];
  sourceIdentity: string | undefined;
  packedPolicySize: number | undefined;
  /** sha256 prefix of the web-identity token (never the token). */
  tokenSha256: string;
}

export type SessionDraft = Omit<IssuedSession, "accessKeyId" | "secretAccessKey" | "sessionToken" | "assumedRoleId" | "assumedRoleArn">;

export interface SessionStore {
  issue(draft: SessionDraft): IssuedSession;
  byAccessKeyId(accessKeyId: string): IssuedSession | undefined;
  /** Every session issued so far, oldest first. */
  all(): readonly IssuedSession[];
}

/** AWS role ids start with AROA; temporary access keys with ASIA. */
export function roleId(roleArn: string): string {
  return `AROA${stableBase32(roleArn, 17)}`;
}

export function createSessionStore(): SessionStore {
  const sessions: IssuedSession[] = [];
  const byKey = new Map<string, IssuedSession>();
  return {
    issue(draft) {
      const partition = draft.roleArn.split(":")[1] ?? "aws";
      const session: IssuedSession = {
        ...draft,
        accessKeyId: `ASIA${randomBase32(16)}`,
        secretAccessKey: randomBytes(30).toString("base64"),
        sessionToken: `IQoJb3JpZ2luX2Vj${randomBytes(240).toString("base64")}`,
        assumedRoleArn: `arn:${partition}:sts::${draft.account}:assumed-role/${draft.roleName}/${draft.sessionName}`,
        assumedRoleId: `${roleId(draft.roleArn)}:${draft.sessionName}`,
      };
      sessions.push(session);
      byKey.set(session.accessKeyId, session);
      return session;
    },
    byAccessKeyId: (id) => byKey.get(id),
    all: () => sessions,
  };
}
