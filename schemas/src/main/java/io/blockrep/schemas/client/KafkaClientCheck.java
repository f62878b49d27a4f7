package io.blockrep.schemas.client;

import io.blockrep.common.config.ConfigDef.PassThroughCheck;
import io.blockrep.common.io.FileModes;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.SslConfigs;

/**
 * Checks a service's pass-through Kafka client settings ({@code producer.kafka.*},
 * {@code replayer.kafka.*}) against the Kafka clients' own tables: the union of
 * {@link ProducerConfig#configDef()}, {@link ConsumerConfig#configDef()} and
 * {@link AdminClientConfig#configDef()}, the three clients both services create with the same
 * settings. An unknown name is a problem with a did-you-mean; a value that Kafka's parser or
 * validator refuses is a problem with Kafka's own message; so is a setting blockrep fixes itself
 * (acks, idempotence, serializers, offset commits) set to anything else, since it would be
 * overridden silently. Names under {@code metrics.context.} are Kafka's free-form prefix and pass.
 *
 * <p>Immutable and thread-safe.
 */
public final class KafkaClientCheck implements PassThroughCheck {
    /** The producer, consumer and admin clients of a facility and of a replayer. */
    public static final KafkaClientCheck CLIENTS = new KafkaClientCheck(
            List.of(ProducerConfig.configDef(), ConsumerConfig.configDef(), AdminClientConfig.configDef()), fixedByBlockrep());

    private static final String FREE_FORM_PREFIX = CommonClientConfigs.METRICS_CONTEXT_PREFIX;
    private static final int MAX_HINT_DISTANCE = 3;

    private final List<ConfigDef> defs;
    private final Set<String> names;
    private final Map<String, Fixed> fixed;

    /** A setting blockrep always sets itself: a value equal (ignoring case) to one of {@code allowed} is harmless. */
    private record Fixed(List<String> allowed, String why) {
    }

    private KafkaClientCheck(List<ConfigDef> defs, Map<String, Fixed> fixed) {
        this.defs = List.copyOf(defs);
        Set<String> all = new TreeSet<>();
        defs.forEach(d -> all.addAll(d.names()));
        this.names = Set.copyOf(all);
        this.fixed = Map.copyOf(fixed);
    }

    private static Map<String, Fixed> fixedByBlockrep() {
        Map<String, Fixed> m = new LinkedHashMap<>();
        Fixed acks = new Fixed(List.of("all", "-1"), "blockrep's producers are idempotent with acks=all (a dirty record must not be lost)");
        m.put(ProducerConfig.ACKS_CONFIG, acks);
        m.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, new Fixed(List.of("true"), acks.why()));
        String bytes = "blockrep encodes keys and values itself (byte arrays)";
        m.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, new Fixed(List.of("org.apache.kafka.common.serialization.ByteArraySerializer"), bytes));
        m.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, m.get(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG));
        m.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG,
                new Fixed(List.of("org.apache.kafka.common.serialization.ByteArrayDeserializer"), bytes));
        m.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, m.get(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG));
        String reads = "blockrep's readers start at the earliest offset and commit offsets themselves";
        m.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, new Fixed(List.of("false"), reads));
        m.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, new Fixed(List.of("earliest"), reads));
        m.put(ConsumerConfig.GROUP_ID_CONFIG, new Fixed(List.of(),
                "blockrep chooses the consumer group (the replayer's is replayer.group.id; a facility's readers use none)"));
        return m;
    }

    /** Every setting name the clients know, without a prefix. */
    public Set<String> names() {
        return names;
    }

    @Override
    public Map<String, String> problems(String prefix, Map<String, String> settings) {
        Map<String, String> problems = new TreeMap<>();
        settings.forEach((name, value) -> {
            String problem = problem(prefix, name, value);
            if (problem != null) {
                problems.put(name, problem);
            }
        });
        return problems;
    }

    private String problem(String prefix, String name, String value) {
        if (name.startsWith(FREE_FORM_PREFIX) && name.length() > FREE_FORM_PREFIX.length()) {
            return null;
        }
        if (!names.contains(name)) {
            String near = io.blockrep.common.config.ConfigDef.closest(name, names, MAX_HINT_DISTANCE);
            return "unknown Kafka client setting" + (near == null ? "" : " (did you mean '" + prefix + near + "'?)");
        }
        for (ConfigDef def : defs) {
            ConfigDef.ConfigKey key = def.configKeys().get(name);
            if (key == null) {
                continue;
            }
            try {
                Object parsed = ConfigDef.parseType(name, value, key.type);
                if (key.validator != null) {
                    key.validator.ensureValid(name, parsed);
                }
            } catch (ConfigException e) {
                return key.type == ConfigDef.Type.PASSWORD ? "not a valid " + name + " (value hidden)" : e.getMessage();
            }
        }
        Fixed f = fixed.get(name);
        if (f != null && f.allowed().stream().noneMatch(a -> a.equalsIgnoreCase(value.trim()))) {
            return "cannot be changed: " + f.why() + (f.allowed().isEmpty() ? "" : "; it is always " + f.allowed().get(0));
        }
        return null;
    }

    /**
     * The names among {@code settings} that hold a secret: Kafka's PASSWORD settings
     * ({@code sasl.jaas.config}, {@code ssl.keystore.password}, ...), which a properties file should
     * not hold readable by others.
     */
    public List<String> secretNames(Iterable<String> settings) {
        List<String> out = new ArrayList<>();
        for (String name : settings) {
            for (ConfigDef def : defs) {
                ConfigDef.ConfigKey key = def.configKeys().get(name);
                if (key != null && key.type == ConfigDef.Type.PASSWORD) {
                    out.add(name);
                    break;
                }
            }
        }
        return out;
    }

    /**
     * Logs a WARN when a service's configuration file holds a secret ({@code ownSecrets}, such as
     * the link secret, or a Kafka PASSWORD setting under {@code prefix}) and is readable by group or
     * others, and when the Kafka client keystore named in {@code clientProperties} is.
     */
    public void warnExposedSecrets(Path file, Properties fileProps, String prefix, Properties clientProperties, String... ownSecrets) {
        List<String> held = new ArrayList<>();
        for (String own : ownSecrets) {
            if (fileProps.getProperty(own) != null) {
                held.add(own);
            }
        }
        List<String> kafka = fileProps.stringPropertyNames().stream().filter(k -> k.startsWith(prefix))
                .map(k -> k.substring(prefix.length())).sorted().toList();
        secretNames(kafka).forEach(n -> held.add(prefix + n));
        if (!held.isEmpty()) {
            FileModes.warnIfExposed(file, "holds " + String.join(", ", held));
        }
        String keystore = clientProperties.getProperty(SslConfigs.SSL_KEYSTORE_LOCATION_CONFIG);
        if (keystore != null && !keystore.isBlank()) {
            FileModes.warnIfExposed(Path.of(keystore), "is the Kafka client keystore (" + prefix + SslConfigs.SSL_KEYSTORE_LOCATION_CONFIG + ")");
        }
    }

    /** The environment variable that sets {@code prefix + name} (see {@link io.blockrep.common.config.ConfigDef}). */
    public static String envName(String prefix, String name) {
        return io.blockrep.common.config.ConfigDef.envName(prefix + name).toUpperCase(Locale.ROOT);
    }
}
