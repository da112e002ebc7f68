/**
 * The sidecar's production bundle holds the broker and the shared trust-domain model only: no file
 * of realm-sync (admin-scripts/), of the local deployment (deploy/local/) or of the tests. Bundled
 * in memory from the same options as `npm run build`; esbuild's metafile lists every input.
 */
import { build } from "esbuild";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { BROKER_ARTIFACT, BROKER_ENTRY, bundleOptions } from "../../../deploy/build/bundle-options.ts";

const repo = fileURLToPath(new URL("../../../", import.meta.url));

describe("the broker bundle's inputs", { timeout: 60_000 }, () => {
  it("are broker/, realm-config/model/, package.json and npm packages, nothing else", async () => {
    const result = await build({ ...bundleOptions(BROKER_ENTRY, BROKER_ARTIFACT), absWorkingDir: repo, write: false, logLevel: "silent" });
    const firstParty = Object.keys(result.metafile.inputs).filter((input) => !input.includes("node_modules/"));
    const folders = [
      ...new Set(
        firstParty.map((input) => (input.startsWith("realm-config/") ? input.split("/").slice(0, 2).join("/") : input.split("/")[0])),
      ),
    ].sort();
    expect(folders).toEqual(["broker", "package.json", "realm-config/model"]);
    expect(firstParty).toContain("realm-config/model/load.ts");
  });
});
