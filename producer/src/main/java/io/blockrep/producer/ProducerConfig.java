package io.blockrep.producer;

import static io.blockrep.common.config.ConfigType.HOST_PORT;
import static io.blockrep.common.config.ConfigType.INT;
import static io.blockrep.common.config.ConfigType.LIST;
import static io.blockrep.common.config.ConfigType.PATH;
import static io.blockrep.common.config.ConfigType.SIZE;
import static io.blockrep.common.config.ConfigType.STRING;

import io.blockrep.common.FatalException;
import io.blockrep.common.config.Config;
import io.blockrep.common.config.ConfigDef;
import io.blockrep.common.config.HostPort;
import io.blockrep.common.config.Validators;
import io.blockrep.common.volume.RegionGeometry;
import io.blockrep.common.volume.Role;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

/**
 * Configuration of one facility ({@code blockrep producer --config FILE}). {@link #DEF} is the one
 * table of keys; the README's configuration reference is checked against it by a test.
 */
public record ProducerConfig(String nodeId, Path stateDir, HostPort nbdListen, int nbdMaxConnections, List<VolumeSpec> volumes) {

    private static final String ID_REGEX = "[a-z0-9][a-z0-9-]{0,62}";

    public static final ConfigDef DEF = ConfigDef.builder()
            .required("producer.node.id", STRING, Validators.pattern(ID_REGEX, "an id of a-z, 0-9, '-'"),
                    "Stable id of this facility, e.g. site-a. Recorded in dirty keys and generation history.")
            .required("producer.state.dir", PATH, Validators.pattern(".+", "a path"),
                    "Directory for volume metadata and, later, bitmaps and journals.")
            .define("producer.nbd.listen", HOST_PORT, "127.0.0.1:10809",
                    "Address the NBD server listens on; port 0 picks a free port.")
            .define("producer.nbd.max.connections", INT, "64", Validators.range(1, 4096),
                    "Most NBD client connections served at once; more are refused.")
            .required("producer.volumes", LIST, Validators.listOf(ID_REGEX, "volume ids", true),
                    "Ids of the volumes this facility owns; each also names its NBD export.")
            .perIdFrom("producer.volumes")
            .required("producer.volume.<id>.size", SIZE, Validators.positiveMultipleOf(512),
                    "Size of the volume, e.g. 1G; must match an existing volume's size.")
            .define("producer.volume.<id>.region.size", SIZE, "64K",
                    Validators.powerOfTwoSize(RegionGeometry.MIN_REGION_SIZE, RegionGeometry.MAX_REGION_SIZE),
                    "Dirty-tracking region size.")
            .define("producer.volume.<id>.path", PATH, null,
                    "Backing file or block device; default {state.dir}/volumes/{id}/data.img, created sparse when missing.")
            .define("producer.volume.<id>.role", STRING, "PRIMARY", Validators.oneOf("PRIMARY", "SECONDARY"),
                    "Role of the volume when it is first created here; a SECONDARY is exported read-only.")
            .build();

    /** One configured volume. {@code path} is null when the default location is meant. */
    public record VolumeSpec(String id, long size, int regionSize, Path path, Role role) {
    }

    public ProducerConfig {
        volumes = List.copyOf(volumes);
    }

    /** Reads and validates a properties file, with {@code BLOCKREP_*} environment overrides. */
    public static ProducerConfig load(Path file, Map<String, String> env) {
        Properties props = new Properties();
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            props.load(r);
        } catch (IOException e) {
            throw new FatalException("cannot read configuration " + file + ": " + e.getMessage(), e);
        }
        return from(props, env);
    }

    public static ProducerConfig from(Properties props, Map<String, String> env) {
        Map<String, String> map = new HashMap<>();
        props.stringPropertyNames().forEach(k -> map.put(k, props.getProperty(k)));
        Config c = DEF.parse(map, env);
        List<VolumeSpec> volumes = c.ids().stream().map(id -> new VolumeSpec(id,
                c.getSize("producer.volume.<id>.size", id),
                (int) c.getSize("producer.volume.<id>.region.size", id),
                c.getPath("producer.volume.<id>.path", id),
                Role.valueOf(c.getString("producer.volume.<id>.role", id).toUpperCase(Locale.ROOT)))).toList();
        return new ProducerConfig(c.getString("producer.node.id"), c.getPath("producer.state.dir"),
                c.getHostPort("producer.nbd.listen"), c.getInt("producer.nbd.max.connections"), volumes);
    }
}
