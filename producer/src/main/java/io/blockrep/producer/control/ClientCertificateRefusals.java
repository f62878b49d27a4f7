package io.blockrep.producer.control;

import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Says why the control API's TLS handshake refused a client certificate, without a log line per attempt:
 * the listener given to {@link io.blockrep.common.config.ControlTls#sslContext(io.blockrep.common.config.ControlTls.RefusalListener)}.
 * Thread-safe (called on handshaking request threads).
 */
public final class ClientCertificateRefusals {
    /** Under the control server's name: these lines belong with its other ones. */
    private static final Logger LOG = LoggerFactory.getLogger(ControlServer.class);

    private ClientCertificateRefusals() {
    }

    /** Most one WARN per this interval for refused client certificates; the others are counted, and logged at DEBUG. */
    static final Duration REFUSAL_WARN_INTERVAL = Duration.ofMinutes(1);
    private static final AtomicLong LAST_REFUSAL_WARN = new AtomicLong(System.nanoTime() - REFUSAL_WARN_INTERVAL.toNanos());
    private static final AtomicLong REFUSALS_NOT_WARNED = new AtomicLong();

    /**
     * A client certificate the trust store refused (expired, another CA). Its connection fails the handshake; this says why, at WARN at most once a minute.
     * A client that sends no certificate at all fails before the trust store is asked, and is not logged here.
     */
    public static void refused(X509Certificate[] chain, String peerHost, Exception reason) {
        String subject = chain == null || chain.length == 0 ? "(none)" : chain[0].getSubjectX500Principal().getName();
        long now = System.nanoTime();
        long last = LAST_REFUSAL_WARN.get();
        if (now - last >= REFUSAL_WARN_INTERVAL.toNanos() && LAST_REFUSAL_WARN.compareAndSet(last, now)) {
            long more = REFUSALS_NOT_WARNED.getAndSet(0);
            LOG.warn("control API refused the TLS client certificate '{}' from {}: {}{}", subject, peerHost, reason.getMessage(),
                    more == 0 ? "" : " (" + more + " more refused since the last warning)");
        } else {
            REFUSALS_NOT_WARNED.incrementAndGet();
            LOG.debug("control API refused the TLS client certificate '{}' from {}: {}", subject, peerHost, reason.getMessage());
        }
    }
}
