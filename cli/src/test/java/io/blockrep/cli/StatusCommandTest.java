package io.blockrep.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

/** The text table of {@code blockrep status}, from status documents as the control API serves them. */
class StatusCommandTest {
    private static String table(String json) throws Exception {
        JsonNode facilities = new ObjectMapper().readTree(json);
        StringWriter out = new StringWriter();
        StatusCommand.printTable(new PrintWriter(out, true), facilities);
        return out.toString();
    }

    private static String facility(String node, String role, String mode, boolean consistent) {
        return "{\"node\":\"" + node + "\",\"timeMillis\":1000,\"link\":\"HEALTHY\",\"volumes\":[{\"volume\":\"vol\",\"role\":\""
                + role + "\",\"mode\":\"" + mode + "\",\"modeReason\":\"being resynchronised from the primary\",\"era\":3,"
                + "\"dirtyRegions\":0,\"dirtyBytes\":0,\"generations\":{\"current\":\"00000000deadbeef\",\"consistent\":"
                + consistent + "}}]}";
    }

    @Test
    void anInconsistentSecondaryIsShownAsSuchWithWhatItMeansForPromote() throws Exception {
        String out = table("[" + facility("site-a", "PRIMARY", "RESYNCING", true) + ","
                + facility("site-b", "SECONDARY", "SECONDARY", false) + "]");
        assertThat(out).contains("00000000!");
        assertThat(out).contains("site-b/vol: INCONSISTENT").contains("--force");
        assertThat(out).doesNotContain("site-a/vol: INCONSISTENT");
    }

    @Test
    void aConsistentSecondaryGetsNoNote() throws Exception {
        String out = table("[" + facility("site-b", "SECONDARY", "SECONDARY", true) + "]");
        assertThat(out).doesNotContain("INCONSISTENT").doesNotContain("site-b/vol:");
    }

    @Test
    void theLastVerifyIsShownAsANote() throws Exception {
        String doc = facility("site-a", "PRIMARY", "REPLICATING", true).replace("\"dirtyRegions\":0,",
                "\"dirtyRegions\":0,\"lastVerify\":{\"finishedMillis\":1764659704000,\"regionsChecked\":1024,\"regionsDiffering\":3,"
                        + "\"durationMillis\":900,\"by\":\"r1\"},");
        assertThat(table("[" + doc + "]")).contains("site-a/vol: last verified at 2025-12-02T07:15:04Z, 3 regions differed (by r1)");
        assertThat(table("[" + facility("site-a", "PRIMARY", "REPLICATING", true) + "]")).doesNotContain("last verified");
    }
}
