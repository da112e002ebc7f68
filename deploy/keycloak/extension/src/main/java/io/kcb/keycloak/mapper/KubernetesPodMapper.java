package io.kcb.keycloak.mapper;

import com.fasterxml.jackson.databind.JsonNode;
import io.kcb.keycloak.ExtensionVersion;
import io.kcb.keycloak.pod.AuthenticatedPod;
import io.kcb.keycloak.pod.EmissionRule;
import io.kcb.keycloak.tags.PodTagKeys;
import io.kcb.keycloak.tags.SessionTagError;
import io.kcb.keycloak.tags.SessionTagsClaim;
import jakarta.ws.rs.core.Response;
import java.util.List;
import java.util.Map;
import org.jboss.logging.Logger;
import org.keycloak.OAuthErrorException;
import org.keycloak.events.Details;
import org.keycloak.events.EventBuilder;
import org.keycloak.events.EventType;
import org.keycloak.models.ClientModel;
import org.keycloak.models.ClientSessionContext;
import org.keycloak.models.Constants;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.ProtocolMapperContainerModel;
import org.keycloak.models.ProtocolMapperModel;
import org.keycloak.models.RealmModel;
import org.keycloak.models.UserSessionModel;
import org.keycloak.protocol.ProtocolMapperConfigException;
import org.keycloak.protocol.oidc.mappers.AbstractOIDCProtocolMapper;
import org.keycloak.protocol.oidc.mappers.OIDCAccessTokenMapper;
import org.keycloak.protocol.oidc.mappers.OIDCAttributeMapperHelper;
import org.keycloak.protocol.oidc.mappers.OIDCIDTokenMapper;
import org.keycloak.provider.ProviderConfigProperty;
import org.keycloak.provider.ProviderConfigurationBuilder;
import org.keycloak.provider.ServerInfoAwareProviderFactory;
import org.keycloak.representations.IDToken;
import org.keycloak.services.ErrorResponseException;
import org.keycloak.util.JsonSerialization;

/**
 * Puts the pod identity that {@code kubernetes-pod} kept for this request into the token: merged into
 * the AWS session-tags claim and, optionally, as the object claim {@code kubernetes}. Emits only under
 * {@link EmissionRule}. Refuses to issue a token whose session tags AWS STS would refuse.
 */
