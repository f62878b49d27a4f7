package io.blockrep.producer.nbd;

/**
 * Told of every NBD request a connection answered, for metrics. {@link #forExport} is asked once per connection,
 * when it has chosen its export; the returned meter is then called for each reply from whichever thread completed
 * the request, so it must be thread-safe and must not block or allocate.
 */
public interface NbdRequestMeters {
    NbdRequestMeters NONE = export -> ExportMeter.NONE;

    /** The meter of the requests to {@code export}. */
    ExportMeter forExport(String export);

    /** The commands metered; {@link #OTHER} is an unknown command. */
    enum Command {
        READ, WRITE, FLUSH, TRIM, WRITE_ZEROES, OTHER;

        static Command of(int type) {
            return switch (type) {
                case NbdWire.CMD_READ -> READ;
                case NbdWire.CMD_WRITE -> WRITE;
                case NbdWire.CMD_FLUSH -> FLUSH;
                case NbdWire.CMD_TRIM -> TRIM;
                case NbdWire.CMD_WRITE_ZEROES -> WRITE_ZEROES;
                default -> OTHER;
            };
        }
    }

    /** The requests of one export. */
    interface ExportMeter {
        ExportMeter NONE = new ExportMeter() {
            @Override
            public void completed(Command command, long bytes, long nanos, boolean failed) {
            }

            @Override
            public void refused(Command command) {
            }
        };

        /**
         * The export finished a request after {@code nanos} (from the request, payload read, handed to the export to its reply queued);
         * {@code bytes} is the payload read or written (the range of a TRIM or WRITE_ZEROES), {@code failed} an error reply.
         */
        void completed(Command command, long bytes, long nanos, boolean failed);

        /** A request answered with an error before it reached the export (out of range, read-only, unknown). */
        void refused(Command command);
    }
}
