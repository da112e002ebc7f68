/**
 * The strict local clouds: an AWS STS emulator and an Entra ID emulator that validate web-identity
 * tokens and federated client assertions the way the real services do, loading their trust from the
 * files `realm-sync export-trust` writes; and the resource APIs behind them, Bedrock Runtime and
 * Azure OpenAI, which authorize what those credentials may then do from the customer's accounts
 * fixture (`accounts/`).
 */
export { startStsEmulator, type StsEmulator, type StsEmulatorOptions } from "./sts/server.ts";
export { startEntraEmulator, type EntraEmulator, type EntraEmulatorOptions } from "./entra/server.ts";
export { validateWebIdentityToken, type ValidatedWebIdentity } from "./sts/web-identity.ts";
export { assumeRoleWithWebIdentity } from "./sts/assume-role.ts";
export { verifySigV4 } from "./sts/sigv4.ts";
export { StsError, STS_ERRORS, type StsErrorCode } from "./sts/errors.ts";
export type { StsFaultKind, StsCall } from "./sts/app.ts";
export type { IssuedSession } from "./sts/sessions.ts";
export { matchFederatedCredential, type FicMatch } from "./entra/fic.ts";
export { validateClientAssertion } from "./entra/assertion.ts";
export { EntraError, AADSTS, type AadstsCode } from "./entra/errors.ts";
export type { EntraFaultKind, EntraCall, IssuedAccessToken } from "./entra/app.ts";
export { createIssuerKeys, IssuerKeysError, type IssuerKeys } from "./common/issuer-keys.ts";
export { startBedrockEmulator, type BedrockEmulator, type BedrockEmulatorOptions } from "./bedrock/server.ts";
export type { CloudTrailEvent } from "./bedrock/events.ts";
export { startAzureOpenAiEmulator, type AzureOpenAiEmulator, type AzureOpenAiEmulatorOptions } from "./azure-openai/server.ts";
export type { ActivityRecord } from "./azure-openai/activity.ts";
export { loadCloudAccounts, parseCloudAccounts, type CloudAccounts } from "./accounts/accounts.ts";
