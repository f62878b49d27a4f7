package io.blockrep.cli;

import io.blockrep.common.Sizes;
import io.blockrep.replayer.copy.CopyProgress;
import java.io.Console;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * The progress of a copy on the command line: bytes, rate, ETA. On a terminal a one-line bar redrawn
 * in place (carriage return) at most every 200 ms; otherwise (output to a file, a pipe, a CI log, a
 * cron mail) a plain line every {@code plainInterval}, and one when an era's copy completes, so a log
 * gets neither a carriage-return soup nor one line per data set.
 *
 * <p>Not thread-safe: one caller (the command's thread). Time comes from {@code nanoClock}.
 */
final class ProgressBar {
    /** {@code --progress}: {@code auto} draws a bar when the output is a terminal, plain lines otherwise. */
    enum Style { AUTO, BAR, PLAIN }

    static final Duration PLAIN_INTERVAL = Duration.ofSeconds(5);
    private static final long REDRAW_NANOS = 200_000_000L;
    private static final int WIDTH = 30;

    private final PrintWriter out;
    private final boolean terminal;
    private final LongSupplier nanoClock;
    private final long intervalNanos;
    private long lastDraw;
    private boolean drawn;
    private boolean barOpen;
    private long completedEra = -1;

    ProgressBar(PrintWriter out, boolean terminal, LongSupplier nanoClock, Duration plainInterval) {
        this.out = out;
        this.terminal = terminal;
        this.nanoClock = nanoClock;
        this.intervalNanos = plainInterval.toNanos();
    }

    /** A bar for {@code style} on the process's standard output. */
    static ProgressBar forOutput(PrintWriter out, Style style) {
        boolean terminal = switch (style) {
            case BAR -> true;
            case PLAIN -> false;
            case AUTO -> isTerminal(System.console());
        };
        return new ProgressBar(out, terminal, System::nanoTime, PLAIN_INTERVAL);
    }

    /**
     * Java 17 has a console only when standard input and output are both a terminal; from Java 22 a
     * console may exist for redirected output too, and {@code Console.isTerminal()} tells them apart.
     */
    static boolean isTerminal(Console console) {
        if (console == null) {
            return false;
        }
        try {
            return (Boolean) Console.class.getMethod("isTerminal").invoke(console);
        } catch (ReflectiveOperationException | ClassCastException olderJdk) {
            return true;
        }
    }

    void update(CopyProgress p) {
        boolean complete = p.bytesCopied() >= p.bytesTotal();
        if (complete && p.era() == completedEra) {
            return;
        }
        long now = nanoClock.getAsLong();
        long every = terminal ? REDRAW_NANOS : intervalNanos;
        if (drawn && now - lastDraw < every && !complete) {
            return;
        }
        drawn = true;
        lastDraw = now;
        if (complete) {
            completedEra = p.era();
        }
        if (terminal) {
            out.print("\r" + bar(p) + "   ");
            barOpen = !complete;
            if (complete) {
                out.println();
            }
        } else {
            out.println(plain(p));
        }
        out.flush();
    }

    /** A line of its own; on a terminal, a bar being drawn is ended first. */
    void line(String text) {
        if (barOpen) {
            out.println();
            barOpen = false;
        }
        out.println(text);
        out.flush();
    }

    private static String bar(CopyProgress p) {
        double fraction = fraction(p);
        int filled = (int) Math.round(fraction * WIDTH);
        return String.format(Locale.ROOT, "  era %-4d [%s%s] %5.1f%%  %s / %s  %s/s  ETA %s  skipped %d", p.era(),
                "#".repeat(filled), " ".repeat(WIDTH - filled), fraction * 100, Sizes.human(p.bytesCopied()),
                Sizes.human(p.bytesTotal()), Sizes.human((long) p.bytesPerSecond()), eta(p), p.regionsSkipped());
    }

    private static String plain(CopyProgress p) {
        return String.format(Locale.ROOT, "%s era %d: %.1f%% copied, %s of %s, %s/s, ETA %s, %d region(s) skipped", p.volume(),
                p.era(), fraction(p) * 100, Sizes.human(p.bytesCopied()), Sizes.human(p.bytesTotal()),
                Sizes.human((long) p.bytesPerSecond()), eta(p), p.regionsSkipped());
    }

    private static double fraction(CopyProgress p) {
        return p.bytesTotal() == 0 ? 1 : Math.min(1, (double) p.bytesCopied() / p.bytesTotal());
    }

    private static String eta(CopyProgress p) {
        long eta = p.etaSeconds();
        return eta < 0 ? "-" : eta + "s";
    }
}
