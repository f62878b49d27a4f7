package io.blockrep.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.blockrep.replayer.copy.CopyProgress;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The replay progress output: a bar redrawn in place on a terminal, plain lines every few seconds elsewhere. */
class ProgressBarTest {
    private static final long MIB = 1 << 20;
    private final StringWriter text = new StringWriter();
    private final AtomicLong nanos = new AtomicLong(1_000_000_000L);

    private ProgressBar bar(boolean terminal) {
        return new ProgressBar(new PrintWriter(text, true), terminal, nanos::get, Duration.ofSeconds(5));
    }

    private static CopyProgress at(long era, long copiedMib) {
        return new CopyProgress("vol", era, 100 * MIB, copiedMib * MIB, 1600, copiedMib * 16, 0, copiedMib * 10_000_000L);
    }

    /** One update every 100 ms of the fake clock, from 1 MiB to 99 MiB copied: ~10 s of copying. */
    private void copyTenSeconds(ProgressBar bar) {
        for (long mib = 1; mib < 100; mib++) {
            bar.update(at(3, mib));
            nanos.addAndGet(100_000_000L);
        }
    }

    @Test
    void withoutATerminalAPlainLineEveryFewSecondsAndNoCarriageReturn() {
        ProgressBar bar = bar(false);
        copyTenSeconds(bar);
        bar.update(at(3, 100));
        bar.update(at(3, 100));
        String out = text.toString();
        assertThat(out).doesNotContain("\r");
        // at 0 s, 5 s and the completion (once, however often it is reported)
        assertThat(out.lines()).hasSize(3);
        assertThat(out.lines().toList().get(0)).startsWith("vol era 3: 1.0% copied, 1.0 MiB of 100.0 MiB");
        assertThat(out.lines().toList().get(2)).startsWith("vol era 3: 100.0% copied");
    }

    @Test
    void onATerminalTheBarIsRedrawnInPlaceAndEndedBeforeAnyOtherLine() {
        ProgressBar bar = bar(true);
        copyTenSeconds(bar);
        bar.line("vol: CUTOVER, 2 dirty region(s)");
        String out = text.toString();
        // every 200 ms over ~10 s, each drawing over the last
        assertThat(out.chars().filter(c -> c == '\r').count()).isBetween(45L, 55L);
        assertThat(out.split("\n")).as("the bar stays on one line, ended once").hasSize(2);
        assertThat(out).endsWith(System.lineSeparator() + "vol: CUTOVER, 2 dirty region(s)" + System.lineSeparator());
    }

    @Test
    void eachEraCompletesOnALineOfItsOwn() {
        ProgressBar bar = bar(false);
        bar.update(at(3, 100));
        bar.update(at(4, 100));
        assertThat(text.toString().lines()).hasSize(2).allMatch(l -> l.contains("100.0% copied"));
    }

    @Test
    void withoutAConsoleAutoIsPlainAndAnExplicitStyleOverridesTheCheck() {
        assertThat(ProgressBar.isTerminal(null)).isFalse();
        StringWriter forced = new StringWriter();
        ProgressBar.forOutput(new PrintWriter(forced, true), ProgressBar.Style.BAR).update(at(3, 1));
        assertThat(forced.toString()).startsWith("\r");
        StringWriter plain = new StringWriter();
        ProgressBar.forOutput(new PrintWriter(plain, true), ProgressBar.Style.PLAIN).update(at(3, 1));
        assertThat(plain.toString()).doesNotContain("\r").startsWith("vol era 3:");
    }
}
