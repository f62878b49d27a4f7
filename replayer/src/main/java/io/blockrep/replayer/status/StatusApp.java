package io.blockrep.replayer.status;

import io.blockrep.common.InvalidInputException;
import io.blockrep.common.config.HostPort;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The status app: {@link StatusTopology} in a {@link KafkaStreams} client, plus its {@link StatusHttp}
 * query. Runs inside the replayer service ({@code replayer.status.app.enabled}) and alone
 * ({@code blockrep status-app}). Its application id is {@code <prefix>status-app}, so all instances of
 * one prefix share the work by partition; its state directory holds only Streams' bookkeeping (the
 * stores are in memory and restored from their changelogs).
 *
 * <p>Threads: one Streams thread; a failure on it (not a poison record: those are skipped) replaces the
 * thread, and is logged. {@link #close()} stops the HTTP listener, then Streams (committing what it has
 * folded). Thread-safe.
 */
public final class StatusApp implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(StatusApp.class);
    private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(30);

    /**
     * @param clientProperties bootstrap servers plus pass-through client settings (security, timeouts)
     * @param listen the HTTP query listener (port 0 = any free port)
     */
    public record Settings(Properties clientProperties, String topicPrefix, StatusTopics topics, Path stateDir, HostPort listen) {
        public String applicationId() {
            return topicPrefix + "status-app";
        }

        /**
         * The status app of a replayer's configuration: its Kafka settings, prefix and replayer.status.* keys; the
         * source topics are the replayer's (with replayer.mirror.*, the mirrored peer topics beside the local ones).
         */
        public static Settings of(io.blockrep.replayer.ReplayerConfig config) {
            io.blockrep.replayer.index.SourceTopics sources = io.blockrep.replayer.index.SourceTopics.of(config);
            io.blockrep.schemas.topic.TopicLayout layout = new io.blockrep.schemas.topic.TopicLayout(config.topicPrefix());
            return new Settings(config.kafkaClientProperties(), config.topicPrefix(),
                    new StatusTopics(sources.dirty(), sources.events(), layout.status(), layout.dlq()), config.statusApp().stateDir(),
                    config.statusApp().listen());
        }
    }

    private final KafkaStreams streams;
    private final StatusHttp http;
    private final AtomicLong poisonRecords;
    private final CompletableFuture<Void> running = new CompletableFuture<>();

    private StatusApp(KafkaStreams streams, StatusHttp http, AtomicLong poisonRecords) {
        this.streams = streams;
        this.http = http;
        this.poisonRecords = poisonRecords;
    }

    /** Checks that the source topics exist (a clear error when not), then starts Streams and the HTTP listener. */
    public static StatusApp start(Settings settings, StatusCodecs codecs) {
        requireTopics(settings);
        AtomicLong poison = new AtomicLong();
        KafkaStreams streams = new KafkaStreams(StatusTopology.build(settings.topics(), codecs, poison), streamsProperties(settings));
        StatusApp[] app = new StatusApp[1];
        streams.setUncaughtExceptionHandler(e -> {
            LOG.error("status app: the Streams thread failed and is replaced: {}", e.toString(), e);
            return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.REPLACE_THREAD;
        });
        streams.setStateListener((to, from) -> {
            if (to == KafkaStreams.State.RUNNING && app[0] != null) {
                app[0].running.complete(null);
            }
        });
        StatusHttp http = null;
        try {
            http = StatusHttp.start(settings.listen(), () -> streams.store(StoreQueryParameters.fromNameAndType(
                    StatusTopology.statusStore(), QueryableStoreTypes.<String, VolumeStatus>keyValueStore())));
            app[0] = new StatusApp(streams, http, poison);
            streams.start();
            LOG.info("status app {}: {} + {} into {}", settings.applicationId(), settings.topics().dirty(), settings.topics().events(),
                    settings.topics().status());
            return app[0];
        } catch (RuntimeException e) {
            if (http != null) {
                http.close();
            }
            streams.close(CLOSE_TIMEOUT);
            throw e;
        }
    }

    static Properties streamsProperties(Settings s) {
        Properties p = new Properties();
        p.putAll(s.clientProperties());
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, s.applicationId());
        p.put(StreamsConfig.STATE_DIR_CONFIG, s.stateDir().toAbsolutePath().toString());
        p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, 1);
        p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 1000);
        return p;
    }

    private static void requireTopics(Settings s) {
        List<String> wanted = new ArrayList<>(s.topics().dirty());
        wanted.addAll(s.topics().events());
        wanted.add(s.topics().status());
        wanted.add(s.topics().dlq());
        Set<String> existing;
        try (Admin admin = Admin.create(s.clientProperties())) {
            existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
            throw new io.blockrep.common.RetriableException("status app: cannot list the topics of "
                    + s.clientProperties().getProperty("bootstrap.servers") + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new io.blockrep.common.RetriableException("interrupted while listing topics", e);
        }
        List<String> missing = wanted.stream().filter(t -> !existing.contains(t)).toList();
        if (!missing.isEmpty()) {
            throw new InvalidInputException("status app: topic(s) " + missing + " do not exist yet; a facility creates them when it starts");
        }
    }

    /** Where the HTTP query listens. */
    public HostPort httpAddress() {
        return http.address();
    }

    /** Records copied to the DLQ since start. */
    public long poisonRecords() {
        return poisonRecords.get();
    }

    /** Completes when Streams first reaches RUNNING (its tasks assigned and restored). */
    public CompletionStage<Void> running() {
        return running;
    }

    public KafkaStreams.State state() {
        return streams.state();
    }

    @Override
    public void close() {
        http.close();
        if (!streams.close(CLOSE_TIMEOUT)) {
            LOG.warn("status app: Streams did not stop within {} s", CLOSE_TIMEOUT.toSeconds());
        }
        LOG.info("status app stopped ({} poison record(s) copied to the DLQ)", poisonRecords.get());
    }
}
