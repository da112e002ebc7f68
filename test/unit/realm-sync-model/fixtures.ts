/** A small valid trust domain the bad-config table mutates, one concern per case. */
export const BASE = `version: 1
realm: t
issuer: https://id.example.com/realms/t
clusters:
  - name: eu
    adminUrl: https://kc-eu.example.com
    auth:
      username: admin
      password: { env: KC_PASSWORD }
  - name: us
    adminUrl: https://kc-us.example.com
    auth:
      clientId: realm-sync
      clientSecret: { file: secrets/us.secret }
signingKeys:
  - name: key-2026
    certificate: { file: keys/key-2026.crt }
    keystore: { file: key-2026.p12, passwordVault: key-2026-keystore }
    status: active
  - name: key-2025
    certificate: { file: keys/key-2025.crt }
    keystore: { file: key-2025.p12, passwordVault: key-2025-keystore }
    status: passive
workloads:
  - name: app-a
    subject: workload:app-a
    authentication:
      kubernetes:
        issuer: https://k8s.example.com
        serviceAccount: system:serviceaccount:ns-a:app-a
    aws:
      roles:
        - arn: arn:aws:iam::111122223333:role/app-a
          maxSessionDuration: 3600
      sessionTags:
        team: alpha
        tier: web
      transitiveTagKeys: [team]
    azure:
      identities:
        - name: storage-a
          tenantId: 11111111-2222-3333-4444-555555555555
          clientId: aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee
          scopes: [https://storage.azure.com/.default]
  - name: app-b
    subject: workload:app-b
    authentication:
      privateKeyJwt: { jwksUrl: https://app-b.example.com/jwks.json }
    aws:
      roles:
        - arn: arn:aws:iam::111122223333:role/team/app-b
          maxSessionDuration: 7200
    azure:
      identities:
        - name: vault-b
          tenantId: 11111111-2222-3333-4444-555555555555
          clientId: bbbbbbbb-bbbb-cccc-dddd-eeeeeeeeeeee
          scopes: [https://vault.azure.net/.default, https://storage.azure.com/.default]
  - name: app-c
    subject: workload:app-c
    authentication:
      clientSecret: { env: APP_C_SECRET }
agents:
  - name: helper
    match:
      issuer: https://agents.example.com
      subject: agent-1
    actFor: [app-b]
    targets:
      - aws:
          role: arn:aws:iam::111122223333:role/team/app-b
          maxDuration: 900
      - azure:
          identity: vault-b
          scopes: [https://vault.azure.net/.default]
`;

/** Replaces exactly one occurrence of `from` (the case is wrong if the text is not there once). */
export function edit(text: string, from: string, to: string): string {
  const at = text.indexOf(from);
  if (at < 0 || text.indexOf(from, at + 1) >= 0) throw new Error(`fixture edit: ${JSON.stringify(from)} must occur exactly once`);
  return text.slice(0, at) + to + text.slice(at + from.length);
}

/** 1-based line of the first occurrence of `marker`. */
export function lineOf(text: string, marker: string): number {
  const at = text.indexOf(marker);
  if (at < 0) throw new Error(`marker ${JSON.stringify(marker)} not in text`);
  return text.slice(0, at).split("\n").length;
}
