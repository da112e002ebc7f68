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

/** An audit sink whose buffered lines can be written out at shutdown. */
export interface FlushableAuditSink extends AuditSink {
  /** Writes every buffered line now (e.g. before the process exits). */
  flush(): void;
}

/**
 * Writes each event as one JSON line (default: stdout, the conventional audit stream of a
 * container), off the request's path: `emit` only queues the event; the events queued during one
 * turn of the event loop are serialized and written together right after it (`setImmediate`), one
 * write for many exchanges under load. stdout to a pipe or a file is a synchronous write on Linux,
 * so writing per request would stall every other request for a system call. The caller hands the
 * event over: it must not change it after `emit`. `flush()` writes what is queued now.
 */
export function jsonLinesAuditSink(write: (text: string) => void = (text) => process.stdout.write(text)): FlushableAuditSink {
  let queued: AuditEvent[] = [];
  let scheduled: ReturnType<typeof setImmediate> | undefined;
  const flush = () => {
    if (scheduled !== undefined) clearImmediate(scheduled);
    scheduled = undefined;
    if (queued.length === 0) return;
    const events = queued;
    queued = [];
    let text = "";
    for (const event of events) {
      try {
        text += `${JSON.stringify(event)}\n`;
      } catch {
        // not serializable: never the case for an AuditEvent, and never the other events' loss
      }
    }
    try {
      write(text);
    } catch {
      // An audit sink must not turn a decided request into a failure (e.g. EPIPE).
    }
  };
  return {
    emit(event) {
      queued.push(event);
      scheduled ??= setImmediate(flush);
    },
    flush,
  };
}
