package io.blockrep.producer.nbd;

/** TLS settings of the NBD server (NBD_OPT_STARTTLS). */
public final class NbdTls {
}
