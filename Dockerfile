# The blockrep image: one image for facilities and replayers; the verb is the command
# (docker run IMAGE producer --config FILE). See the README, "Deploy with Docker Compose".

# Build stage: the reactor's package phase, tests skipped (CI runs them; `mvn -B verify`).
FROM maven:3-eclipse-temurin-17 AS build
WORKDIR /src
COPY . .
RUN mvn -B -DskipTests package

# Runtime stage: a JRE, the shaded jar and the launcher, run as an unprivileged user.
FROM eclipse-temurin:17-jre
RUN groupadd --system --gid 10001 blockrep \
 && useradd --system --uid 10001 --gid blockrep --home-dir /var/lib/blockrep --no-create-home \
        --shell /usr/sbin/nologin blockrep \
 && mkdir -p /var/lib/blockrep /etc/blockrep \
 && chown blockrep:blockrep /var/lib/blockrep \
 && chmod 0700 /var/lib/blockrep
# bin/blockrep runs $ROOT/cli/target/blockrep.jar, so the jar keeps its path below the launcher's root.
COPY --from=build /src/bin/blockrep /opt/blockrep/bin/blockrep
COPY --from=build /src/cli/target/blockrep.jar /opt/blockrep/cli/target/blockrep.jar
ENV PATH=/opt/blockrep/bin:$PATH
USER blockrep
WORKDIR /var/lib/blockrep
# Volumes, bitmaps, activity log, metadata: keep them across container restarts.
VOLUME ["/var/lib/blockrep"]
# NBD, link, control API of a facility on the default ports (site-a), and the ones site-b uses in
# docker-compose.yml; the replayer listens on nothing.
EXPOSE 10809 10810 10811 10819 10820 10821
ENTRYPOINT ["/opt/blockrep/bin/blockrep"]
CMD ["--help"]
