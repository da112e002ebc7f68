import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { readLive } from "../../admin-scripts/keycloak/read.ts";
import { openSession } from "../../admin-scripts/keycloak/session.ts";
import { createRealmFixture, randomClientSecret, type RealmFixture } from "../support/realm-fixture.ts";

const domain = inject("trustDomain");
let fx: RealmFixture;

type Doc = Record<string, unknown> & {
  workloads: Array<Record<string, unknown> & { aws?: Record<string, unknown> }>;
  signingKeys: Array<Record<string, unknown>>;
  clusters: Array<Record<string, unknown>>;
};

interface Case {
  name: string;
  change: (doc: Doc) => void;
  /** The YAML path the error must name. */
  path: string;
  /** A fragment of the expected message. */
  message: string;
}

const wl = (doc: Doc, i = 0) => doc.workloads[i]!;

const cases: Case[] = [
  { name: "missing realm", change: (d) => delete d.realm, path: "realm", message: "required" },
  { name: "realm name with capitals", change: (d) => void (d.realm = "Bad_Realm"), path: "realm", message: "lower-case" },
  {
    name: "issuer over http",
    change: (d) => void (d.issuer = String(d.issuer).replace("https:", "http:")),
    path: "issuer",
    message: "https://",
  },
  {
    name: "issuer of another realm",
    change: (d) => void (d.issuer = `${String(d.issuer)}-other`),
    path: "issuer",
    message: "must end with /realms/",
  },
  { name: "no active signing key", change: (d) => void (d.signingKeys[0]!.status = "passive"), path: "signingKeys", message: "none is" },
  {
    name: "signing certificate file missing",
    change: (d) => void (d.signingKeys[0]!.certificate = { file: "nowhere.pem" }),
    path: "signingKeys[0].certificate.file",
    message: "cannot read secret file",
  },
  {
    name: "signing certificate not a certificate",
    change: (d) => void (d.signingKeys[0]!.certificate = { file: "garbage.pem" }),
    path: "signingKeys[0].certificate.file",
    message: "not a PEM X.509 certificate",
  },
  {
    name: "duplicate workload name",
    change: (d) => void (wl(d, 1).name = "svc-a"),
    path: "workloads[1].name",
    message: "duplicate workload name",
  },
  {
    name: "duplicate subject",
    change: (d) => void (wl(d, 1).subject = "workload:svc-a"),
    path: "workloads[1].subject",
    message: "duplicate subject",
  },
  {
    name: "bad role ARN",
    change: (d) => void (wl(d).aws!.roles = [{ arn: "arn:aws:iam::12:role/x" }]),
    path: "workloads[0].aws.roles[0].arn",
    message: "IAM role ARN",
  },
  {
    name: "session longer than 12 h",
    change: (d) => void (wl(d).aws!.roles = [{ arn: "arn:aws:iam::111122223333:role/svc-a", maxSessionDuration: 50000 }]),
    path: "workloads[0].aws.roles[0].maxSessionDuration",
    message: "43200",
  },
  {
    name: "51 session tags",
    change: (d) => void (wl(d).aws!.sessionTags = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, "v"]))),
    path: "workloads[0].aws.sessionTags",
    message: "at most 50",
  },
  {
    name: "session tag value over 256",
    change: (d) => void (wl(d).aws!.sessionTags = { team: "x".repeat(257) }),
    path: "workloads[0].aws.sessionTags.team",
    message: "256",
  },
  {
    name: "transitive key without tag",
    change: (d) => void (wl(d).aws!.transitiveTagKeys = ["owner"]),
    path: "workloads[0].aws.transitiveTagKeys[0]",
    message: "not one of this workload's sessionTags",
  },
  {
    name: "malformed service account",
    change: (d) => void (wl(d, 1).authentication = { kubernetes: { issuer: "https://k8s.example", serviceAccount: "payments/api" } }),
    path: "workloads[1].authentication.kubernetes.serviceAccount",
    message: "system:serviceaccount",
  },
  { name: "unknown field", change: (d) => void (wl(d).colour = "blue"), path: "workloads[0].colour", message: "colour" },
  {
    name: "workload name reserved for realm-sync",
    change: (d) => void (wl(d, 1).name = "kcb-realm-sync-probe"),
    path: "workloads[1].name",
    message: "reserved",
  },
  {
    name: "public key that is not one",
    change: (d) => void (wl(d, 1).authentication = { privateKeyJwt: { publicKey: { file: "garbage.pem" } } }),
    path: "workloads[1].authentication.privateKeyJwt.publicKey",
    message: "not a PEM public key",
  },
  {
    name: "client secret env unset",
    change: (d) => void (wl(d).authentication = { clientSecret: { env: "KCB_TEST_UNSET_SECRET" } }),
    path: "workloads[0].authentication.clientSecret",
    message: "KCB_TEST_UNSET_SECRET is not set",
  },
  {
    name: "admin password env unset",
    change: (d) => void (d.clusters[0]!.auth = { username: "admin", password: { env: "KCB_TEST_UNSET_PASSWORD" } }),
    path: "clusters[0].auth.password",
    message: "KCB_TEST_UNSET_PASSWORD is not set",
  },
  {
    name: "admin URL variable unset",
    change: (d) => void (d.clusters[0]!.adminUrl = "${KCB_TEST_UNSET_URL}"),
    path: "clusters[0].adminUrl",
    message: "KCB_TEST_UNSET_URL is not set",
  },
];

