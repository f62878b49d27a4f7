package io.blockrep.producer.control;

/** What the control API can ask of a facility. Implementations are thread-safe. */
public interface ControlHandler {
    FacilityStatus status();

    /** Administratively drops the replication link and stops reconnecting (an operator's or a demo's link cut). */
    void cutLink();

    /** Undoes {@link #cutLink()}: the facility probes the peer again. */
    void restoreLink();
}
