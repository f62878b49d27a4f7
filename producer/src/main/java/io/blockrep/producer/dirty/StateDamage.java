package io.blockrep.producer.dirty;

/**
 * A damaged or missing local state file found when dirty tracking opened, and what was done about
 * it: always something more conservative (regions marked dirty or hot), never a clean start.
 *
 * @param file    the file's name in the volume folder, e.g. {@code dirty-7.bitmap}
 * @param cause   what was wrong, e.g. "page 3 checksum mismatch"
 * @param regions how many regions were marked dirty because of it
 * @param action  what the tracker did, e.g. "marked dirty in era 7"
 */
public record StateDamage(String file, String cause, long regions, String action) {
    /** One line for logs, events and status: "dirty-7.bitmap page 3 checksum mismatch; 32704 regions marked dirty in era 7". */
    public String summary() {
        return file + " " + cause + "; " + (regions > 0 ? regions + " regions " : "") + action;
    }
}
