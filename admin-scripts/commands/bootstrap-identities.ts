/**
 * `realm-sync bootstrap-identities <config>`: the one command that signs in with a cluster's
 * bootstrap admin. Per cluster it creates the trust domain's realm (empty, marked as realm-sync's)
 * unless it exists, and the two identities `clusters[].auth` names, as confidential service-account
 * clients of the master realm holding exactly their roles of `<realm>-realm`: `auth.apply` for
 * `apply`, `auth.view` for `plan` and `check` (see desired/identities.ts). Idempotent: a rerun
 * changes nothing, or puts back what was changed by hand.
 *
 * Secrets: each identity's secret is the value its `clientSecret` reference names. A `file` that
 * does not exist yet is created with a new random secret (mode 0600); an `env` variable must be set
 * (the operator generates the value in the secret store). Rotation: change the value there and
 * rerun. No secret is ever printed.
 *
 * The bootstrap admin comes from the environment, under Keycloak's own names:
 * KC_BOOTSTRAP_ADMIN_USERNAME + KC_BOOTSTRAP_ADMIN_PASSWORD, or KC_BOOTSTRAP_ADMIN_CLIENT_ID +
 * KC_BOOTSTRAP_ADMIN_CLIENT_SECRET.
 */
import { readTrustDomainFile, type BootstrapIdentitiesOptions } from "../command.ts";
import { desiredRealm } from "../desired/build.ts";
import { desiredIdentities, managementClientId, type DesiredIdentity } from "../desired/identities.ts";
import { describeSteps, identitySteps, refusal } from "../diff/identities.ts";
import { loadingTrustDomain, RealmSyncError, type ConfigIssue, type Outcome } from "../errors.ts";
import { readIdentity, writeIdentity } from "../keycloak/identities.ts";
import { ensureRealm } from "../keycloak/realm.ts";
import { openSession, type AdminCredentials } from "../keycloak/session.ts";
import { formatPath, type ConfigPath } from "../../realm-config/model/path.ts";
import { provisionSecret, writeGeneratedSecret } from "../../realm-config/model/secrets.ts";
import type { ConfigSource } from "../../realm-config/model/yaml-source.ts";

export const BOOTSTRAP_ENV = {
  username: "KC_BOOTSTRAP_ADMIN_USERNAME",
  password: "KC_BOOTSTRAP_ADMIN_PASSWORD",
  clientId: "KC_BOOTSTRAP_ADMIN_CLIENT_ID",
  clientSecret: "KC_BOOTSTRAP_ADMIN_CLIENT_SECRET",
} as const;

/** The bootstrap admin from the command's environment; USAGE naming the variables when unset. */
export function bootstrapAdmin(env: Readonly<Record<string, string | undefined>>): AdminCredentials {
  const get = (name: string) => (env[name] === "" ? undefined : env[name]);
  const [username, password, clientId, clientSecret] = [
    get(BOOTSTRAP_ENV.username),
    get(BOOTSTRAP_ENV.password),
    get(BOOTSTRAP_ENV.clientId),
    get(BOOTSTRAP_ENV.clientSecret),
  ];
  if (username && password) return { username, password };
  if (clientId && clientSecret) return { clientId, clientSecret };
  const half = username
    ? BOOTSTRAP_ENV.password
    : password
      ? BOOTSTRAP_ENV.username
      : clientId
        ? BOOTSTRAP_ENV.clientSecret
        : clientSecret
          ? BOOTSTRAP_ENV.clientId
          : undefined;
  throw new RealmSyncError(
    "USAGE",
    `bootstrap-identities signs in with the cluster's bootstrap admin: set ${BOOTSTRAP_ENV.username} and ${BOOTSTRAP_ENV.password} (or ${BOOTSTRAP_ENV.clientId} and ${BOOTSTRAP_ENV.clientSecret})${half ? `; ${half} is not set` : ""}`,
  );
}

interface ClusterWork {
  name: string;
  adminUrl: string;
  identities: Array<{ identity: DesiredIdentity; secret: string }>;
}

