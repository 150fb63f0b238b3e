#pragma once
// CSV (RFC 4180) reading and writing. docs/formats.md has the user-facing rules.
//
// Reading: fields are separated by ReaderOptions::delimiter, records by "\n" or "\r\n".
// A field in double quotes may hold the delimiter, newlines and quotes written as "".
// Columns are matched to the schema by position; a record with another number of fields
// is a dead letter. An empty unquoted field is null; a quoted empty field ("") is the empty
// string for a string column and null for the others. Values: int64 and double in their
// usual text forms (no surrounding spaces), bool true/false/1/0 (any case), timestamp as
// integer milliseconds or ISO-8601 (core/text.h parseTimestamp). Blank lines are skipped.
// With header=true the file's first record is skipped (not checked against the schema).
//
// Writing: one record per line ("\n"), fields separated by the delimiter; null is an empty
// field; a string is quoted when it is empty or holds the delimiter, a quote, "\r" or "\n",
// or starts or ends with a space; timestamps are ISO-8601 UTC with milliseconds, doubles in
// shortest round-trip form, bools true/false. A changelog (batches with row kinds) gets a
// first column `op` holding +I/-U/+U/-D.

#include "runtime/io/reader.h"
#include "runtime/io/writer.h"

namespace weir {

class CsvReader final : public RecordReader {
 public:
  CsvReader(SchemaPtr schema, FileSplit split, ReaderOptions options, DeadLetterHandler onBad,
            std::optional<ReadPosition> resume = std::nullopt);

 protected:
  Parse parse(const char* p, const char* limit, bool final, BatchBuilder& out,
              Record& rec) override;

 private:
  struct Span {
    const char* data;
    std::uint32_t size;
    bool quoted;
    bool escaped;  // holds "" pairs to undo
  };
  bool convert(std::size_t field, const Span& s, BatchBuilder& out);

  std::vector<Span> spans_;
  std::string unescaped_;
  bool headerPending_ = false;
};

class CsvWriter final : public RecordWriter {
 public:
  /// Creates (truncates) `path`; throws JobError when it cannot.
  CsvWriter(const std::filesystem::path& path, SchemaPtr schema, WriterOptions options = {});
  void write(const RecordBatch& batch) override;

 protected:
  void writeHeader(bool withOp) override;
};

/// Appends `s` to `out` as one CSV field (quoted when needed, see above).
void appendCsvField(std::string& out, std::string_view s, char delimiter);

}  // namespace weir
