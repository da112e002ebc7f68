/**
 * The Entra ID endpoints MSAL (JS and Python) uses with instance discovery disabled, over Hono:
 *   GET  /{tenant}/v2.0/.well-known/openid-configuration   tenant discovery (MSAL requires
 *        authorization_endpoint, token_endpoint, issuer, jwks_uri; MSAL Python checks issuer = authority)
 *   GET  /{tenant}/discovery/v2.0/keys                      the emulator's signing keys
 *   POST /{tenant}/oauth2/v2.0/token                        client_credentials + federated client_assertion
 *   GET  /resource/whoami                                   a protected test API: Bearer tokens of this
 *                                                           emulator for the configured resource only
 * Only routing, faults and the wire format live here; the checks are in assertion.ts and fic.ts.
 */
import { Hono } from "hono";
import type { AzureFederatedCredential } from "../../../../admin-scripts/trust/artifacts.ts";
import type { IssuerKeys } from "../common/issuer-keys.ts";
import { requestId, sha256Prefix } from "../common/ids.ts";
import type { Clock } from "../common/types.ts";
import type { TokenSigner } from "./access-token.ts";
import { validateClientAssertion } from "./assertion.ts";
import { AADSTS, EntraError, entraErrors, errorBody, type AadstsCode } from "./errors.ts";
import { takeFault } from "../common/fault.ts";

export type EntraFaultKind = "throttling" | "server-error" | "unavailable";

const FAULTS: Record<EntraFaultKind, { code: AadstsCode; message: string }> = {
  throttling: { code: 90055, message: "There are too many incoming requests. This request was throttled. Please try again later." },
  "server-error": { code: 50000, message: "There was an error issuing a token or an issue with our sign-in service." },
  unavailable: { code: 90033, message: "A transient error has occurred. Please try again." },
};

export const JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/** OIDC scopes MSAL may add to any request; they name no resource. */
const OIDC_SCOPES = new Set(["openid", "profile", "offline_access"]);

/** One token request as the emulator saw it (no assertion, only its sha256 prefix). */
export interface EntraCall {
  at: Date;
  tenant: string;
  clientId: string | undefined;
  scope: string | undefined;
  status: number;
  aadsts: AadstsCode | undefined;
  assertionSha256: string | undefined;
  correlationId: string;
}

/** One access token issued. */
export interface IssuedAccessToken {
  tenant: string;
  clientId: string;
  resource: string;
  /** The FIC that matched, and the assertion's subject and issuer. */
  ficName: string;
  subject: string;
  issuer: string;
  expiresOn: Date;
  tokenSha256: string;
}

export interface ResourceCall {
  at: Date;
  status: number;
  clientId: string | undefined;
}

export interface EntraFaultState {
  kind: EntraFaultKind | undefined;
  remaining: number | undefined;
}

export interface EntraAppDeps {
  fics: readonly AzureFederatedCredential[];
  keys: IssuerKeys;
  signer: TokenSigner;
  clock: Clock;
  /** The audience `/resource/whoami` accepts (the scope is `<resource>/.default`). */
  resource: string;
  tokenLifetimeSec: number;
  clockToleranceSec?: number;
  calls: EntraCall[];
  issued: IssuedAccessToken[];
  resourceCalls: ResourceCall[];
  /** `METHOD /path` of every request, to see what a client library fetches. */
  requests: string[];
  fault: EntraFaultState;
}

const TENANT = /^[0-9a-fA-F-]{36}$|^[a-z0-9.-]+\.[a-z]{2,}$/;

