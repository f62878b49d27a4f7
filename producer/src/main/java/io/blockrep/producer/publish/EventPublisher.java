package io.blockrep.producer.publish;

import io.blockrep.schemas.VolumeEvent;
import io.blockrep.schemas.registry.SchemaRegistryUnavailableException;
import io.blockrep.schemas.registry.ValueCodecs;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.RetriableException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes {@link VolumeEvent}s to the events topic, keyed by volume id (so a volume's events keep
 * their order in one partition).
 *
 * <p>Threading: {@link #publish} is thread-safe and never waits for Kafka; it appends to a bounded
 * buffer, dropping the oldest event (counted, WARN) when full. One owner thread sends the events one at
 * a time in order and waits for each acknowledgement: events are few, and stop-and-wait keeps their
 * order across failures. While Kafka is unreachable the head event is retried with backoff; the buffer
 * is flushed when Kafka answers again. The topic must exist ({@link DirtyPublisher} creates it).
 *
 * <p>Failures: a retriable Kafka failure, or a schema registry that cannot be reached to make the value codecs, keeps the head event and retries it with backoff up to 10 s; any
 * other failure to send an event, or to encode it, drops that event (WARN, counted). Anything else the loop throws (a bug, a producer
 * that cannot be created) restarts it with a new Kafka producer after a bounded backoff ({@link RestartingLoop};
 * the buffered events are kept); only a {@link VirtualMachineError} or a FatalException ends it.
 */
public final class EventPublisher implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EventPublisher.class);
    private static final long MAX_BACKOFF_MS = 10_000;

    private final PublisherConfig config;
    private final ValueCodecs codecs;
    private final String topic;
    private final ArrayDeque<VolumeEvent> buffer = new ArrayDeque<>();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final Thread owner;
    private volatile boolean running = true;
    private volatile boolean reachable;
    private volatile Throwable lastError;
    private final AtomicLong published = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    private final RestartingLoop restarts;

    private EventPublisher(PublisherConfig config, ValueCodecs codecs, PublisherListener listener) {
        this.config = config;
        this.codecs = codecs;
        this.topic = config.topics().events();
        this.restarts = new RestartingLoop("event publisher", Clock.systemUTC(), new RestartingLoop.Owner() {
            @Override
            public void reset(Throwable cause) {
                lastError = cause;
                reachable = false;
                try {
                    listener.onRestart("event publisher", cause, restarts.stats().attempt());
                } catch (RuntimeException le) {
                    LOG.warn("publisher listener failed", le);
                }
            }

            @Override
            public void stopped(Throwable cause) {
                lastError = cause;
                LOG.error("event publisher stopped", cause);
            }

            @Override
            public boolean await(long millis) throws InterruptedException {
                awaitHead(millis);
                return running;
            }
        });
        this.owner = new Thread(this::run, "blockrep-event-publisher-" + config.node());
        this.owner.setDaemon(true);
    }

    public static EventPublisher start(PublisherConfig config) {
        return start(config, PublisherListener.NONE);
    }

    /** Starts the owner thread; {@code listener} hears of the loop's restarts ({@link PublisherListener#onRestart}). */
    public static EventPublisher start(PublisherConfig config, PublisherListener listener) {
        return start(config, ValueCodecs.withoutRegistry(), listener);
    }

    /** As {@link #start(PublisherConfig, PublisherListener)}, events encoded with {@code codecs}' writers. */
    public static EventPublisher start(PublisherConfig config, ValueCodecs codecs, PublisherListener listener) {
        EventPublisher p = new EventPublisher(config, codecs, listener);
        p.owner.start();
        return p;
    }

    /** Queues an event; never blocks on Kafka. */
    public void publish(VolumeEvent event) {
        lock.lock();
        try {
            if (buffer.size() >= config.eventBufferCapacity()) {
                VolumeEvent oldest = buffer.pollFirst();
                long n = dropped.incrementAndGet();
                if (n == 1 || n % 1000 == 0) {
                    LOG.warn("event buffer full ({} events, Kafka unreachable?): dropped the oldest, {} dropped so far; last dropped {} {} of {}",
                            config.eventBufferCapacity(), n, oldest.getType(), oldest.getTimeMillis(), oldest.getVolume());
                }
            }
            buffer.addLast(event);
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    public boolean kafkaReachable() {
        return reachable;
    }

    public long eventsPublished() {
        return published.get();
    }

    public long eventsDropped() {
        return dropped.get();
    }

    public int eventsBuffered() {
        lock.lock();
        try {
            return buffer.size();
        } finally {
            lock.unlock();
        }
    }

    public Optional<Throwable> lastError() {
        return Optional.ofNullable(lastError);
    }

    /** Restarts of the owner loop after unexpected failures. */
    public PublisherStats.Restarts restarts() {
        return restarts.stats();
    }

    /** Stops the owner thread; events still buffered are dropped (they are also in the log). */
    @Override
    public void close() {
        running = false;
        lock.lock();
        try {
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        owner.interrupt();
        try {
            owner.join(config.deliveryTimeout().toMillis() + 5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void run() {
        try {
            restarts.run(this::loop);
        } finally {
            reachable = false;
        }
    }

    /** One run of the owner loop, with its own Kafka producer; InterruptedException when closing. */
    private void loop() throws InterruptedException {
        long backoff = 250;
        KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(KafkaClients.producer(config, "blockrep-" + config.node() + "-events"));
        try {
            while (running) {
                VolumeEvent head = awaitHead(Long.MAX_VALUE);
                if (head == null) {
                    continue;
                }
                if (trySend(producer, head)) {
                    removeHead(head);
                    restarts.recovered();
                    backoff = 250;
                } else {
                    awaitHead(backoff);
                    backoff = Math.min(MAX_BACKOFF_MS, backoff * 2);
                }
            }
        } catch (org.apache.kafka.common.errors.InterruptException e) {
            // close() interrupts the owner; anything still buffered is dropped with the process.
            LOG.debug("event publisher stopping with {} event(s) unsent", eventsBuffered());
            throw new InterruptedException("closing");
        } finally {
            reachable = false;
            // Clear the interrupt that stopped the loop, or the producer's bounded close fails at once.
            boolean interrupted = Thread.interrupted();
            closeQuietly(producer);
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Bounded: a plain {@code close()} would wait without limit for records a broker that is down never takes. */
    private void closeQuietly(KafkaProducer<byte[], byte[]> producer) {
        try {
            producer.close(config.maxBlock());
        } catch (RuntimeException e) {
            LOG.debug("closing the events producer", e);
        }
    }

    private boolean trySend(KafkaProducer<byte[], byte[]> producer, VolumeEvent event) throws InterruptedException {
        ProducerRecord<byte[], byte[]> record;
        io.blockrep.schemas.codec.RecordCodec<VolumeEvent> codec;
        try {
            codec = codecs.writers().volumeEvent();
        } catch (SchemaRegistryUnavailableException e) {
            return failed(e, event); // kept and retried, as when Kafka is down
        }
        try {
            record = new ProducerRecord<>(topic, event.getVolume().getBytes(StandardCharsets.UTF_8), codec.encode(io.blockrep.schemas.EventHost.stamped(event)));
        } catch (RuntimeException e) {
            return failed(e, event); // an event that cannot be encoded never will be: dropped, not retried
        }
        try {
            producer.send(record).get(config.maxBlock().toMillis() + config.deliveryTimeout().toMillis() + 1_000, TimeUnit.MILLISECONDS);
            published.incrementAndGet();
            reachable = true;
            return true;
        } catch (ExecutionException e) {
            return failed(e.getCause(), event);
        } catch (TimeoutException | KafkaException e) {
            return failed(e, event);
        }
    }

    /** Returns false to retry the event later; a non-retriable failure drops it (with a WARN) instead. */
    private boolean failed(Throwable e, VolumeEvent event) {
        lastError = e;
        if (e instanceof RetriableException || e instanceof TimeoutException || e instanceof SchemaRegistryUnavailableException) {
            if (reachable) {
                LOG.warn("Kafka or the schema registry unreachable for the event publisher, buffering events: {}", e.toString());
            }
            reachable = false;
            return false;
        }
        dropped.incrementAndGet();
        LOG.warn("dropping event {} of {}: {}", event.getType(), event.getVolume(), e.toString());
        return true;
    }

    /** Waits up to {@code millis} for a head event, or until close; returns it without removing it. */
    private VolumeEvent awaitHead(long millis) throws InterruptedException {
        lock.lock();
        try {
            long nanos = millis == Long.MAX_VALUE ? TimeUnit.SECONDS.toNanos(1) : TimeUnit.MILLISECONDS.toNanos(millis);
            if (millis != Long.MAX_VALUE) {
                while (running && nanos > 0) {
                    nanos = changed.awaitNanos(nanos);
                }
                return null;
            }
            if (buffer.isEmpty() && running) {
                changed.awaitNanos(nanos);
            }
            return running ? buffer.peekFirst() : null;
        } finally {
            lock.unlock();
        }
    }

    private void removeHead(VolumeEvent sentEvent) {
        lock.lock();
        try {
            if (buffer.peekFirst() == sentEvent) {
                buffer.pollFirst();
            }
        } finally {
            lock.unlock();
        }
    }
}
