/**
 * `tsx deploy/build/image-steps-main.ts --out <dir>`: builds the image described by
 * deploy/docker/Dockerfile without a Docker engine (see image-steps.ts) and prints where it is.
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { runImageSteps } from "./image-steps.ts";

const { values } = parseArgs({
  options: {
    out: { type: "string" },
    context: { type: "string", default: "." },
    dockerfile: { type: "string", default: "deploy/docker/Dockerfile" },
  },
});
if (!values.out) {
  console.error("usage: tsx deploy/build/image-steps-main.ts --out <dir> [--context .] [--dockerfile deploy/docker/Dockerfile]");
  process.exit(2);
}
const image = runImageSteps({
  context: resolve(values.context),
  dockerfile: values.dockerfile,
  out: resolve(values.out),
  log: (l) => console.error(`image-steps: ${l}`),
});
console.log(JSON.stringify(image, null, 2));