function located(source: ConfigSource, path: ConfigPath, message: string): ConfigIssue {
  return { file: source.file, ...source.locate(path), path: formatPath(path), message, severity: "error" };
}

export async function run(opts: BootstrapIdentitiesOptions): Promise<Outcome> {
  const { config, source } = await readTrustDomainFile(opts, { requireAdminUrls: true });
  const admin = bootstrapAdmin(opts.env);
  const unknown = opts.cluster.filter((name) => !config.clusters.some((c) => c.name === name));
  if (unknown.length)
    throw new RealmSyncError(
      "USAGE",
      `no cluster named ${unknown.join(", ")} in ${source.file} (clusters: ${config.clusters.map((c) => c.name).join(", ")})`,
    );

  // Everything offline first: the identities each cluster's auth names and every secret's value.
  const issues: ConfigIssue[] = [];
  const work: ClusterWork[] = [];
  const toWrite = new Map<string, string>();
  let onlySecrets = true;
  config.clusters.forEach((cluster, i) => {
    if (opts.cluster.length && !opts.cluster.includes(cluster.name)) return;
    const { identities, problems } = desiredIdentities(config, i);
    for (const p of problems) issues.push(located(source, p.path, p.message));
    if (problems.length) onlySecrets = false;
    const entry: ClusterWork = { name: cluster.name, adminUrl: cluster.adminUrl, identities: [] };
    for (const identity of identities) {
      try {
        const provisioned = loadingTrustDomain(() => provisionSecret(identity.clientSecret, { baseDir: source.dir, env: opts.env }));
        // Two identities naming one new file share the value generated for it first.
        const value = provisioned.generate ? (toWrite.get(provisioned.generate) ?? provisioned.value) : provisioned.value;
        if (provisioned.generate) toWrite.set(provisioned.generate, value);
        entry.identities.push({ identity, secret: value });
      } catch (error) {
        issues.push(located(source, [...identity.path, "clientSecret"], (error as Error).message));
      }
    }
    work.push(entry);
  });
  if (issues.length) {
    throw new RealmSyncError(
      onlySecrets ? "SECRET_UNAVAILABLE" : "CONFIG_INVALID",
      `${source.file}: ${issues.length} problem${issues.length === 1 ? "" : "s"} before contacting any cluster`,
      { issues },
    );
  }
  for (const [path, value] of toWrite) {
    loadingTrustDomain(() => writeGeneratedSecret(path, value));
    opts.stdout.write(`generated a secret into ${path} (mode 0600)\n`);
  }

  const realm = desiredRealm(config);
  const failures: RealmSyncError[] = [];
  for (const cluster of work) {
    try {
      const session = await openSession({ name: cluster.name, adminUrl: cluster.adminUrl, credentials: admin });
      if (await ensureRealm(session, realm))
        opts.stdout.write(`cluster ${cluster.name}: realm ${realm.realm} created (empty; apply fills it)\n`);
      for (const { identity, secret } of cluster.identities) {
        const live = await readIdentity(session, identity, secret);
        const refused = live && refusal(realm.realm, identity, live);
        if (refused)
          throw new RealmSyncError("APPLY_FAILED", `cluster ${cluster.name}: ${formatPath(identity.path)}: ${refused}`, {
            cluster: cluster.name,
          });
        const steps = identitySteps(realm.realm, identity, live);
        await writeIdentity(session, realm.realm, identity, secret, steps);
        opts.stdout.write(
          `cluster ${cluster.name}: ${identity.kind} identity ${identity.clientId} (roles of ${managementClientId(realm.realm)}: ${identity.roles.join(", ")}): ${describeSteps(steps)}\n`,
        );
      }
    } catch (error) {
      if (!(error instanceof RealmSyncError)) throw error;
      opts.stderr.write(`realm-sync: ${error.message}\n`);
      failures.push(error);
    }
  }
  return failures[0]?.code ?? "OK";
}
