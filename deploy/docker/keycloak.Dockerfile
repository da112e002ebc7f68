# syntax=docker/dockerfile:1.7
#
# Keycloak for the trust domain (deploy/k8s/keycloak): the official image with the project's Keycloak
# extension (deploy/keycloak/extension), built once with the options the trust domain needs so every
# pod starts with `start --optimized` on a read-only root filesystem. Build from the repository root:
#   docker build -f deploy/docker/keycloak.Dockerfile -t keycloak-trust-domain:26.7.3 \
#     --build-arg KEYCLOAK_DIGEST=sha256:<digest of quay.io/keycloak/keycloak:26.7.3> \
#     --build-arg MAVEN_DIGEST=sha256:<digest of docker.io/library/maven:3.9.9-eclipse-temurin-17> .
# The bases are pinned by digest: without the digests the build fails (deploy/README.md).
# The extension is built against exactly this Keycloak version (keycloak.version in its pom.xml):
# change both together.

ARG MAVEN_IMAGE=docker.io/library/maven:3.9.9-eclipse-temurin-17
ARG MAVEN_DIGEST
ARG KEYCLOAK_IMAGE=quay.io/keycloak/keycloak:26.7.3
ARG KEYCLOAK_DIGEST

# The extension jar, built and unit-tested (JUnit) by the same Maven command as the local harness
# (deploy/local/keycloak/extension.ts).
FROM ${MAVEN_IMAGE}@${MAVEN_DIGEST} AS extension
WORKDIR /src
COPY deploy/keycloak/extension/pom.xml ./
COPY deploy/keycloak/extension/src/ ./src/
RUN --mount=type=cache,target=/root/.m2 mvn -B --no-transfer-progress package

FROM ${KEYCLOAK_IMAGE}@${KEYCLOAK_DIGEST} AS build
# Before `kc.sh build`: Quarkus augments the server with the providers it finds here.
COPY --from=extension --chown=1000:0 /src/target/keycloak-cloud-broker-extension.jar /opt/keycloak/providers/
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
