/**
 * One audit event per exchange, allowed or denied: who (subject, actor), what (target), the decision
 * (matched rule or denial code) and fingerprints of the presented tokens — never a token or a secret.
 */
import { tokenFingerprint } from "../log.ts";
import type { AgentsErrorCode, OAuthErrorCode } from "../errors.ts";
import type { AuditSink } from "./ports.ts";

export { tokenFingerprint };

export interface AuditParty {
  iss?: string;
  sub?: string;
  /** Actor only: `azp` / `client_id`. */
  clientId?: string;
  /** The realm-config name it resolved to (workload for the subject, agent rule for the actor). */
  name?: string;
  /** `sha256(token)`, first 16 hex characters. */
  tokenSha256?: string;
}

export interface AuditEvent {
  type: "token_exchange";
  /** RFC 3339. */
  time: string;
  requestId: string;
  outcome: "allowed" | "denied" | "error";
  status: number;
  subject: AuditParty;
  actor: AuditParty;
  /** ARN or `azure:<identity>`, when the request named one that parsed. */
  target?: string;
  scopes?: string[];
  /** The agent rule that allowed the exchange. */
  rule?: string;
  /** Why it was denied or failed. */
  reason?: AgentsErrorCode;
  /** What the client was told. */
  error?: OAuthErrorCode;
  /** Operator detail (which check failed); never sent to the client. */
  detail?: string;
  policyRevision?: string;
  /** What was issued (no secret: the access key id is what CloudTrail logs too). */
  issued?: {
    cloud: "aws" | "azure";
    expiresAt: string;
    sessionName?: string;
    sourceIdentity?: string;
    durationSeconds?: number;
    sessionPolicySha256?: string;
    accessKeyId?: string;
    assumedRoleArn?: string;
    scope?: string;
  };
}

/** Writes each event as one JSON line (default: stdout, the conventional audit stream of a container). */
export function jsonLinesAuditSink(write: (line: string) => void = (line) => process.stdout.write(line)): AuditSink {
  return {
    emit(event) {
      try {
        write(`${JSON.stringify(event)}\n`);
      } catch {
        // An audit sink must not turn a decided request into a failure (e.g. EPIPE).
      }
    },
  };
}
