import { describe, expect, it } from "vitest";
import { compileTrustPolicy, type RequestContext } from "../../../../../../deploy/local/cloud/sts/trust-policy.ts";
import { loadTrustStore } from "../../../../../../deploy/local/cloud/sts/trust-store.ts";
import { PROVIDER_ARN, trustExport } from "../../../../../support/fixtures/cloud.ts";

const P = "issuer.example/realms/kcb";
const ctx = (entries: Record<string, string | string[]>): RequestContext =>
  new Map(Object.entries(entries).map(([k, v]) => [k.toLowerCase(), v]));
const policy = (
  Condition: Record<string, Record<string, string | string[]>>,
  Action: string | string[] = "sts:AssumeRoleWithWebIdentity",
) =>
  compileTrustPolicy({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Federated: PROVIDER_ARN }, Action, Condition }],
  });

type Row = [
  name: string,
  condition: Record<string, Record<string, string | string[]>>,
  context: Record<string, string | string[]>,
  decision: string,
];

describe("trust policy evaluation", () => {
  const rows: Row[] = [
    ["StringEquals matches exactly", { StringEquals: { [`${P}:sub`]: "a" } }, { [`${P}:sub`]: "a" }, "allow"],
    ["StringEquals is case-sensitive on values", { StringEquals: { [`${P}:sub`]: "a" } }, { [`${P}:sub`]: "A" }, "implicit-deny"],
    ["condition keys are case-insensitive", { StringEquals: { [`${P.toUpperCase()}:SUB`]: "a" } }, { [`${P}:sub`]: "a" }, "allow"],
    ["a list of values is OR", { StringEquals: { [`${P}:sub`]: ["x", "a"] } }, { [`${P}:sub`]: "a" }, "allow"],
    ["StringLike with *", { StringLike: { [`${P}:sub`]: "workload:*" } }, { [`${P}:sub`]: "workload:pay" }, "allow"],
    ["StringLike with ? is one character", { StringLike: { [`${P}:sub`]: "w?" } }, { [`${P}:sub`]: "wxy" }, "implicit-deny"],
    ["StringLike treats regex characters literally", { StringLike: { [`${P}:sub`]: "a.b" } }, { [`${P}:sub`]: "axb" }, "implicit-deny"],
    ["a missing key fails StringEquals", { StringEquals: { [`${P}:aud`]: "x" } }, {}, "implicit-deny"],
    ["a missing key passes StringEqualsIfExists", { StringEqualsIfExists: { [`${P}:aud`]: "x" } }, {}, "allow"],
    ["StringNotEquals", { StringNotEquals: { [`${P}:sub`]: "a" } }, { [`${P}:sub`]: "b" }, "allow"],
    [
      "ForAllValues:StringEquals over tag keys",
      { "ForAllValues:StringEquals": { "aws:TagKeys": ["team", "env"] } },
      { "aws:TagKeys": ["team", "cost"] },
      "implicit-deny",
    ],
    [
      "ForAnyValue:StringLike over tag keys",
      { "ForAnyValue:StringLike": { "aws:TagKeys": "te*" } },
      { "aws:TagKeys": ["env", "team"] },
      "allow",
    ],
    ["Null true requires absence", { Null: { "sts:SourceIdentity": "true" } }, {}, "allow"],
    [
      "every operator of a statement must hold",
      { StringEquals: { [`${P}:sub`]: "a", [`${P}:aud`]: "x" } },
      { [`${P}:sub`]: "a", [`${P}:aud`]: "y" },
      "implicit-deny",
    ],
  ];
  it.each(rows)("%s", (_name, condition, context, decision) => {
    expect(
      policy(condition).evaluate({ action: "sts:AssumeRoleWithWebIdentity", federatedPrincipal: PROVIDER_ARN, context: ctx(context) }),
    ).toBe(decision);
  });

  it("requires the federated principal and the action", () => {
    const p = policy({}, ["sts:AssumeRoleWithWebIdentity"]);
    expect(p.evaluate({ action: "sts:TagSession", federatedPrincipal: PROVIDER_ARN, context: ctx({}) })).toBe("implicit-deny");
    expect(p.evaluate({ action: "sts:AssumeRoleWithWebIdentity", federatedPrincipal: `${PROVIDER_ARN}x`, context: ctx({}) })).toBe(
      "implicit-deny",
    );
    expect(policy({}, "sts:*").evaluate({ action: "sts:TagSession", federatedPrincipal: PROVIDER_ARN, context: ctx({}) })).toBe("allow");
  });

  it("refuses unknown operators and statement keys when compiling", () => {
    expect(() => policy({ StringMaybe: { a: "b" } })).toThrow(TypeError);
    expect(() =>
      compileTrustPolicy({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { Federated: PROVIDER_ARN }, Action: "x", NotAction: "y" } as never],
      }),
    ).toThrow(TypeError);
  });
});

describe("IAM configuration checks", () => {
  it("loads the exported trust", () => {
    const store = loadTrustStore(trustExport());
    expect(store.provider("111122223333", "https://issuer.example/realms/kcb")?.arn).toBe(PROVIDER_ARN);
    expect(store.provider("999999999999", "https://issuer.example/realms/kcb")).toBeUndefined();
  });

  it("refuses a provider URL with a port unless allowIssuerPort is set, as IAM refuses it", () => {
    const t = trustExport();
    t.aws.oidcProviders = [
      {
        Arn: "arn:aws:iam::111122223333:oidc-provider/localhost:8443/realms/kcb",
        Url: "https://localhost:8443/realms/kcb",
        ClientIDList: ["sts.amazonaws.com"],
        ThumbprintList: [],
      },
    ];
    expect(() => loadTrustStore(t)).toThrow(/port/);
    expect(loadTrustStore(t, { allowIssuerPort: true }).providers).toHaveLength(1);
  });

  it.each([
    ["an http provider URL", (t: ReturnType<typeof trustExport>) => (t.aws.oidcProviders[0]!.Url = "http://issuer.example/realms/kcb")],
    [
      "a provider ARN naming another URL",
      (t: ReturnType<typeof trustExport>) => (t.aws.oidcProviders[0]!.Arn = "arn:aws:iam::111122223333:oidc-provider/other.example"),
    ],
    ["an empty client-id list", (t: ReturnType<typeof trustExport>) => (t.aws.oidcProviders[0]!.ClientIDList = [])],
    ["a MaxSessionDuration of 13 hours", (t: ReturnType<typeof trustExport>) => (t.aws.roles[0]!.MaxSessionDuration = 46_800)],
    ["a RoleName differing from the ARN", (t: ReturnType<typeof trustExport>) => (t.aws.roles[0]!.RoleName = "other")],
  ])("refuses %s", (_name, mutate) => {
    const t = trustExport();
    mutate(t);
    expect(() => loadTrustStore(t)).toThrow(TypeError);
  });
});
