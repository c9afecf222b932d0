package dev.treepo.rollout;

/**
 * Marker of the messages that cross nodes of a cluster. The cluster configuration binds it to
 * Jackson CBOR, so every such message must be a record of serializable fields: primitives,
 * arrays, strings, enums, lists, records of those, ActorRefs and StreamRefs.
 */
public interface WireMessage {

    /**
     * Version of the messages between nodes. A node rejects a peer that speaks another version, so
     * raise it whenever a wire message changes shape.
     */
    int VERSION = 1;
}
