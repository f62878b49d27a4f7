package io.blockrep.producer.publish;

import java.util.Arrays;
import java.util.List;
import org.apache.kafka.clients.ClientDnsLookup;
import org.apache.kafka.clients.ClientUtils;
import org.apache.kafka.common.config.ConfigException;

/** Whether a bootstrap setting names at least one address a Kafka client could try. Stateless. */
public final class KafkaBootstrap {
    private KafkaBootstrap() {
    }

    /** True when {@code servers} parses as Kafka parses it and at least one of its hosts resolves. */
    public static boolean resolves(String servers) {
        List<String> urls = Arrays.stream(servers.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
        try {
            return !ClientUtils.parseAndValidateAddresses(urls, ClientDnsLookup.USE_ALL_DNS_IPS).isEmpty();
        } catch (ConfigException e) {
            return false;
        }
    }
}
