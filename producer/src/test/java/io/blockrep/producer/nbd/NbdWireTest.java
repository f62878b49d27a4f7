package io.blockrep.producer.nbd;

import static org.assertj.core.api.Assertions.assertThat;

import io.blockrep.producer.nbd.NbdWire.Request;
import java.nio.ByteBuffer;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/** Golden bytes for every header the codec writes, and decoding of what clients send. */
class NbdWireTest {
    private static String hex(ByteBuffer b) {
        byte[] out = new byte[b.flip().remaining()];
        b.get(out);
        return HexFormat.of().formatHex(out);
    }

    @Test
    void greetingIsNbdmagicIhaveoptAndFixedNewstyleWithNoZeroes() {
        ByteBuffer b = ByteBuffer.allocate(NbdWire.GREETING_SIZE);
        NbdWire.putGreeting(b);
        assertThat(hex(b)).isEqualTo("4e42444d41474943" + "49484156454f5054" + "0003");
    }

    @Test
    void optionReplyHeaderLayout() {
        ByteBuffer b = ByteBuffer.allocate(NbdWire.OPTION_REPLY_HEADER_SIZE);
        NbdWire.putOptionReplyHeader(b, NbdWire.OPT_GO, NbdWire.REP_ERR_UNKNOWN, 5);
        assertThat(hex(b)).isEqualTo("0003e889045565a9" + "00000007" + "80000006" + "00000005");
    }

    @Test
    void simpleReplyLayout() {
        ByteBuffer b = ByteBuffer.allocate(NbdWire.SIMPLE_REPLY_SIZE);
        NbdWire.putSimpleReply(b, NbdWire.EINVAL, 0x0102030405060708L);
        assertThat(hex(b)).isEqualTo("67446698" + "00000016" + "0102030405060708");
    }

    @Test
    void infoExportAndBlockSizeLayout() {
        ByteBuffer b = ByteBuffer.allocate(NbdWire.INFO_EXPORT_SIZE + NbdWire.INFO_BLOCK_SIZE_SIZE);
        NbdWire.putInfoExport(b, 1L << 30, 0x016d);
        NbdWire.putInfoBlockSize(b, 1, 4096, 32 << 20);
        assertThat(hex(b)).isEqualTo("0000" + "0000000040000000" + "016d" + "0003" + "00000001" + "00001000" + "02000000");
    }

    @Test
    void requestRoundTripsWithUnsignedFields() {
        Request r = new Request(0x8001, 0xffff, -1L, 1L << 40, 0xffff_ffffL);
        ByteBuffer b = ByteBuffer.allocate(NbdWire.REQUEST_SIZE);
        NbdWire.putRequest(b, r);
        assertThat(hex(b.duplicate().position(NbdWire.REQUEST_SIZE))).startsWith("25609513" + "8001" + "ffff");
        assertThat(NbdWire.getRequest(b.rewind())).isEqualTo(r);
        assertThat(r.fua()).isTrue();
    }

    @Test
    void requestWithBadMagicDecodesToNullButConsumesTheHeader() {
        ByteBuffer b = ByteBuffer.allocate(NbdWire.REQUEST_SIZE).putInt(0x12345678).position(NbdWire.REQUEST_SIZE).flip();
        assertThat(NbdWire.getRequest(b)).isNull();
        assertThat(b.remaining()).isZero();
    }

    @Test
    void serverReplyDataIsLengthPrefixedUtf8() {
        assertThat(HexFormat.of().formatHex(NbdWire.serverReplyData("vol"))).isEqualTo("00000003" + "766f6c");
    }

    @Test
    void transmissionFlagsFollowTheExport() {
        int rw = NbdWire.transmissionFlags(new MemoryExport("a", 4096, false));
        int ro = NbdWire.transmissionFlags(new MemoryExport("a", 4096, true));
        assertThat(rw).isEqualTo(0x016d);
        assertThat(ro).isEqualTo(rw | NbdWire.TFLAG_READ_ONLY);
    }
}
