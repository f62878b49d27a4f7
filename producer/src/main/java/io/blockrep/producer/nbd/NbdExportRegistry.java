package io.blockrep.producer.nbd;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * How the server finds exports. Consulted on every negotiation (never cached by the server), so
 * an implementation backed by the facility's volume set can add and remove exports at any time;
 * it must be thread-safe. A connection already in transmission keeps the export it negotiated.
 */
public interface NbdExportRegistry {
    /** The export with this name, if there is one now. */
    Optional<NbdExport> find(String name);

    /** Every export, in the order NBD_OPT_LIST reports them. */
    List<NbdExport> list();

    /** A fixed registry of the given exports, listed in name order. */
    static NbdExportRegistry of(NbdExport... exports) {
        Map<String, NbdExport> byName = Arrays.stream(exports)
                .collect(Collectors.toMap(NbdExport::name, Function.identity()));
        List<NbdExport> sorted = byName.values().stream()
                .sorted((a, b) -> a.name().compareTo(b.name()))
                .toList();
        return new NbdExportRegistry() {
            @Override
            public Optional<NbdExport> find(String name) {
                return Optional.ofNullable(byName.get(name));
            }

            @Override
            public List<NbdExport> list() {
                return sorted;
            }
        };
    }
}
