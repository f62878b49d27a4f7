package io.blockrep.testkit;

import java.lang.management.LockInfo;
import java.lang.management.ManagementFactory;
import java.lang.management.MonitorInfo;
import java.lang.management.ThreadInfo;
import java.util.Arrays;
import java.util.Comparator;

/**
 * A thread dump of this JVM for a failure message: the evidence a hang leaves, which a timeout
 * alone does not. Unlike {@link ThreadInfo#toString()} it prints every frame, the monitors each
 * thread holds and the one it waits for.
 */
public final class ThreadDump {
    private ThreadDump() {
    }

    /** Every thread that has a frame in a class whose name starts with {@code packagePrefix}, sorted by name. */
    public static String of(String packagePrefix) {
        ThreadInfo[] all = ManagementFactory.getThreadMXBean().dumpAllThreads(true, true);
        StringBuilder out = new StringBuilder();
        Arrays.stream(all)
                .filter(t -> Arrays.stream(t.getStackTrace()).anyMatch(f -> f.getClassName().startsWith(packagePrefix)))
                .sorted(Comparator.comparing(ThreadInfo::getThreadName))
                .forEach(t -> format(t, out));
        return out.toString();
    }

    private static void format(ThreadInfo t, StringBuilder out) {
        out.append('"').append(t.getThreadName()).append("\" ").append(t.getThreadState());
        if (t.getLockName() != null) {
            out.append(" on ").append(t.getLockName());
        }
        if (t.getLockOwnerName() != null) {
            out.append(" owned by \"").append(t.getLockOwnerName()).append('"');
        }
        out.append('\n');
        StackTraceElement[] frames = t.getStackTrace();
        MonitorInfo[] monitors = t.getLockedMonitors();
        for (int i = 0; i < frames.length; i++) {
            out.append("    at ").append(frames[i]).append('\n');
            for (MonitorInfo m : monitors) {
                if (m.getLockedStackDepth() == i) {
                    out.append("    - locked ").append(m).append('\n');
                }
            }
        }
        for (LockInfo l : t.getLockedSynchronizers()) {
            out.append("    - holds ").append(l).append('\n');
        }
        out.append('\n');
    }
}
