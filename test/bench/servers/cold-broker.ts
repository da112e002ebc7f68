/**
 * Figure 4's subject: the broker exactly as `cloud-broker serve` wires it (config → credential
 * source → `startServing` → `listen`) except that the credential source is NOT started: nothing is
 * fetched ahead, so every request that arrives finds the cache cold.
 *
 *   node --import tsx cold-broker.ts <config file>   → prints `listening <port>`
 */
import { requireConfig } from "../../../broker/cli/load.ts";
import { createSource } from "../../../broker/cli/serve.ts";
import { toServeOptions } from "../../../broker/config/serve-options.ts";
import { createLogger } from "../../../broker/log.ts";
import { MetricsRegistry } from "../../../broker/metrics.ts";
import { listen } from "../../../broker/serve/listen.ts";
import { startServing } from "../../../broker/serve/start.ts";

const io = {
  stdout: (t: string) => process.stdout.write(t),
  stderr: (t: string) => process.stderr.write(t),
  env: process.env,
  cwd: process.cwd(),
};
const config = await requireConfig(process.argv[2], io);
const logger = createLogger({ level: "warn", write: io.stderr });
const metrics = new MetricsRegistry();
const source = await createSource(config, logger, metrics);
const options = toServeOptions(config);
const serving = await startServing({ source, options, metrics, log: logger });
const listener = await listen(serving.app, options);
process.stdout.write(`listening ${listener.port}\n`);
process.once("SIGTERM", () => {
  void listener.close(1_000).then(async () => {
    await serving.stop();
    source.stop();
    process.exit(0);
  });
});
