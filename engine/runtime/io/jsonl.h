#pragma once
// JSON Lines reading and writing. docs/formats.md has the user-facing rules.
//
// Reading: one JSON object per line ("\n" or "\r\n"); blank lines are skipped. Keys are
// matched to schema fields by name: a missing key or JSON null is null, keys not in the
// schema are ignored (whatever their value), a key given twice is a dead letter. Values
// must be of the field's JSON kind, else the record is a dead letter:
//   int64      an integer number (no fraction or exponent)
//   double     a number, or one of the strings "nan", "inf", "-inf"
//   bool       true / false
//   string     a string
//   timestamp  an integer number (milliseconds) or an ISO-8601 string
// A line that is not one well-formed JSON object is a dead letter. The parser is a small
// hand-written one for flat objects (nested values are skipped when their key is not
// wanted); it allocates nothing per record.
//
// Writing: one object per line with the schema's fields in order, null as null, timestamps
// as ISO-8601 UTC strings with milliseconds, doubles in shortest round-trip form (NaN and
// infinities, which JSON numbers cannot hold, as the strings "nan", "inf", "-inf"), strings
// escaped per RFC 8259 (control characters, '"' and '\'; other bytes are written as they
// are). A batch with row kinds gets a first key "op" holding +I/-U/+U/-D on each of its lines.

#include "runtime/io/reader.h"
#include "runtime/io/writer.h"

namespace weir {

class JsonlReader final : public RecordReader {
 public:
  JsonlReader(SchemaPtr schema, FileSplit split, ReaderOptions options, DeadLetterHandler onBad,
              std::optional<ReadPosition> resume = std::nullopt);

 protected:
  Parse parse(const char* p, const char* limit, bool final, BatchBuilder& out,
              Record& rec) override;

 private:
  enum class Kind : std::uint8_t { Missing, Null, True, False, Number, String, Object, Array };
  struct Slot {
    Kind kind = Kind::Missing;
    bool escaped = false;  // String: holds backslash escapes
    std::string_view text; // Number: its text; String: between the quotes
  };
  bool parseObject(const char* p, const char* end);
  int fieldIndex(std::string_view key);
  bool convert(std::size_t field, const Slot& s, BatchBuilder& out);

  std::vector<Slot> slots_;
  std::string key_;        // an unescaped key
  std::string unescaped_;  // an unescaped string value
  int hint_ = 0;           // the field expected next (keys usually come in schema order)
};

class JsonlWriter final : public RecordWriter {
 public:
  /// Creates (truncates) `path`; throws JobError when it cannot.
  JsonlWriter(const std::filesystem::path& path, SchemaPtr schema, WriterOptions options = {});
  void write(const RecordBatch& batch) override;

 protected:
  void writeHeader(bool) override {}

 private:
  std::vector<std::string> keys_;  // "\"name\":" per field, escaped once
};

/// Appends `s` as a JSON string literal (with quotes) to `out`.
void appendJsonString(std::string& out, std::string_view s);
/// Decodes the inside of a JSON string literal (escapes); false when an escape is invalid.
bool unescapeJsonString(std::string_view in, std::string& out);

}  // namespace weir
