package io.blockrep.producer.dirty;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.blockrep.common.FatalException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ErasFileTest {
    /** Written by an independent script ({@code golden/eras/make-golden.py}) from the layout documented in {@link ErasFile}. */
    static final String GOLDEN = "/golden/eras/v2-eras.json";
    /** What the builds before format 2 wrote. */
    static final String GOLDEN_V1 = "/golden/eras/v1-eras.json";
    static final ErasFile.Eras ERAS = new ErasFile.Eras("vol-golden", "site-a", 1733100000007L, List.of(1733100000005L, 1733100000006L));

    @TempDir
    Path dir;

    @Test
    void encodingMatchesGoldenBytes() throws IOException {
        assertThat(ErasFile.encode(ERAS)).isEqualTo(resource(GOLDEN));
        Path file = dir.resolve("eras.json");
        ErasFile.write(file, ERAS);
        assertThat(Files.readAllBytes(file)).isEqualTo(resource(GOLDEN));
    }

    @Test
    void goldenFilesOfBothFormatsReadBack() throws IOException {
        assertThat(read(resource(GOLDEN))).isEqualTo(ERAS);
        assertThat(read(resource(GOLDEN_V1))).isEqualTo(ERAS);
    }

    @Test
    void aChangedDigitFailsTheChecksum() throws IOException {
        String text = new String(resource(GOLDEN), StandardCharsets.UTF_8).replace("1733100000005", "1733100000004");
        assertThatThrownBy(() -> read(text.getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(ErasFile.CorruptErasException.class)
                .hasMessageContaining("eras.json")
                .hasMessageContaining("checksum mismatch");
    }

    @Test
    void everyProblemIsNamed() {
        assertThatThrownBy(() -> read("{\"format\":1,\"volume\":\"v\",\"openEra\":\"x\",\"closedEras\":[3,2]}".getBytes()))
                .isInstanceOf(ErasFile.CorruptErasException.class)
                .hasMessageContaining("node is missing")
                .hasMessageContaining("openEra \"x\" is not an integer");
        assertThatThrownBy(() -> read("{\"format\":1,\"volume\":\"v\",\"node\":\"n\",\"openEra\":3,\"closedEras\":[2,2]}".getBytes()))
                .hasMessageContaining("strictly ascending");
        assertThatThrownBy(() -> read("{\"format\":1,\"volume\":\"v\",\"node\":\"n\",\"openEra\":3,\"closedEras\":[3]}".getBytes()))
                .hasMessageContaining("not below the open era 3");
        assertThatThrownBy(() -> read("{\"format\":9}".getBytes())).hasMessageContaining("format 9");
        assertThatThrownBy(() -> read("{\"format\":2,\"ma".getBytes())).hasMessageContaining("not JSON");
        assertThatThrownBy(() -> read(new byte[0])).isInstanceOf(ErasFile.CorruptErasException.class);
    }

    @Test
    void aFileOfAnotherVolumeIsRefusedNotRepaired() throws IOException {
        Path file = dir.resolve("eras.json");
        ErasFile.write(file, ERAS);
        assertThatThrownBy(() -> ErasFile.read(file, "other", "site-a"))
                .isInstanceOf(FatalException.class)
                .isNotInstanceOf(ErasFile.CorruptErasException.class)
                .hasMessageContaining("belongs to volume 'vol-golden'");
    }

    private ErasFile.Eras read(byte[] bytes) throws IOException {
        Path file = dir.resolve("eras.json");
        Files.write(file, bytes);
        return ErasFile.read(file, "vol-golden", "site-a");
    }

    private static byte[] resource(String name) throws IOException {
        try (InputStream in = Objects.requireNonNull(ErasFileTest.class.getResourceAsStream(name), name)) {
            return in.readAllBytes();
        }
    }
}