export function createEntraApp(deps: EntraAppDeps): Hono {
  const app = new Hono();
  const tenants = new Set(deps.fics.map((f) => f.tenantId));
  const origin = (url: string) => new URL(url).origin;
  const issuerFor = (base: string, tenant: string) => `${base}/${tenant}/v2.0`;

  app.use(async (c, next) => {
    deps.requests.push(`${c.req.method} ${new URL(c.req.url).pathname}`);
    await next();
  });

  app.get("/:tenant/v2.0/.well-known/openid-configuration", (c) => {
    const tenant = c.req.param("tenant");
    const base = origin(c.req.url);
    if (!tenants.has(tenant))
      return c.json({ error: "invalid_tenant", error_description: `AADSTS90002: Tenant '${tenant}' not found.` }, 400);
    return c.json({
      token_endpoint: `${base}/${tenant}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: ["client_secret_post", "private_key_jwt", "client_secret_basic"],
      jwks_uri: `${base}/${tenant}/discovery/v2.0/keys`,
      response_modes_supported: ["query", "fragment", "form_post"],
      subject_types_supported: ["pairwise"],
      id_token_signing_alg_values_supported: ["RS256"],
      response_types_supported: ["code", "id_token", "code id_token", "id_token token"],
      scopes_supported: ["openid", "profile", "email", "offline_access"],
      issuer: issuerFor(base, tenant),
      request_uri_parameter_supported: false,
      authorization_endpoint: `${base}/${tenant}/oauth2/v2.0/authorize`,
      device_authorization_endpoint: `${base}/${tenant}/oauth2/v2.0/devicecode`,
      end_session_endpoint: `${base}/${tenant}/oauth2/v2.0/logout`,
      tenant_region_scope: "EU",
      cloud_instance_name: "local.test",
    });
  });

  app.get("/:tenant/discovery/v2.0/keys", (c) => c.json(deps.signer.jwks));

  app.post("/:tenant/oauth2/v2.0/token", async (c) => {
    const tenant = c.req.param("tenant");
    const base = origin(c.req.url);
    const now = new Date(deps.clock());
    const correlationId = c.req.header("client-request-id") ?? requestId();
    const form = new URLSearchParams(await c.req.text());
    const call: EntraCall = {
      at: now,
      tenant,
      clientId: form.get("client_id") ?? undefined,
      scope: form.get("scope") ?? undefined,
      status: 200,
      aadsts: undefined,
      assertionSha256: undefined,
      correlationId,
    };
    deps.calls.push(call);
    const assertion = form.get("client_assertion");
    if (assertion) call.assertionSha256 = sha256Prefix(assertion);

    const fail = (e: EntraError) => {
      call.status = AADSTS[e.code].status;
      call.aadsts = e.code;
      const headers: Record<string, string> = { "x-ms-request-id": requestId(), "client-request-id": correlationId };
      if (e.code === 90055) headers["retry-after"] = "5";
      return c.json(errorBody(e, { traceId: requestId(), correlationId, now, baseUrl: base }), AADSTS[e.code].status, headers);
    };

    try {
      const fault = takeFault(deps.fault);
      if (fault) throw new EntraError(FAULTS[fault].code, FAULTS[fault].message);
      if (!TENANT.test(tenant) || !tenants.has(tenant)) throw entraErrors.tenantNotFound(tenant);
      const grant = form.get("grant_type");
      if (!grant) throw entraErrors.missing("grant_type");
      if (grant !== "client_credentials") throw entraErrors.grantType(grant);
      const clientId = form.get("client_id");
      if (!clientId) throw entraErrors.missing("client_id");
      const scopeParam = form.get("scope");
      if (!scopeParam) throw entraErrors.missing("scope");
      const scopes = scopeParam.split(" ").filter((s) => s !== "" && !OIDC_SCOPES.has(s));
      if (scopes.length !== 1) throw entraErrors.scopeInvalid(scopeParam);
      const scope = scopes[0]!;
      if (!scope.endsWith("/.default")) throw entraErrors.scopeDefault(scope);
      const resource = scope.slice(0, -"/.default".length);

      const fics = deps.fics.filter((f) => f.tenantId === tenant && f.clientId === clientId);
      if (fics.length === 0) throw entraErrors.appNotFound(clientId, tenant);
      if (!assertion || form.get("client_assertion_type") !== JWT_BEARER) throw entraErrors.noCredential();

      const validated = await validateClientAssertion(assertion, {
        fics,
        keys: deps.keys,
        nowSeconds: Math.floor(now.getTime() / 1000),
        clockToleranceSec: deps.clockToleranceSec,
      });
      const nowSeconds = Math.floor(now.getTime() / 1000);
      const accessToken = await deps.signer.issue({
        issuer: issuerFor(base, tenant),
        tenant,
        clientId,
        resource,
        nowSeconds,
        lifetimeSec: deps.tokenLifetimeSec,
      });
      deps.issued.push({
        tenant,
        clientId,
        resource,
        ficName: validated.fic.name,
        subject: validated.sub,
        issuer: validated.iss,
        expiresOn: new Date((nowSeconds + deps.tokenLifetimeSec) * 1000),
        tokenSha256: sha256Prefix(accessToken),
      });
      return c.json(
        { token_type: "Bearer", expires_in: deps.tokenLifetimeSec, ext_expires_in: deps.tokenLifetimeSec, access_token: accessToken },
        200,
        { "cache-control": "no-store, no-cache", pragma: "no-cache", "client-request-id": correlationId },
      );
    } catch (error) {
      if (error instanceof EntraError) return fail(error);
      return fail(new EntraError(50000, "There was an error issuing a token or an issue with our sign-in service."));
    }
  });

  app.get("/resource/whoami", async (c) => {
    const base = origin(c.req.url);
    const record: ResourceCall = { at: new Date(deps.clock()), status: 401, clientId: undefined };
    deps.resourceCalls.push(record);
    const auth = c.req.header("authorization") ?? "";
    const m = /^Bearer ([A-Za-z0-9._-]+)$/.exec(auth);
    const claims = m
      ? await deps.signer.verify(m[1]!, {
          issuerFor: (t) => issuerFor(base, t),
          audience: deps.resource,
          nowSeconds: Math.floor(deps.clock() / 1000),
        })
      : undefined;
    if (!claims) {
      const challenge = m ? 'Bearer error="invalid_token", error_description="The access token is invalid for this resource"' : "Bearer";
      return c.json({ error: { code: "InvalidAuthenticationToken", message: "Access token is missing or invalid." } }, 401, {
        "www-authenticate": challenge,
      });
    }
    record.status = 200;
    record.clientId = claims.appid;
    return c.json({ appid: claims.appid, tid: claims.tid, oid: claims.oid, aud: claims.aud });
  });

  return app;
}
