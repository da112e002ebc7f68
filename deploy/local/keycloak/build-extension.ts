// `npm run test:extension`: builds the Keycloak extension with Maven, running its JUnit tests, unless
// the jar of the same sources is cached (then the cached JUnit result is reported).
import { ensureExtensionJar } from "./extension.ts";

const started = Date.now();
const result = await ensureExtensionJar((line) => console.log(`extension: ${line}`));
console.log(
  `extension: JUnit ${result.junit}${result.built ? "" : " (cached: same sources)"}; jar ${result.jar} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
);
