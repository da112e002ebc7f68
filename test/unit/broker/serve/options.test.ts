import { describe, expect, it } from "vitest";
import { serveOptionIssues, type ServeOptions } from "../../../../broker/serve/options.ts";
import { allOn } from "../../../support/fixtures/serve-options.ts";

describe("serveOptionIssues", () => {
  it("accepts the everything-on fixture", () => {
    expect(serveOptionIssues(allOn())).toEqual([]);
  });

  it.each<[string, (o: ServeOptions) => void, RegExp]>([
    ["a non-loopback host", (o) => (o.host = "0.0.0.0"), /^host: /],
    ["a bad port", (o) => (o.port = 70000), /^port: /],
    ["a bad file mode", (o) => (o.fileMode = 0o644 as 0o600), /^fileMode: /],
    ["credential_process without the container endpoint", (o) => delete o.aws.container, /^aws\.credentialProcess: /],
    ["a bad session name", (o) => (o.aws.webIdentity!.roleSessionName = "no spaces allowed"), /roleSessionName/],
    ["an http authority", (o) => (o.azure.authorityHost = "http://login.example"), /authorityHost/],
    ["two modes sharing one file", (o) => (o.azure.federatedTokenFile!.tokenFile = o.aws.webIdentity!.tokenFile), /^files: /],
  ])("reports %s", (_case, mutate, pattern) => {
    const options = allOn();
    mutate(options);
    const issues = serveOptionIssues(options);
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatch(pattern);
  });

  it("allows a non-loopback ops listener", () => {
    expect(serveOptionIssues({ ...allOn(), ops: { host: "0.0.0.0", port: 9090 } })).toEqual([]);
  });
});