public class KubernetesPodMapper extends AbstractOIDCProtocolMapper
        implements OIDCAccessTokenMapper, OIDCIDTokenMapper, ServerInfoAwareProviderFactory {

    public static final String PROVIDER_ID = "oidc-kubernetes-pod-mapper";
    public static final String PLAIN_CLAIMS = "plain.claims";
    public static final String PLAIN_CLAIM = "kubernetes";
    /** After Keycloak's built-in mappers (priority 0, e.g. the hardcoded JSON session-tags claim), so it merges into their claim. */
    public static final int PRIORITY = 100;
    public static final String SESSION_TAGS_ERROR = "invalid_session_tags";
    /** Message key of a config error: not in Keycloak's bundle, so the admin API shows the message itself. */
    private static final String CONFIG_ERROR_KEY = "kcbKubernetesPodMapperConfig";

    private static final Logger LOG = Logger.getLogger(KubernetesPodMapper.class);

    @Override
    public String getId() {
        return PROVIDER_ID;
    }

    @Override
    public String getDisplayCategory() {
        return TOKEN_MAPPER_CATEGORY;
    }

    @Override
    public String getDisplayType() {
        return "Kubernetes pod identity";
    }

    @Override
    public String getHelpText() {
        return "Adds the namespace, service account, pod and cluster of a client that authenticated with a Kubernetes "
                + "service-account assertion (kubernetes-pod identity provider) to its client_credentials tokens, "
                + "as AWS session tags and as the claim 'kubernetes'.";
    }

    @Override
    public int getPriority() {
        return PRIORITY;
    }

    @Override
    public List<ProviderConfigProperty> getConfigProperties() {
        ProviderConfigurationBuilder builder = ProviderConfigurationBuilder.create();
        tagKeyProperty(builder, PodTagKeys.NAMESPACE, "Namespace tag key");
        tagKeyProperty(builder, PodTagKeys.SERVICE_ACCOUNT, "Service account tag key");
        tagKeyProperty(builder, PodTagKeys.POD_NAME, "Pod name tag key");
        tagKeyProperty(builder, PodTagKeys.POD_UID, "Pod uid tag key");
        tagKeyProperty(builder, PodTagKeys.CLUSTER_NAME, "Cluster name tag key");
        return builder
                .property().name(PodTagKeys.TRANSITIVE).label("Transitive tag keys")
                .helpText("Comma-separated tag keys (among the keys above) that are transitive in role chaining.")
                .type(ProviderConfigProperty.STRING_TYPE).defaultValue("").add()
                .property().name(PLAIN_CLAIMS).label("Add the 'kubernetes' claim")
                .type(ProviderConfigProperty.BOOLEAN_TYPE).defaultValue("true").add()
                .property().name(OIDCAttributeMapperHelper.INCLUDE_IN_ACCESS_TOKEN).label("Add to access token")
                .type(ProviderConfigProperty.BOOLEAN_TYPE).defaultValue("true").add()
                .property().name(OIDCAttributeMapperHelper.INCLUDE_IN_ID_TOKEN).label("Add to ID token")
                .type(ProviderConfigProperty.BOOLEAN_TYPE).defaultValue("false").add()
                .build();
    }

    private static void tagKeyProperty(ProviderConfigurationBuilder builder, String name, String label) {
        builder.property().name(name).label(label)
                .helpText("AWS session-tag key (1-128 characters); empty leaves the value out of the session tags.")
                .type(ProviderConfigProperty.STRING_TYPE).defaultValue(PodTagKeys.DEFAULTS.get(name)).add();
    }

    @Override
    public Map<String, String> getOperationalInfo() {
        return ExtensionVersion.operationalInfo();
    }

    @Override
    public void validateConfig(KeycloakSession session, RealmModel realm, ProtocolMapperContainerModel client, ProtocolMapperModel model)
            throws ProtocolMapperConfigException {
        try {
            PodTagKeys.parse(model.getConfig());
        } catch (SessionTagError e) {
            // The admin API looks the message key up in its message bundle (a null key is a 500) and formats
            // the result with java.text.MessageFormat: braces or an apostrophe, e.g. in the offending key
            // itself, would break it too. An unknown key makes it fall back to the message.
            String message = e.getMessage().replace('{', '(').replace('}', ')').replace('\'', '`');
            throw new ProtocolMapperConfigException(message, CONFIG_ERROR_KEY);
        }
    }

    @Override
    protected void setClaim(IDToken token, ProtocolMapperModel model, UserSessionModel userSession, KeycloakSession session,
                            ClientSessionContext clientSessionCtx) {
        AuthenticatedPod authenticated = session.getAttribute(AuthenticatedPod.SESSION_ATTRIBUTE, AuthenticatedPod.class);
        if (authenticated == null) {
            return;
        }
        ClientModel client = clientSessionCtx.getClientSession().getClient();
        String grantType = clientSessionCtx.getAttribute(Constants.GRANT_TYPE, String.class);
        if (!EmissionRule.emits(grantType, authenticated.clientId(), client.getId(), userSession.getUser().getServiceAccountClientLink())) {
            return;
        }
        try {
            PodTagKeys keys = PodTagKeys.parse(model.getConfig());
            Map<String, String> tags = keys.tagsOf(authenticated.pod());
            Object existing = token.getOtherClaims().get(SessionTagsClaim.CLAIM);
            if (existing instanceof JsonNode node) {
                existing = JsonSerialization.mapper.convertValue(node, Object.class);
            }
            token.getOtherClaims().put(SessionTagsClaim.CLAIM, SessionTagsClaim.merge(existing, tags, keys.transitiveOf(tags)));
        } catch (SessionTagError e) {
            throw refuse(e, model, userSession, session, client);
        }
        if (Boolean.parseBoolean(model.getConfig().getOrDefault(PLAIN_CLAIMS, "true"))) {
            token.getOtherClaims().put(PLAIN_CLAIM, PlainClaim.of(authenticated.pod()));
        }
    }

    /** Logs and records why no token is issued; returns the error response to throw. */
    private static ErrorResponseException refuse(SessionTagError error, ProtocolMapperModel model, UserSessionModel userSession,
                                                 KeycloakSession session, ClientModel client) {
        RealmModel realm = client.getRealm();
        LOG.errorf("No token for client %s in realm %s: mapper %s would put AWS session tags into it that STS refuses: %s",
                client.getClientId(), realm.getName(), model.getName(), error.getMessage());
        new EventBuilder(realm, session, session.getContext().getConnection())
                .event(EventType.CLIENT_LOGIN_ERROR)
                .client(client)
                .user(userSession.getUser())
                .detail(Details.REASON, error.getMessage())
                .storeImmediately(true)
                .error(SESSION_TAGS_ERROR);
        return new ErrorResponseException(OAuthErrorException.INVALID_REQUEST,
                "The token's AWS session tags would break an AWS STS limit; see the Keycloak log.", Response.Status.BAD_REQUEST);
    }
}
