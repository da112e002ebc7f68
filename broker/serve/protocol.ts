/**
 * The delivery protocols the app speaks. Each route marks its protocol in the context so the one
 * error handler can answer in the shape that protocol's SDKs parse.
 */
export type Protocol = "aws-container" | "azure-app-service" | "azure-imds" | "ops";

/** Hono environment of the app: the protocol of the matched route. */
export interface ServeEnv {
  Variables: { protocol: Protocol };
}
