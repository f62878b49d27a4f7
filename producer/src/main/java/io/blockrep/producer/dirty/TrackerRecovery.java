package io.blockrep.producer.dirty;

import io.blockrep.common.FatalException;
import io.blockrep.common.volume.RegionGeometry;
import io.blockrep.common.volume.VolumeMetadata;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.roaringbitmap.RoaringBitmap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads a volume's dirty-tracking files when {@link DirtyTracker} opens, and never trusts a damaged
 * or missing one: whatever it cannot read becomes more regions dirty (or hot), never fewer.
 *
 * <pre>
 * found                                              done
 * dirty-N.bitmap page fails its CRC                  every region of the page dirty in N (BitmapFile repairs it)
 * dirty-N.bitmap of a listed era missing, truncated, moved aside as dirty-N.bitmap.damaged-&lt;millis&gt; if present;
 *   bad header or unknown format                       recreated with every region dirty in N
 * eras.json corrupt, or missing while bitmaps exist  every era found on disk becomes pending with every region
 *                                                      dirty; a new open era above them (all dirty if none was found)
 * activity.bitmap page fails its CRC                 every region of the page hot, so dirty after the open
 * activity.bitmap truncated or bad header            moved aside, recreated with every region hot
 * activity.bitmap missing after an unclean stop      every region hot (the facility's clean-stop marker tells)
 * a file of another volume, node, geometry or era    refused (FatalException): a misconfiguration, not damage
 * an I/O error                                       refused (FatalException)
 * </pre>
 *
 * Each case is logged at ERROR and returned as a {@link StateDamage}, for the facility's event and
 * status. "Every region" leaves out regions wholly inside the excluded ranges; a repaired page keeps
 * every bit of its page set. Single-threaded: used once, by the opening thread.
 */
final class TrackerRecovery {
    private static final Pattern DIRTY_FILE = Pattern.compile("dirty-(\\d+)\\.bitmap");
    private static final Logger log = LoggerFactory.getLogger(DirtyTracker.class);

    /** What the files said, after repairs: the open era's bitmap, the pending eras, and the activity log. */
    record Opened(DirtyBitmap open, TreeMap<Long, RoaringBitmap> closed, ActivityLog activity, List<StateDamage> damage) {
    }

    private final Path dir;
    private final VolumeMetadata meta;
    private final String nodeId;
    private final ExcludedRanges excluded;
    private final List<StateDamage> damage = new ArrayList<>();

    private TrackerRecovery(Path dir, VolumeMetadata meta, String nodeId, ExcludedRanges excluded) {
        this.dir = dir;
        this.meta = meta;
        this.nodeId = nodeId;
        this.excluded = excluded;
    }

    static Opened open(Path dir, VolumeMetadata meta, String nodeId, ExcludedRanges excluded, long firstEra, boolean cleanStop) {
        return new TrackerRecovery(dir, meta, nodeId, excluded).open(firstEra, cleanStop);
    }

    private Opened open(long firstEra, boolean cleanStop) {
        Path erasFile = dir.resolve(DirtyTracker.ERAS_FILE);
        boolean erasExist = Files.exists(erasFile);
        ErasFile.Eras eras = null;
        String erasProblem = null;
        if (erasExist) {
            try {
                eras = ErasFile.read(erasFile, meta.id(), nodeId);
            } catch (ErasFile.CorruptErasException e) {
                erasProblem = e.problem();
            }
        }
        TreeMap<Long, Path> files = listBitmaps();
        boolean trackedBefore = true;
        TreeMap<Long, RoaringBitmap> closed = new TreeMap<>();
        DirtyBitmap open;
        if (eras != null) {
            removeLeftovers(files, eras.openEra(), eras.closedEras());
            for (long era : eras.closedEras()) {
                try (BitmapFile f = openOrRecreate(dirtyHeader(era))) {
                    closed.put(era, f.toRoaring());
                }
            }
            open = DirtyBitmap.of(openOrRecreate(dirtyHeader(eras.openEra())));
            if (!Arrays.equals(ErasFile.encode(eras), readQuietly(erasFile))) {
                ErasFile.write(erasFile, eras); // an older format gains its checksum now
            }
        } else if (erasProblem == null && (files.isEmpty() || (files.size() == 1 && isEmptyBitmap(files.firstEntry().getValue())))) {
            // a new volume, or an empty first era left by a first open interrupted before eras.json
            removeLeftovers(files, -1, List.of());
            trackedBefore = erasExist; // nothing was ever marked: eras.json comes before any mark
            open = DirtyBitmap.of(BitmapFile.create(dir.resolve(DirtyTracker.dirtyFileName(firstEra)), dirtyHeader(firstEra)));
            ErasFile.write(erasFile, new ErasFile.Eras(meta.id(), nodeId, firstEra, List.of()));
        } else {
            open = rebuildEras(erasFile, erasProblem, files, firstEra, closed);
        }
        ActivityLog activity = ActivityLog.of(openActivity(trackedBefore, cleanStop, open.era()));
        return new Opened(open, closed, activity, List.copyOf(damage));
    }

    /** eras.json is corrupt, or missing while bitmaps exist: every era found is pending with every region dirty. */
    private DirtyBitmap rebuildEras(Path erasFile, String erasProblem, TreeMap<Long, Path> files, long firstEra,
            TreeMap<Long, RoaringBitmap> closed) {
        String cause = erasProblem != null ? "is corrupt: " + erasProblem
                : "is missing while " + files.values().stream().map(p -> p.getFileName().toString()).toList() + " exist";
        long openEra = Math.max(files.isEmpty() ? 0 : files.lastKey() + 1, firstEra);
        for (long era : files.keySet()) {
            try (BitmapFile f = openOrRecreate(dirtyHeader(era))) {
                fill(f);
                closed.put(era, f.toRoaring());
            }
        }
        BitmapFile openFile = BitmapFile.create(dir.resolve(DirtyTracker.dirtyFileName(openEra)), dirtyHeader(openEra));
        if (files.isEmpty()) {
            fill(openFile);
        }
        ErasFile.write(erasFile, new ErasFile.Eras(meta.id(), nodeId, openEra, List.copyOf(closed.keySet())));
        report(DirtyTracker.ERAS_FILE, cause, fillCount(), files.isEmpty() ? "marked dirty in the new open era " + openEra
                : "marked dirty in each era found on disk " + files.keySet() + "; new open era " + openEra);
        return DirtyBitmap.of(openFile);
    }

    private BitmapFile openActivity(boolean trackedBefore, boolean cleanStop, long openEra) {
        BitmapFile.Header header = ActivityLog.header(meta.id(), nodeId, meta.geometry());
        Path file = dir.resolve(DirtyTracker.ACTIVITY_FILE);
        if (Files.exists(file)) {
            return openOrRecreate(header);
        }
        BitmapFile f = BitmapFile.create(file, header);
        if (trackedBefore && !cleanStop) {
            fill(f);
            report(DirtyTracker.ACTIVITY_FILE, "is missing after an unclean stop", fillCount(),
                    "treated as hot, so marked dirty in era " + openEra + " (HOT_AFTER_CRASH)");
        } else if (trackedBefore) {
            log.warn("volume {}: {} was missing after a clean stop (nothing was hot); recreated empty", meta.id(), file);
        }
        return f;
    }

    /**
     * Opens a bitmap, reporting pages repaired by their checksum; a file that cannot be trusted as a
     * whole is moved aside and recreated with every region set. A foreign file is refused.
     */
    private BitmapFile openOrRecreate(BitmapFile.Header header) {
        Path file = file(header);
        try {
            BitmapFile f = BitmapFile.open(file, header);
            if (f.upgradedFrom() != 0) {
                log.info("volume {}: upgraded {} from bitmap format {} to {}", meta.id(), file, f.upgradedFrom(), BitmapFile.FORMAT_VERSION);
            }
            if (!f.damagedPages().isEmpty()) {
                long regions = f.damagedPages().stream().map(f::pageRegions).mapToLong(r -> r.last() - r.first() + 1).sum();
                List<Integer> pages = f.damagedPages();
                report(file.getFileName().toString(), (pages.size() == 1 ? "page " : "pages ")
                        + pages.stream().map(String::valueOf).collect(Collectors.joining(", ")) + " checksum mismatch", regions, action(header));
            }
            return f;
        } catch (CorruptBitmapException e) {
            Path aside = null;
            try {
                if (Files.exists(file)) {
                    aside = file.resolveSibling(file.getFileName() + ".damaged-" + System.currentTimeMillis());
                    Files.move(file, aside);
                }
            } catch (IOException io) {
                throw new FatalException("cannot move damaged bitmap " + file + " aside (" + e.problem() + "): " + io, io);
            }
            BitmapFile f = BitmapFile.create(file, header);
            fill(f);
            report(file.getFileName().toString(), e.problem(), fillCount(),
                    action(header) + (aside == null ? "" : "; the damaged file was kept as " + aside.getFileName()));
            return f;
        }
    }

    /** Sets every region not wholly inside the excluded ranges, durably. */
    private void fill(BitmapFile f) {
        for (RegionRange r : fillRanges()) {
            for (long region = r.first(); region <= r.last(); region++) {
                f.set(region);
            }
        }
        try {
            f.flush();
        } catch (IOException e) {
            throw new FatalException("cannot write bitmap " + f.path() + ": " + e, e);
        }
    }

    private List<RegionRange> fillRanges() {
        RegionGeometry g = meta.geometry();
        return excluded.regionsToMark(0, g.size(), g);
    }

    private long fillCount() {
        return fillRanges().stream().mapToLong(r -> r.last() - r.first() + 1).sum();
    }

    private void report(String file, String cause, long regions, String action) {
        StateDamage d = new StateDamage(file, cause, regions, action);
        log.error("volume {}: state damaged: {}", meta.id(), d.summary());
        damage.add(d);
    }

    private static String action(BitmapFile.Header h) {
        return h.kind() == BitmapFile.Kind.DIRTY ? "marked dirty in era " + h.era()
                : "marked hot, so dirty in the open era (HOT_AFTER_CRASH)";
    }

    private BitmapFile.Header dirtyHeader(long era) {
        return DirtyBitmap.header(meta.id(), nodeId, meta.geometry(), era);
    }

    private Path file(BitmapFile.Header h) {
        return dir.resolve(h.kind() == BitmapFile.Kind.DIRTY ? DirtyTracker.dirtyFileName(h.era()) : DirtyTracker.ACTIVITY_FILE);
    }

    private static boolean isEmptyBitmap(Path file) {
        try {
            BitmapFile.Header h = BitmapFile.readHeader(file);
            try (BitmapFile f = BitmapFile.open(file, h)) {
                return f.cardinality() == 0 && f.damagedPages().isEmpty();
            }
        } catch (FatalException e) {
            return false; // unreadable: not known to be empty, so handled conservatively
        }
    }

    private static byte[] readQuietly(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            return new byte[0];
        }
    }

    private TreeMap<Long, Path> listBitmaps() {
        TreeMap<Long, Path> files = new TreeMap<>();
        try (Stream<Path> list = Files.list(dir)) {
            list.forEach(p -> {
                Matcher m = DIRTY_FILE.matcher(p.getFileName().toString());
                if (m.matches()) {
                    files.put(Long.parseLong(m.group(1)), p);
                }
            });
        } catch (IOException e) {
            throw new FatalException("cannot list " + dir + ": " + e, e);
        }
        return files;
    }

    /** Removes bitmap files an interrupted era change left behind; see {@link DirtyTracker}'s class comment. */
    private static void removeLeftovers(Map<Long, Path> files, long openEra, List<Long> closedEras) {
        for (Map.Entry<Long, Path> f : files.entrySet()) {
            long era = f.getKey();
            if (era == openEra || closedEras.contains(era)) {
                continue;
            }
            // an era above the open one (interrupted close), an unlisted one below it (interrupted
            // drop), or an empty era 1 created before the first eras.json: none holds a mark that counts
            log.info("removing leftover bitmap {} (open era {}, pending {})", f.getValue(), openEra, closedEras);
            try {
                Files.delete(f.getValue());
            } catch (IOException e) {
                throw new FatalException("cannot remove leftover bitmap " + f.getValue() + ": " + e, e);
            }
        }
    }
}
