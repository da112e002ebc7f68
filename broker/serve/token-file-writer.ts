/**
 * Keeps one token file current for the file-based delivery modes: `AWS_WEB_IDENTITY_TOKEN_FILE`
 * (the SDK then calls AssumeRoleWithWebIdentity itself) and `AZURE_FEDERATED_TOKEN_FILE`
 * (`WorkloadIdentityCredential` uses it as its client assertion). Writes are atomic; a failed
 * refresh leaves the previous file in place (it may well still be valid) and retries with backoff.
 */
import type { CredentialSource } from "../credentials.ts";
import { BrokerError } from "../errors.ts";
import { writeFileAtomic } from "./atomic-file.ts";
import type { ReadinessCheck } from "./health.ts";
import type { Clock } from "../clock.ts";
import type { ServeLogger } from "./ports.ts";
import { nextRewrite, retryDelay } from "./token-file-timing.ts";

export interface TokenFileWriterOptions {
  name: string;
  path: string;
  mode: number;
  audience: "aws" | "azure";
  rewriteBeforeMs: number;
  source: Pick<CredentialSource, "workloadToken">;
  clock: Clock;
  log: ServeLogger;
  /** Injected for tests that need to observe writes; defaults to the atomic writer. */
  write?: (path: string, data: string, mode: number) => Promise<void>;
}

export class TokenFileWriter implements ReadinessCheck {
  readonly name: string;
  readonly path: string;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private written: { token: string; expiresAtMs: number } | undefined;
  private failures = 0;
  private warnedShortLifetime = false;
  private stopped = true;
  private running: Promise<void> | undefined;

  constructor(private readonly options: TokenFileWriterOptions) {
    this.name = options.name;
    this.path = options.path;
  }

  /** Write the file now and keep it current until {@link stop}. Resolves after the first attempt. */
  async start(): Promise<void> {
    this.stopped = false;
    await this.tick();
  }

  /** Stop rewriting (the file stays: a workload may still read it while the pod shuts down). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** Whether the file holds a token that has not expired. */
  ready(): boolean {
    return this.written !== undefined && this.written.expiresAtMs > this.options.clock.now();
  }

  /** When the token in the file expires (undefined before the first write). */
  get expiresAt(): Date | undefined {
    return this.written ? new Date(this.written.expiresAtMs) : undefined;
  }

  private tick(): Promise<void> {
    this.running = this.attempt().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), delayMs);
    this.timer.unref?.();
  }

  private async attempt(): Promise<void> {
    const { options } = this;
    const fields = { file: options.name, path: options.path, audience: options.audience };
    try {
      const { token, expiresAt } = await options.source.workloadToken(options.audience);
      const expiresAtMs = expiresAt.getTime();
      if (this.written?.token !== token) {
        await (options.write ?? writeFileAtomic)(options.path, token, options.mode);
        this.written = { token, expiresAtMs };
        options.log.info("token file written", { ...fields, expires_at: expiresAt.toISOString() });
      }
      this.failures = 0;
      const plan = nextRewrite({ expiresAtMs, nowMs: options.clock.now(), rewriteBeforeMs: options.rewriteBeforeMs });
      if (plan.insideWindow && !this.warnedShortLifetime) {
        this.warnedShortLifetime = true;
        options.log.warn(
          "the workload token lives too short for this file mode: SDKs may read it with less validity left than they cache it for",
          {
            ...fields,
            seconds_left: Math.floor((expiresAtMs - options.clock.now()) / 1000),
            rewrite_before_seconds: Math.floor(options.rewriteBeforeMs / 1000),
          },
        );
      }
      this.schedule(plan.delayMs);
    } catch (error) {
      this.failures += 1;
      const delayMs = retryDelay(this.failures);
      options.log.warn("token file refresh failed, keeping the previous file", {
        ...fields,
        code: error instanceof BrokerError ? error.code : "UNEXPECTED",
        retry_in_ms: delayMs,
        error,
      });
      this.schedule(delayMs);
    }
  }
}
