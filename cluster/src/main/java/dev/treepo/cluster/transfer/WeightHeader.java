package dev.treepo.cluster.transfer;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.treepo.model.tensor.HostTensor;
import dev.treepo.policy.PolicyWeights;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The JSON header of a weight stream in safetensors layout: the policy version and checksum in
 * {@code __metadata__} (as strings, as safetensors requires), and for each tensor its dtype (always
 * F32), shape and {@code data_offsets}. Offsets count bytes from the end of the header.
 *
 * <p>Tensors are stored in name order without gaps, so the data section is the byte sequence
 * {@link WeightChecksum} covers. {@link #parse} rejects any other layout.
 *
 * @param entries tensors in name order
 * @param dataBytes length of the data section, the end offset of the last tensor
 */
record WeightHeader(long version, long checksum, List<Entry> entries, long dataBytes) {

    /** Header length limit, the same as SafetensorsReader's. Each tensor takes about 100 bytes. */
    static final long MAX_HEADER_BYTES = 100L << 20;

    static final String METADATA_KEY = "__metadata__";
    static final String VERSION_KEY = "policy_version";
    static final String CHECKSUM_KEY = "checksum";
    static final String DTYPE = "F32";

    /** Largest element count of one tensor, the Java array limit that HostTensor needs. */
    private static final long MAX_TENSOR_ELEMENTS = Integer.MAX_VALUE - 8;

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    /** One tensor: its byte range {@code [begin, end)} in the data section. */
    record Entry(String name, long[] shape, long begin, long end) {

        int numel() {
            return (int) ((end - begin) / Float.BYTES);
        }
    }

    /** Describes {@code weights} with the given checksum, laying tensors out in name order. */
    static WeightHeader describe(PolicyWeights weights, long checksum) {
        List<Entry> entries = new ArrayList<>();
        long offset = 0;
        for (Map.Entry<String, HostTensor> tensor : weights.tensors().entrySet()) {
            String name = tensor.getKey();
            if (name.isEmpty() || name.equals(METADATA_KEY)) {
                throw new IllegalArgumentException("Invalid tensor name \"" + name
                        + "\" in policy version " + weights.version()
                        + ": it must be non-empty and not " + METADATA_KEY);
            }
            long end = offset + (long) Float.BYTES * tensor.getValue().numel();
            entries.add(new Entry(name, tensor.getValue().shape().clone(), offset, end));
            offset = end;
        }
        return new WeightHeader(weights.version(), checksum, List.copyOf(entries), offset);
    }

    /**
     * Serializes the header as UTF-8 JSON padded with spaces to a multiple of 8 bytes, so that with
     * the 8-byte length prefix every tensor starts 8-byte aligned, as in SafetensorsWriter's files.
     */
    byte[] toJsonBytes() {
        ObjectNode root = JSON.createObjectNode();
        ObjectNode metadata = root.putObject(METADATA_KEY);
        metadata.put("format", "pt");
        metadata.put(VERSION_KEY, Long.toString(version));
        metadata.put(CHECKSUM_KEY, WeightChecksum.hex(checksum));
        for (Entry entry : entries) {
            ObjectNode node = root.putObject(entry.name());
            node.put("dtype", DTYPE);
            ArrayNode shape = node.putArray("shape");
            Arrays.stream(entry.shape()).forEach(shape::add);
            node.putArray("data_offsets").add(entry.begin()).add(entry.end());
        }

        byte[] json;
        try {
            json = JSON.writeValueAsBytes(root);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(
                    "Failed to write the weight stream header for policy version " + version, e);
        }
        int padded = (json.length + 7) / 8 * 8;
        byte[] result = Arrays.copyOf(json, padded);
        Arrays.fill(result, json.length, padded, (byte) ' ');
        return result;
    }

    /**
     * Parses and validates a header: valid JSON, a {@code __metadata__} object with a decimal
     * {@code policy_version} and a hex {@code checksum}, only F32 tensors, and offsets that match
     * each shape and run contiguously from 0 in name order.
     */
    static WeightHeader parse(byte[] json) throws WeightTransferException {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (IOException e) {
            String detail = e instanceof JsonProcessingException processing
                    ? processing.getOriginalMessage() : e.getMessage();
            throw new WeightTransferException("Invalid weight stream header: " + detail
                    + ". The sender did not produce a safetensors stream. Check its version.", e);
        }
        if (root == null || !root.isObject()) {
            throw new WeightTransferException(
                    "Invalid weight stream header: expected a JSON object, got "
                            + (root == null ? "nothing" : root.getNodeType()));
        }

        JsonNode metadata = root.get(METADATA_KEY);
        if (metadata == null || !metadata.isObject()) {
            throw new WeightTransferException("Invalid weight stream header: missing object "
                    + METADATA_KEY + " with " + VERSION_KEY + " and " + CHECKSUM_KEY);
        }
        long version = parseVersion(metadata.get(VERSION_KEY));
        long checksum = parseChecksum(metadata.get(CHECKSUM_KEY), version);

        SortedMap<String, Entry> byName = new TreeMap<>();
        for (Map.Entry<String, JsonNode> field : root.properties()) {
            if (!field.getKey().equals(METADATA_KEY)) {
                byName.put(field.getKey(), parseEntry(field.getKey(), field.getValue(), version));
            }
        }

        long expectedBegin = 0;
        String previous = null;
        for (Entry entry : byName.values()) {
            if (entry.begin() != expectedBegin) {
                throw new WeightTransferException("Invalid weight stream header for policy version "
                        + version + ": tensor " + entry.name() + " starts at data byte "
                        + entry.begin() + " but "
                        + (previous == null ? "the first tensor must start at 0"
                                : "the previous tensor in name order, " + previous + ", ends at "
                                        + expectedBegin)
                        + ". Only streams with tensors in name order and no gaps are accepted.");
            }
            expectedBegin = entry.end();
            previous = entry.name();
        }
        return new WeightHeader(version, checksum, List.copyOf(byName.values()), expectedBegin);
    }

    private static long parseVersion(JsonNode node) throws WeightTransferException {
        if (node == null || !node.isTextual()) {
            throw new WeightTransferException("Invalid weight stream header: " + METADATA_KEY + "."
                    + VERSION_KEY + " must be a decimal string, got " + node);
        }
        try {
            long version = Long.parseLong(node.textValue());
            if (version >= 0) {
                return version;
            }
        } catch (NumberFormatException e) {
            // Reported below together with negative values.
        }
        throw new WeightTransferException("Invalid weight stream header: " + METADATA_KEY + "."
                + VERSION_KEY + " \"" + node.textValue() + "\" is not a non-negative integer");
    }

    private static long parseChecksum(JsonNode node, long version) throws WeightTransferException {
        String text = node != null && node.isTextual() ? node.textValue() : null;
        if (text != null && !text.isEmpty() && text.length() <= 16) {
            try {
                return Long.parseUnsignedLong(text, 16);
            } catch (NumberFormatException e) {
                // Reported below.
            }
        }
        throw new WeightTransferException("Invalid weight stream header for policy version "
                + version + ": " + METADATA_KEY + "." + CHECKSUM_KEY
                + " must be a hex string, got " + node);
    }

    private static Entry parseEntry(String name, JsonNode node, long version)
            throws WeightTransferException {
        String where = "tensor " + name + " of policy version " + version;
        if (name.isEmpty()) {
            throw new WeightTransferException("Invalid weight stream header for policy version "
                    + version + ": a tensor has an empty name");
        }
        JsonNode dtype = node.get("dtype");
        JsonNode shapeNode = node.get("shape");
        JsonNode offsets = node.get("data_offsets");
        if (dtype == null || !dtype.isTextual() || shapeNode == null || !shapeNode.isArray()
                || offsets == null || !offsets.isArray() || offsets.size() != 2) {
            throw new WeightTransferException("Invalid weight stream header entry for " + where
                    + ": expected dtype, shape and two data_offsets, got " + node);
        }
        if (!dtype.textValue().equals(DTYPE)) {
            throw new WeightTransferException("Unsupported dtype " + dtype.textValue() + " for "
                    + where + ": weight streams carry only " + DTYPE);
        }

        long[] shape = new long[shapeNode.size()];
        for (int i = 0; i < shape.length; i++) {
            JsonNode dimension = shapeNode.get(i);
            if (!dimension.isIntegralNumber() || !dimension.canConvertToLong()
                    || dimension.longValue() < 0) {
                throw new WeightTransferException("Invalid shape " + shapeNode + " for " + where
                        + ": dimensions must be non-negative integers");
            }
            shape[i] = dimension.longValue();
        }
        long numel = elementCount(shape);
        if (numel < 0 || numel > MAX_TENSOR_ELEMENTS) {
            throw new WeightTransferException("Invalid shape " + shapeNode + " for " + where
                    + ": more than " + MAX_TENSOR_ELEMENTS + " elements do not fit a Java array");
        }

        JsonNode beginNode = offsets.get(0);
        JsonNode endNode = offsets.get(1);
        if (!beginNode.isIntegralNumber() || !beginNode.canConvertToLong()
                || !endNode.isIntegralNumber() || !endNode.canConvertToLong()
                || beginNode.longValue() < 0 || endNode.longValue() < beginNode.longValue()) {
            throw new WeightTransferException("Invalid data_offsets " + offsets + " for " + where
                    + ": expected two non-negative integers in increasing order");
        }
        long begin = beginNode.longValue();
        long end = endNode.longValue();
        if (end - begin != numel * Float.BYTES) {
            throw new WeightTransferException("Shape mismatch for " + where + ": shape " + shapeNode
                    + " of " + DTYPE + " needs " + numel * Float.BYTES
                    + " bytes but data_offsets span " + (end - begin));
        }
        return new Entry(name, shape, begin, end);
    }

    /** Returns the product of {@code shape}, or -1 when it overflows a long. */
    private static long elementCount(long[] shape) {
        long count = 1;
        boolean overflow = false;
        for (long dimension : shape) {
            if (dimension == 0) {
                return 0;
            }
            try {
                count = Math.multiplyExact(count, dimension);
            } catch (ArithmeticException e) {
                overflow = true;
            }
        }
        return overflow ? -1 : count;
    }
}
