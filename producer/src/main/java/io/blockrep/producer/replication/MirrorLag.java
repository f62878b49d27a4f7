package io.blockrep.producer.replication;

/**
 * What an async volume's mirror queue holds now and has held: the writes acknowledged here and not
 * yet by the peer (bytes, count, and the age in seconds of the oldest, the RPO exposure), the most
 * bytes it held (high-water mark), its byte cap, how many times a full queue forced LOGGING
 * ({@code overflows}) and how many times the queue was dropped for any reason ({@code drops}: full,
 * lag past max.lag, a failed send).
 */
public record MirrorLag(long lagBytes, long lagWrites, double lagSeconds, long highWaterBytes, long queueCapBytes, long overflows,
                        long drops) {
}
