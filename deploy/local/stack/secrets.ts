import { generateKeyPairSync, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** The local trust domain's generated secrets, kept in the state dir (0600) and reused across runs. */
export interface LocalSecrets {
  dir: string;
  /** The public certificate of the trust domain's signing key; the key itself is only in the clusters' keystores (deploy/local/keycloak/keystore.ts). */
  signingCertificate: string;
  /** private_key_jwt key pair of the `reporting-batch` workload. */
  reportingKey: string;
  reportingPublicKey: string;
  /** Client secret of the `legacy-etl` workload. */
  legacySecret: string;
  /** The broker's delegation key (private_key_jwt of the agents' delegation clients) and its public half. */
  delegationKey: string;
  delegationPublicKey: string;
  /** Client secret of the demo agent's own Keycloak client. */
  agentSecret: string;
}

function ensureKeyPair(privateFile: string, publicFile: string): void {
  if (existsSync(privateFile) && existsSync(publicFile)) return;
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  writeFileSync(privateFile, privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
  writeFileSync(publicFile, publicKey.export({ type: "spki", format: "pem" }), { mode: 0o600 });
}

function ensureSecret(file: string): void {
  if (!existsSync(file)) writeFileSync(file, randomBytes(24).toString("base64url"), { mode: 0o600 });
}

/** Generates what is missing, never overwrites: a second run reuses the same keys (same `kid`). */
export function ensureLocalSecrets(stateDir: string): LocalSecrets {
  const dir = join(stateDir, "secrets");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const s: LocalSecrets = {
    dir,
    signingCertificate: join(dir, "trust-2026.crt"),
    reportingKey: join(dir, "reporting-batch.pem"),
    reportingPublicKey: join(dir, "reporting-batch.pub.pem"),
    legacySecret: join(dir, "legacy-etl.secret"),
    delegationKey: join(dir, "broker-delegation.pem"),
    delegationPublicKey: join(dir, "broker-delegation.pub.pem"),
    agentSecret: join(dir, "report-assistant.secret"),
  };
  ensureKeyPair(s.reportingKey, s.reportingPublicKey);
  ensureKeyPair(s.delegationKey, s.delegationPublicKey);
  ensureSecret(s.legacySecret);
  ensureSecret(s.agentSecret);
  return s;
}
