/** Real Keycloak tokens of the bench realm, through the issuer front (as clients get them). */
import type { World } from "./world.ts";

export async function clientToken(world: World, clientId: string, secret: string, scope: string): Promise<string> {
  const res = await fetch(`${world.fx.issuer}/protocol/openid-connect/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "client_credentials", client_id: clientId, client_secret: secret, scope }),
  });
  const body = (await res.json()) as { access_token?: string; error?: string };
  if (!body.access_token) throw new Error(`token for ${clientId} (scope ${scope}): HTTP ${res.status} ${body.error ?? ""}`);
  return body.access_token;
}
