#pragma once
// Codec: StreamElements (record batches and in-band events) to bytes and back, for the
// network channels (docs/protocol.md has the byte layout).
//
// Encoding is a few memcpy calls per column: the column layout (core/column.h) is already
// what goes on the wire (validity bytes, int64/double arrays, bool bytes, uint32 offsets
// and one character buffer), little-endian as the host (asserted at compile time).
//
// Decoding trusts nothing: every count, length, type tag and offset is checked against
// the bytes that remain before it is used, so a malformed buffer gives a CodecError (byte
// offset and reason), never a crash, and nothing is allocated beyond what the bytes
// present could fill (a batch of zero columns is additionally capped at kMaxRows rows).
//
// Schemas. A batch names its schema by a small id. The first batch of a schema on a
// channel carries it inline (names and types) and defines the id; later batches carry the
// id only. SchemaEncoder / SchemaDecoder hold those tables, one pair per channel and
// direction: elements of a channel are decoded in the order they were encoded.
//
// Threading: the functions are pure; an encoder or decoder table belongs to one thread
// at a time (its channel's producer, its connection's reader).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/stream_element.h"

namespace weir::net {

/// Most rows in one decoded batch; most fields in one schema; longest field name.
inline constexpr std::uint32_t kMaxRows = 1u << 24;
inline constexpr std::uint32_t kMaxFields = 4096;
inline constexpr std::uint32_t kMaxFieldName = 1024;
/// Most distinct schemas one channel may define (ids are 0 .. kMaxSchemas-1).
inline constexpr std::uint32_t kMaxSchemas = 256;

/// Element kind tags on the wire.
enum class ElementKind : std::uint8_t {
  Batch = 1,
  Watermark = 2,
  WatermarkStatus = 3,
  CheckpointBarrier = 4,
  EndOfPartition = 5,
  EndOfData = 6,
};

/// Why bytes could not be decoded: where (from the start of the buffer given) and what.
struct CodecError {
  std::size_t offset = 0;
  std::string reason;
  std::string toString() const;  // "at byte 17: string offsets decrease"
};

/// A decoded value or the error that stopped decoding.
template <class T>
class Decoded {
 public:
  Decoded(T value) : value_(std::move(value)) {}            // NOLINT: implicit on purpose
  Decoded(CodecError error) : error_(std::move(error)) {}   // NOLINT
  bool ok() const { return value_.has_value(); }
  explicit operator bool() const { return ok(); }
  T& value() { return *value_; }
  const T& value() const { return *value_; }
  const CodecError& error() const { return error_; }

 private:
  std::optional<T> value_;
  CodecError error_;
};

/// The sender's schema table of one channel: assigns ids, remembers which were sent.
class SchemaEncoder {
 public:
  /// The id of `schema` and whether this batch must carry it inline (first use). Schemas
  /// are matched by pointer first, then by value. Returns nullopt when kMaxSchemas
  /// distinct schemas are already in use (the caller then fails the channel).
  std::optional<std::pair<std::uint32_t, bool>> idOf(const SchemaPtr& schema);

 private:
  std::vector<SchemaPtr> known_;
};

/// The receiver's schema table of one channel.
class SchemaDecoder {
 public:
  const SchemaPtr* find(std::uint32_t id) const;
  /// Defines `id` (must be the next unused id, as the encoder assigns them in order).
  bool define(std::uint32_t id, SchemaPtr schema);

 private:
  std::vector<SchemaPtr> known_;
};

/// Bytes encodeElement will append for `element` (exact). `inlineSchema` as idOf says.
std::size_t encodedSize(const StreamElement& element, bool inlineSchema);

/// Appends the encoding of `element` to `out`. For a batch, `schemaId`/`inlineSchema`
/// come from the channel's SchemaEncoder; ignored for events. One resize of `out`, then
/// memcpy per array.
void encodeElement(const StreamElement& element, std::uint32_t schemaId, bool inlineSchema,
                   std::vector<std::uint8_t>& out);

/// Convenience for tests and one-off use: encodes with a fresh table (schema inline).
std::vector<std::uint8_t> encodeStandalone(const StreamElement& element);

/// Decodes one element from the front of `bytes`; on success also returns how many bytes
/// it used. Error offsets are relative to `bytes` plus `baseOffset`.
Decoded<std::pair<StreamElement, std::size_t>> decodeElement(std::span<const std::uint8_t> bytes,
                                                              SchemaDecoder& schemas,
                                                              std::size_t baseOffset = 0);

/// A Data frame's payload: u32 element count, then that many elements filling the payload
/// exactly. Error offsets are payload offsets.
void encodeDataPayloadHeader(std::vector<std::uint8_t>& out, std::uint32_t count);
Decoded<std::vector<StreamElement>> decodeDataPayload(std::span<const std::uint8_t> payload,
                                                      SchemaDecoder& schemas);

/// True when two elements carry the same data (batches: schema, rows, values, nulls,
/// event times, row kinds). For tests and the fuzz target's round trip check.
bool sameElement(const StreamElement& a, const StreamElement& b);

}  // namespace weir::net
