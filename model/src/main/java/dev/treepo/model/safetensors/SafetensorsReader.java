package dev.treepo.model.safetensors;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.treepo.model.tensor.HostTensor;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Reads tensors from one safetensors file or from a sharded Hugging Face checkpoint.
 *
 * <p>A safetensors file is an 8-byte little-endian header length N, N bytes of JSON ({@code name
 * -> {dtype, shape, data_offsets}} plus an optional {@code __metadata__} object), then the raw
 * little-endian tensor bytes. Offsets count from the end of the header. Each tensor is
 * memory-mapped on demand ({@link FileChannel#map}), so only the tensors read are paged in.
 * F32, F16 and BF16 are supported and always returned as float32.
 *
 * <p>The header is validated when the file is opened: a truncated file, invalid JSON, an unknown
 * dtype, or a byte range that does not match the shape is an {@link IOException} that names the
 * file and the tensor.
 */
public final class SafetensorsReader implements AutoCloseable {

    /** File name of a single-file Hugging Face checkpoint. */
    public static final String MODEL_FILE = "model.safetensors";
    /** File name of the index that maps tensor names to shard files. */
    public static final String INDEX_FILE = "model.safetensors.index.json";

    private static final ObjectMapper JSON = new ObjectMapper();
    /** Header size limit. Larger headers are rejected as corrupt, because real ones are a few MB. */
    private static final long MAX_HEADER_BYTES = 100L << 20;

    /** Location and type of one tensor. Offsets are absolute positions in {@code file}. */
    public record TensorEntry(
            String name, SafetensorsDtype dtype, long[] shape, Path file, long begin, long end) {

        /** Number of elements, the product of the dimensions. */
        public long numel() {
            long count = 1;
            for (long dimension : shape) {
                count *= dimension;
            }
            return count;
        }
    }

    private final Map<Path, FileChannel> channels;
    private final SortedMap<String, TensorEntry> entries;
    private final Map<String, String> metadata;

    private SafetensorsReader(Map<Path, FileChannel> channels,
            SortedMap<String, TensorEntry> entries, Map<String, String> metadata) {
        this.channels = channels;
        this.entries = entries;
        this.metadata = metadata;
    }

    /** Opens one safetensors file and validates its header. */
    public static SafetensorsReader open(Path file) throws IOException {
        Map<Path, FileChannel> channels = new HashMap<>();
        SortedMap<String, TensorEntry> entries = new TreeMap<>();
        Map<String, String> metadata = new HashMap<>();
        try {
            readHeader(file, channels, entries, metadata);
        } catch (IOException | RuntimeException e) {
            closeAll(channels);
            throw e;
        }
        return new SafetensorsReader(channels, entries, Collections.unmodifiableMap(metadata));
    }

    /**
     * Opens the weights of a Hugging Face model folder: the shards listed in {@value INDEX_FILE}
     * when that file exists, otherwise {@value MODEL_FILE}.
     *
     * @throws IOException if neither file exists, a shard is missing, or a tensor named in the
     *     index is absent from its shard
     */
    public static SafetensorsReader openModel(Path dir) throws IOException {
        Path index = dir.resolve(INDEX_FILE);
        if (!Files.exists(index)) {
            Path single = dir.resolve(MODEL_FILE);
            if (!Files.exists(single)) {
                throw new NoSuchFileException(single.toString(), null,
                        "no " + MODEL_FILE + " or " + INDEX_FILE + " in the model folder");
            }
            return open(single);
        }

        JsonNode weightMap;
        try {
            weightMap = JSON.readTree(index.toFile()).get("weight_map");
        } catch (JsonProcessingException e) {
            throw new IOException("Invalid JSON in " + index + ": " + e.getOriginalMessage(), e);
        }
        if (weightMap == null || !weightMap.isObject()) {
            throw new IOException("Invalid safetensors index " + index
                    + ": missing object field weight_map");
        }

        Map<Path, FileChannel> channels = new HashMap<>();
        SortedMap<String, TensorEntry> entries = new TreeMap<>();
        Map<String, String> metadata = new HashMap<>();
        try {
            SortedSet<String> shardNames = new TreeSet<>();
            for (Map.Entry<String, JsonNode> field : weightMap.properties()) {
                shardNames.add(field.getValue().asText());
            }
            for (String shardName : shardNames) {
                readHeader(dir.resolve(shardName), channels, entries, metadata);
            }
            for (Map.Entry<String, JsonNode> field : weightMap.properties()) {
                TensorEntry entry = entries.get(field.getKey());
                Path expected = dir.resolve(field.getValue().asText());
                if (entry == null || !entry.file().equals(expected)) {
                    throw new IOException("Tensor " + field.getKey() + " is listed in " + index
                            + " under " + expected.getFileName() + " but that shard lacks it");
                }
            }
        } catch (IOException | RuntimeException e) {
            closeAll(channels);
            throw e;
        }
        return new SafetensorsReader(channels, entries, Collections.unmodifiableMap(metadata));
    }

    /** Returns the names of all tensors, sorted. */
    public SortedSet<String> names() {
        return Collections.unmodifiableSortedSet(new TreeSet<>(entries.keySet()));
    }

    /** Returns the {@code __metadata__} strings of the file, merged over shards. */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** Returns the location, dtype and shape of a tensor without reading it. */
    public TensorEntry entry(String name) {
        TensorEntry entry = entries.get(name);
        if (entry == null) {
            throw new IllegalArgumentException("Tensor not found: " + name + " (the checkpoint has "
                    + entries.size() + " tensors)");
        }
        return entry;
    }

    /** Reads one tensor, widened to float32. */
    public HostTensor read(String name) throws IOException {
        TensorEntry entry = entry(name);
        long numel = entry.numel();
        if (numel > Integer.MAX_VALUE - 8) {
            throw new IOException("Tensor " + name + " in " + entry.file() + " has " + numel
                    + " elements, more than a Java array holds");
        }
        float[] data = new float[(int) numel];
        if (numel > 0) {
            MappedByteBuffer mapped = channels.get(entry.file())
                    .map(FileChannel.MapMode.READ_ONLY, entry.begin(), entry.end() - entry.begin());
            entry.dtype().decode(mapped.order(ByteOrder.LITTLE_ENDIAN), data);
        }
        return new HostTensor(entry.shape().clone(), data);
    }

    /** Reads every tensor, keyed by name. */
    public SortedMap<String, HostTensor> readAll() throws IOException {
        SortedMap<String, HostTensor> tensors = new TreeMap<>();
        for (String name : entries.keySet()) {
            tensors.put(name, read(name));
        }
        return tensors;
    }

    /** Closes the files; tensors already read stay valid. */
    @Override
    public void close() throws IOException {
        closeAll(channels);
    }

    private static void readHeader(Path file, Map<Path, FileChannel> channels,
            SortedMap<String, TensorEntry> entries, Map<String, String> metadata)
            throws IOException {
        FileChannel channel = FileChannel.open(file, StandardOpenOption.READ);
        channels.put(file, channel);
        long fileSize = channel.size();
        if (fileSize < 8) {
            throw new IOException("Truncated safetensors file " + file + ": " + fileSize
                    + " bytes, shorter than the 8-byte header length");
        }

        ByteBuffer lengthBytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(channel, lengthBytes, 0, file);
        long headerLength = lengthBytes.getLong(0);
        if (headerLength < 2 || headerLength > MAX_HEADER_BYTES) {
            throw new IOException("Invalid safetensors header in " + file + ": header length "
                    + headerLength + " is not between 2 and " + MAX_HEADER_BYTES + " bytes");
        }
        if (8 + headerLength > fileSize) {
            throw new IOException("Truncated safetensors file " + file + ": header needs "
                    + headerLength + " bytes but only " + (fileSize - 8) + " follow");
        }
        ByteBuffer headerBytes = ByteBuffer.allocate((int) headerLength);
        readFully(channel, headerBytes, 8, file);

        JsonNode header;
        try {
            header = JSON.readTree(headerBytes.array());
        } catch (JsonProcessingException e) {
            throw new IOException("Invalid safetensors header in " + file + ": "
                    + e.getOriginalMessage(), e);
        }
        if (header == null || !header.isObject()) {
            throw new IOException("Invalid safetensors header in " + file
                    + ": expected a JSON object");
        }

        long dataStart = 8 + headerLength;
        long dataSize = fileSize - dataStart;
        for (Map.Entry<String, JsonNode> field : header.properties()) {
            String name = field.getKey();
            if (name.equals("__metadata__")) {
                for (Map.Entry<String, JsonNode> item : field.getValue().properties()) {
                    metadata.put(item.getKey(), item.getValue().asText());
                }
                continue;
            }
            TensorEntry entry = parseEntry(file, name, field.getValue(), dataStart, dataSize);
            if (entries.putIfAbsent(name, entry) != null) {
                throw new IOException("Tensor " + name + " appears in both "
                        + entries.get(name).file() + " and " + file);
            }
        }
    }

    private static TensorEntry parseEntry(Path file, String name, JsonNode node, long dataStart,
            long dataSize) throws IOException {
        String where = "tensor " + name + " in " + file;
        JsonNode dtypeNode = node.get("dtype");
        JsonNode shapeNode = node.get("shape");
        JsonNode offsetsNode = node.get("data_offsets");
        if (dtypeNode == null || shapeNode == null || !shapeNode.isArray()
                || offsetsNode == null || !offsetsNode.isArray() || offsetsNode.size() != 2) {
            throw new IOException("Invalid safetensors header entry for " + where
                    + ": expected dtype, shape and two data_offsets, got " + node);
        }

        SafetensorsDtype dtype = SafetensorsDtype.fromHeaderName(dtypeNode.asText());
        if (dtype == null) {
            throw new IOException("Unsupported dtype " + dtypeNode.asText() + " for " + where
                    + "; supported: " + Arrays.toString(SafetensorsDtype.values()));
        }

        List<Long> dimensions = new ArrayList<>();
        for (JsonNode dimension : shapeNode) {
            if (!dimension.canConvertToLong() || dimension.longValue() < 0) {
                throw new IOException("Invalid shape " + shapeNode + " for " + where);
            }
            dimensions.add(dimension.longValue());
        }
        long[] shape = dimensions.stream().mapToLong(Long::longValue).toArray();

        long begin = offsetsNode.get(0).asLong(-1);
        long end = offsetsNode.get(1).asLong(-1);
        if (begin < 0 || end < begin) {
            throw new IOException("Invalid data_offsets " + offsetsNode + " for " + where);
        }
        if (end > dataSize) {
            throw new IOException("Truncated safetensors file " + file + ": tensor " + name
                    + " ends at data byte " + end + " but the file holds only " + dataSize);
        }
        TensorEntry entry = new TensorEntry(name, dtype, shape, file, dataStart + begin,
                dataStart + end);
        long expectedBytes = entry.numel() * dtype.bytes();
        if (end - begin != expectedBytes) {
            throw new IOException("Shape mismatch for " + where + ": shape " + shapeNode + " of "
                    + dtype + " needs " + expectedBytes + " bytes but data_offsets span "
                    + (end - begin));
        }
        return entry;
    }

    private static void readFully(FileChannel channel, ByteBuffer target, long position, Path file)
            throws IOException {
        while (target.hasRemaining()) {
            int read = channel.read(target, position + target.position());
            if (read < 0) {
                throw new IOException("Truncated safetensors file " + file
                        + ": unexpected end of file in the header");
            }
        }
        target.flip();
    }

    private static void closeAll(Map<Path, FileChannel> channels) throws IOException {
        IOException first = null;
        for (FileChannel channel : channels.values()) {
            try {
                channel.close();
            } catch (IOException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
