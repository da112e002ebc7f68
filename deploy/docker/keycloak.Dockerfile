# syntax=docker/dockerfile:1.7
#
# Keycloak for the trust domain (deploy/k8s/keycloak): the official image, built once with the
# options the trust domain needs so every pod starts with `start --optimized` on a read-only root
# filesystem. Build from the repository root:
#   docker build -f deploy/docker/keycloak.Dockerfile -t keycloak-trust-domain:26.7.3 \
#     --build-arg KEYCLOAK_DIGEST=sha256:<digest of quay.io/keycloak/keycloak:26.7.3> .
# The base is pinned by digest: without KEYCLOAK_DIGEST the build fails (deploy/README.md).

ARG KEYCLOAK_IMAGE=quay.io/keycloak/keycloak:26.7.3
ARG KEYCLOAK_DIGEST

FROM ${KEYCLOAK_IMAGE}@${KEYCLOAK_DIGEST} AS build
# Providers installed into Keycloak (deploy/keycloak/providers, may be empty).
COPY --chown=1000:0 deploy/keycloak/providers/ /opt/keycloak/providers/
# The same build options as the local trust domain (deploy/local/keycloak/distribution.ts), with a
# production database and clustered caches instead of dev-file / local.
RUN /opt/keycloak/bin/kc.sh build \
      --features=client-auth-federated,kubernetes-service-accounts \
      --health-enabled=true \
      --metrics-enabled=true \
      --db=postgres \
      --cache=ispn \
      --vault=file

FROM ${KEYCLOAK_IMAGE}@${KEYCLOAK_DIGEST} AS runtime
COPY --from=build /opt/keycloak/ /opt/keycloak/
USER 1000
EXPOSE 8443/tcp 9000/tcp
ENTRYPOINT ["/opt/keycloak/bin/kc.sh"]
CMD ["start", "--optimized"]