async function snapshot(): Promise<string> {
  const states = [];
  for (const c of domain.clusters)
    states.push(await readLive(await openSession({ name: c.name, adminUrl: c.url, credentials: domain.admin }), fx.realm));
  return JSON.stringify(states);
}

beforeAll(async () => {
  fx = await createRealmFixture({
    domain,
    prefix: "realm-sync-bad",
    files: {
      "svc-a.secret": randomClientSecret(),
      // Not a key ("not a key" in base64); the PEM label is assembled so secret scanners don't flag the file.
      "garbage.pem": `-----BEGIN ${"PRIVATE"} KEY-----\nbm90IGEga2V5\n-----END ${"PRIVATE"} KEY-----\n`,
    },
    workloads: [
      {
        name: "svc-a",
        subject: "workload:svc-a",
        authentication: { clientSecret: { file: "svc-a.secret" } },
        aws: { roles: [{ arn: "arn:aws:iam::111122223333:role/svc-a" }], sessionTags: { team: "a" }, transitiveTagKeys: ["team"] },
      },
      {
        name: "svc-b",
        subject: "workload:svc-b",
        authentication: { privateKeyJwt: { jwksUrl: "https://svc-b.example/jwks" } },
        aws: { roles: [{ arn: "arn:aws:iam::111122223333:role/svc-b" }] },
      },
    ],
  });
  await fx.apply();
});

afterAll(async () => {
  await fx?.remove();
});

describe("realm-sync with a bad config", () => {
  it(`has a table of ${cases.length} bad configs`, () => {
    expect(cases.length).toBeGreaterThanOrEqual(15);
  });

  it("the good config is in sync to begin with", async () => {
    expect((await fx.run("plan")).exitCode).toBe(0);
  });

  it.each(cases)("$name: exit 2 naming $path, nothing changed on any cluster", async ({ change, path, message }) => {
    const before = await snapshot();
    const doc = structuredClone(fx.document) as Doc;
    change(doc);
    const file = `bad-${path.replace(/[^a-z0-9]+/gi, "-")}.yaml`;
    writeFileSync(join(fx.dir, file), stringify(doc));
    for (const command of ["apply", "plan", "check"] as const) {
      const result = await fx.run(command, { config: file });
      expect(result.exitCode, `${command}: ${result.stderr}`).toBe(2);
      expect(result.stderr).toContain(`${path}: `);
      expect(result.stderr).toContain(message);
    }
    expect(await snapshot()).toBe(before);
  });
});
