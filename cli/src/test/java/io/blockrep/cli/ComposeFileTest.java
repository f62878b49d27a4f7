package io.blockrep.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.blockrep.common.config.ConfigDef;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code docker-compose.yml}, checked without a Docker engine (CI also runs {@code docker-compose config -q}, which
 * checks the Compose schema): every blockrep service's command and health check parse with the CLI, every
 * configuration file it mounts from {@code deploy/} passes {@code blockrep config check} with the environment the
 * service gets, every published port binds 127.0.0.1, every service has a health check, and the sites are wired as
 * the README says (each facility's Kafka on its own site network, the link on {@code sitelink}).
 */
class ComposeFileTest {
    private static final Path ROOT = Path.of("..");
    /** The value deploy/make-secrets.sh would put in .env; any 16+ characters do for the check. */
    private static final Map<String, String> HOST_ENV = Map.of("BLOCKREP_LINK_SECRET", ConfigCommandTest.SECRET);
    private static final Pattern VARIABLE = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?}");

    private static JsonNode services;

    @TempDir
    Path dir;

    @BeforeAll
    static void readComposeFile() throws IOException {
        services = new ObjectMapper(new YAMLFactory()).readTree(ROOT.resolve("docker-compose.yml").toFile()).path("services");
        assertThat(services.size()).isGreaterThan(0);
    }

    /** The services built from the Dockerfile: their command is a blockrep verb. */
    private static Map<String, JsonNode> blockrepServices() {
        Map<String, JsonNode> result = new LinkedHashMap<>();
        services.fields().forEachRemaining(e -> {
            if (e.getValue().has("build") || e.getValue().path("image").asText().startsWith("blockrep:")) {
                result.put(e.getKey(), e.getValue());
            }
        });
        assertThat(result).containsKeys("facility-a", "facility-b", "replayer");
        return result;
    }

    private static List<String> strings(JsonNode array) {
        List<String> list = new ArrayList<>();
        array.forEach(n -> list.add(n.asText()));
        return list;
    }

    /** The blockrep arguments of a health check ({@code CMD blockrep ...} or {@code CMD-SHELL blockrep ... | ...}), or null. */
    private static List<String> healthCheckArgs(JsonNode service) {
        List<String> test = strings(service.path("healthcheck").path("test"));
        if (test.size() >= 2 && test.get(0).equals("CMD") && test.get(1).equals("blockrep")) {
            return test.subList(2, test.size());
        }
        if (test.size() == 2 && test.get(0).equals("CMD-SHELL") && test.get(1).startsWith("blockrep ")) {
            String first = test.get(1).split("[|;&]", 2)[0].trim();
            List<String> words = Arrays.asList(first.split("\\s+"));
            return words.subList(1, words.size());
        }
        return null;
    }

    private static CommandLine.ParseResult parse(List<String> args) {
        return Main.commandLine().parseArgs(args.toArray(String[]::new));
    }

    private static String verb(CommandLine.ParseResult parsed) {
        return parsed.subcommand().commandSpec().name();
    }

    /** The container path after {@code option} in the service's command. */
    private static String optionValue(JsonNode service, String option) {
        List<String> command = strings(service.path("command"));
        int i = command.indexOf(option);
        assertThat(i).as("%s in %s", option, command).isNotNegative();
        return command.get(i + 1);
    }

    /** A service's bind mounts, container path to host path (relative to the compose file); named volumes left out. */
    private static Map<String, String> bindMounts(JsonNode service) {
        Map<String, String> mounts = new HashMap<>();
        for (String v : strings(service.path("volumes"))) {
            String[] parts = v.split(":");
            if (parts[0].startsWith("./") || parts[0].startsWith("/")) {
                assertThat(parts).as("bind mount %s is read-only", v).hasSize(3);
                assertThat(parts[2]).as("bind mount %s is read-only", v).isEqualTo("ro");
                mounts.put(parts[1], parts[0]);
            }
        }
        return mounts;
    }

    private static Set<String> namedVolumeTargets(JsonNode service) {
        Set<String> targets = new TreeSet<>();
        for (String v : strings(service.path("volumes"))) {
            String[] parts = v.split(":");
            if (!parts[0].startsWith("./") && !parts[0].startsWith("/")) {
                targets.add(parts[1]);
            }
        }
        return targets;
    }

    /** The service's environment after Compose's interpolation of {@code ${VAR}}, {@code ${VAR:-default}}, {@code ${VAR:?error}}. */
    static Map<String, String> environment(JsonNode service, Map<String, String> hostEnv) {
        Map<String, String> env = new HashMap<>();
        service.path("environment").fields().forEachRemaining(e -> env.put(e.getKey(), interpolate(e.getValue().asText(), hostEnv)));
        return env;
    }

    static String interpolate(String value, Map<String, String> hostEnv) {
        Matcher m = VARIABLE.matcher(value);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String set = hostEnv.get(m.group(1));
            boolean missing = set == null || (m.group(2) != null && m.group(2).startsWith(":") && set.isEmpty());
            String replacement;
            if (!missing) {
                replacement = set;
            } else if (m.group(2) != null && m.group(2).endsWith("?")) {
                throw new IllegalStateException(m.group(1) + " unset: " + m.group(3));
            } else {
                replacement = m.group(2) != null ? m.group(3) : "";
            }
            m.appendReplacement(out, Matcher.quoteReplacement(replacement));
        }
        m.appendTail(out);
        return out.toString().replace("$$", "$");
    }

    private static Set<String> networks(JsonNode service) {
        Set<String> names = new TreeSet<>();
        JsonNode n = service.path("networks");
        if (n.isArray()) {
            n.forEach(x -> names.add(x.asText()));
        } else {
            n.fieldNames().forEachRemaining(names::add);
        }
        return names;
    }

    @Test
    void everyBlockrepServiceCommandAndHealthCheckParseWithTheCli() {
        blockrepServices().forEach((name, service) -> {
            List<String> command = strings(service.path("command"));
            CommandLine.ParseResult parsed = parse(command);
            assertThat(verb(parsed)).as(name).isIn("producer", "replayer");
            assertThat(parsed.subcommand().unmatched()).as(name).isEmpty();
            assertThat(parsed.subcommand().hasMatchedOption("--config")).as(name).isTrue();

            List<String> health = healthCheckArgs(service);
            assertThat(health).as("%s: its health check is a blockrep verb", name).isNotNull();
            CommandLine.ParseResult check = parse(health);
            assertThat(check.subcommand().unmatched()).as(name).isEmpty();
            assertThat(verb(check)).as(name).isIn("status", "lag");
        });
    }

    @Test
    void everyMountedConfigFilePassesConfigCheckWithTheServicesEnvironment() throws IOException {
        // deploy/make-secrets.sh writes the real token on the user's host; the check reads a stand-in at the same key.
        Path token = Files.writeString(dir.resolve("control.token"), "0123456789abcdef0123456789abcdef\n");
        blockrepServices().forEach((name, service) -> {
            String verb = verb(parse(strings(service.path("command"))));
            Map<String, String> mounts = bindMounts(service);
            String configInContainer = optionValue(service, "--config");
            String host = mounts.get(configInContainer);
            assertThat(host).as("%s: --config %s is mounted from deploy/", name, configInContainer).startsWith("./deploy/");
            Path file = ROOT.resolve(host.substring(2));
            assertThat(file).as(name).isRegularFile();

            Properties props = ConfigDef.readFile(file);
            String tokenKey = verb + ".control.token.file";
            String tokenInContainer = props.getProperty(tokenKey);
            assertThat(mounts).as("%s: %s is mounted", name, tokenKey).containsKey(tokenInContainer);
            assertThat(mounts.get(tokenInContainer)).isEqualTo("./deploy/secrets/control.token");
            if (verb.equals("producer")) {
                assertThat(namedVolumeTargets(service)).as("%s: its state directory is a named volume", name)
                        .contains(props.getProperty("producer.state.dir"));
            }

            Map<String, String> env = new HashMap<>(environment(service, HOST_ENV));
            env.put("BLOCKREP_" + tokenKey.toUpperCase(java.util.Locale.ROOT).replace('.', '_'), token.toString());
            ConfigCommandTest.Run r = ConfigCommandTest.run(env, "config", "check", "--kind", verb, file.toString());
            assertThat(r.exit()).as("%s: %s%s", name, r.out(), r.err()).isZero();
        });
    }

    @Test
    void withoutTheLinkSecretTheFileDoesNotInterpolate() {
        JsonNode facility = services.path("facility-a");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> environment(facility, Map.of()))
                .hasMessageContaining("BLOCKREP_LINK_SECRET").hasMessageContaining("deploy/make-secrets.sh");
    }

    @Test
    void everyPublishedPortBindsLoopbackAndEveryNbdExportIsPublished() {
        services.fields().forEachRemaining(e -> e.getValue().path("ports").forEach(p -> {
            String host = p.isObject() ? p.path("host_ip").asText() : p.asText().split(":")[0];
            assertThat(host).as("%s publishes %s", e.getKey(), p).isEqualTo("127.0.0.1");
        }));
        blockrepServices().forEach((name, service) -> {
            if (!verb(parse(strings(service.path("command")))).equals("producer")) {
                return;
            }
            Properties props = ConfigDef.readFile(ROOT.resolve(bindMounts(service).get(optionValue(service, "--config")).substring(2)));
            String nbdPort = props.getProperty("producer.nbd.listen").replaceAll(".*:", "");
            assertThat(strings(service.path("ports"))).as("%s publishes its NBD port", name)
                    .contains("127.0.0.1:" + nbdPort + ":" + nbdPort);
        });
    }

    @Test
    void everyServiceHasAHealthCheck() {
        services.fields().forEachRemaining(e -> {
            JsonNode health = e.getValue().path("healthcheck");
            assertThat(health.path("disable").asBoolean(false)).as(e.getKey()).isFalse();
            List<String> test = strings(health.path("test"));
            assertThat(test).as("%s has a health check", e.getKey()).hasSizeGreaterThanOrEqualTo(2);
            assertThat(test.get(0)).as(e.getKey()).isIn("CMD", "CMD-SHELL");
        });
    }

    @Test
    void eachSiteLogsToItsOwnKafkaAndTheLinkIsOnSitelink() {
        Map<String, JsonNode> blockrep = blockrepServices();
        for (String facility : List.of("facility-a", "facility-b")) {
            JsonNode service = blockrep.get(facility);
            Properties props = ConfigDef.readFile(ROOT.resolve(bindMounts(service).get(optionValue(service, "--config")).substring(2)));
            String kafka = props.getProperty("producer.kafka.bootstrap.servers").split(":")[0];
            String site = "site-" + facility.substring(facility.length() - 1);
            assertThat(kafka).isEqualTo("kafka-" + site.substring(5));
            assertThat(networks(services.path(kafka))).contains(site);
            assertThat(networks(service)).contains(site, "sitelink");
            assertThat(props.getProperty("producer.link.peer")).startsWith(facility.equals("facility-a") ? "facility-b:" : "facility-a:");
        }
        JsonNode mm2 = services.path("mirror-maker");
        assertThat(strings(mm2.path("command"))).contains("/etc/mm2/mm2.properties");
        assertThat(bindMounts(mm2)).containsEntry("/etc/mm2/mm2.properties", "./connect-config/mm2.properties");
        assertThat(networks(mm2)).contains("sitelink");
    }
}
