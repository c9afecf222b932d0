package dev.treepo.model.safetensors;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.treepo.model.tensor.HostTensor;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Writes float32 tensors as a safetensors file that Hugging Face {@code safetensors} and
 * transformers load: names sorted, {@code __metadata__} with {@code format: pt}, and the JSON
 * header padded with spaces to a multiple of 8 bytes so every tensor starts 8-byte aligned. The
 * elements are stored as F32 or, on request, narrowed to BF16.
 */
public final class SafetensorsWriter {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** Bytes converted per write call, which bounds the staging buffer. */
    private static final int CHUNK_FLOATS = 1 << 18;

    private SafetensorsWriter() {}

    /** Writes {@code tensors} with only the {@code format: pt} metadata. */
    public static void write(Path file, Map<String, HostTensor> tensors) throws IOException {
        write(file, tensors, Map.of());
    }

    /**
     * Writes {@code tensors} as F32, adding {@code metadata} to the header. The file is written to
     * a temporary sibling and moved into place, so a crash never leaves half a checkpoint.
     *
     * @throws IllegalArgumentException if a name is empty or {@code __metadata__}
     */
    public static void write(Path file, Map<String, HostTensor> tensors,
            Map<String, String> metadata) throws IOException {
        write(file, tensors, metadata, SafetensorsDtype.F32);
    }

    /**
     * Writes {@code tensors} with elements of type {@code dtype} (F32, or BF16 rounded to nearest
     * even), otherwise as {@link #write(Path, Map, Map)} does.
     *
     * @throws IllegalArgumentException if a name is empty or {@code __metadata__}, or {@code dtype}
     *     is F16
     */
    public static void write(Path file, Map<String, HostTensor> tensors,
            Map<String, String> metadata, SafetensorsDtype dtype) throws IOException {
        if (dtype == SafetensorsDtype.F16) {
            throw new IllegalArgumentException("Cannot write " + file
                    + " as F16: only F32 and BF16 are written; pick one of those");
        }
        SortedMap<String, HostTensor> sorted = new TreeMap<>(tensors);
        byte[] header = headerBytes(sorted, metadata, dtype);

        Path parent = file.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Path temporary = Files.createTempFile(parent, "." + file.getFileName(), ".tmp");
        try {
            try (FileChannel channel = FileChannel.open(temporary, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer length = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
                length.putLong(header.length).flip();
                writeFully(channel, length);
                writeFully(channel, ByteBuffer.wrap(header));

                ByteBuffer chunk = ByteBuffer.allocate(CHUNK_FLOATS * dtype.bytes())
                        .order(ByteOrder.LITTLE_ENDIAN);
                for (HostTensor tensor : sorted.values()) {
                    float[] data = tensor.data();
                    for (int start = 0; start < data.length; start += CHUNK_FLOATS) {
                        int count = Math.min(CHUNK_FLOATS, data.length - start);
                        chunk.clear();
                        dtype.encode(data, start, count, chunk);
                        chunk.limit(count * dtype.bytes());
                        writeFully(channel, chunk);
                    }
                }
                channel.force(true);
            }
            Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING,
                    StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(temporary);
        }
    }

    private static byte[] headerBytes(SortedMap<String, HostTensor> tensors,
            Map<String, String> metadata, SafetensorsDtype dtype) throws IOException {
        ObjectNode header = JSON.createObjectNode();
        ObjectNode metadataNode = header.putObject("__metadata__");
        metadataNode.put("format", "pt");
        new TreeMap<>(metadata).forEach(metadataNode::put);

        long offset = 0;
        for (Map.Entry<String, HostTensor> entry : tensors.entrySet()) {
            String name = entry.getKey();
            if (name.isEmpty() || name.equals("__metadata__")) {
                throw new IllegalArgumentException("Invalid tensor name \"" + name
                        + "\": it must be non-empty and not __metadata__");
            }
            HostTensor tensor = entry.getValue();
            ObjectNode node = header.putObject(name);
            node.put("dtype", dtype.name());
            ArrayNode shape = node.putArray("shape");
            Arrays.stream(tensor.shape()).forEach(shape::add);
            long end = offset + (long) dtype.bytes() * tensor.numel();
            node.putArray("data_offsets").add(offset).add(end);
            offset = end;
        }

        byte[] json = JSON.writeValueAsString(header).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        byte[] result = Arrays.copyOf(json, padded);
        Arrays.fill(result, json.length, padded, (byte) ' ');
        return result;
    }

    private static void writeFully(FileChannel channel, ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
    }
}
