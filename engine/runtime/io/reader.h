#pragma once
// Record readers: parse one split of a text file (CSV or JSON Lines) straight into a
// BatchBuilder.
//
// Contract:
//   - A reader owns one file descriptor and one buffer (1 MiB by default, grown only for a
//     record longer than that, up to ReaderOptions::maxRecordBytes). It reads the file with
//     large pread() calls and parses records in place; the hot path allocates nothing per
//     record.
//   - read(out, maxRows) handles up to maxRows records and appends the good ones to `out`,
//     one value per schema field and BatchBuilder::endRow (with the record's event time when
//     ReaderOptions::eventTimeField is set).
//   - A record that cannot be read (wrong field count, a value of the wrong type, malformed
//     quoting or JSON, a null event time) is not appended: it goes to the DeadLetterHandler
//     as {file, line, offset, reason, raw text}, and reading goes on with the next record.
//     The handler may throw (JobError, for on_bad_record = fail); the reader is then left
//     positioned at the bad record.
//   - Split rule (runtime/io/split.h): the reader reads every record that starts in
//     [split.start, split.end).
//   - position() is where the next record starts (byte offset, 1-based line). A reader built
//     with that position as `resume` reads exactly the records that remain.
//   - Lines are physical lines, ended by "\n", "\r\n" or a lone "\r" (old Mac files); a
//     quoted CSV field may span several. Splits of a large file start after a '\n' only
//     (runtime/io/split.h), so a file with lone "\r" line ends is best read as one split.
//   - A record is at most ReaderOptions::maxRecordBytes long. An unterminated CSV quote is
//     cut at the end of the line it opened on (at the end of the file, or when no closing
//     quote came within that bound) and that line is one dead letter; the lines after it
//     are read as records. So every input line is a record read or a dead letter.
//     A split that starts mid-file does not know its first line number; it counts the
//     newlines before it only when it first needs a line number (a dead letter), so reading
//     costs nothing extra. Until then position().line is 0 ("not known yet"), which is also
//     a valid `resume` line.
//   - Not thread-safe; one reader per subtask and split.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/batch.h"
#include "runtime/io/split.h"
#include "runtime/operator.h"

namespace weir {

enum class FileFormat { Csv, Jsonl };
/// "csv" / "jsonl"; nullopt otherwise.
std::optional<FileFormat> parseFileFormat(std::string_view name);
std::string_view fileFormatName(FileFormat f);

/// Where the next record starts.
struct ReadPosition {
  std::int64_t offset = 0;  // byte offset in the file
  std::int64_t line = 0;    // 1-based line number; 0 = not known yet
  bool operator==(const ReadPosition&) const = default;
};

/// What one read() call achieved.
enum class ReadStatus {
  More,     // handled at least one record (appended or dead-lettered): call again
  Waiting,  // follow mode: no complete record yet; data may be appended later
  End,      // every record of the split has been read
};

struct ReaderOptions {
  char delimiter = ',';          // CSV only
  bool header = true;            // CSV only: the file's first record (at offset 0) is a header
  int eventTimeField = -1;       // schema index whose value is the event time (int64/timestamp)
  bool follow = false;           // tail the file: at its end, wait for more instead of ending
  std::size_t bufferBytes = std::size_t{1} << 20;
  std::size_t maxRecordBytes = std::size_t{64} << 20;  // longer: JobError
  std::size_t maxDeadLetterText = 4096;                // raw text kept in a dead letter
};

using DeadLetterHandler = std::function<void(const DeadLetter&)>;

/// The end of the line that starts at p: `end` before its terminator ("\n", "\r\n" or a
/// lone "\r"), `next` after it. `found` false: no terminator before `limit` (end = next =
/// limit). `needMore`: the last byte is '\r' and the file may go on (a "\r\n" may straddle).
struct LineEnd {
  const char* end = nullptr;
  const char* next = nullptr;
  bool found = false;
  bool needMore = false;
};
LineEnd findLineEnd(const char* p, const char* limit, bool final);

class RecordReader {
 public:
  RecordReader(const RecordReader&) = delete;
  RecordReader& operator=(const RecordReader&) = delete;
  virtual ~RecordReader();

  /// Handles up to maxRows records (see the contract above).
  ReadStatus read(BatchBuilder& out, std::size_t maxRows);
  ReadPosition position() const;
  const FileSplit& split() const { return split_; }
  bool atEnd() const { return done_; }
  /// Bytes consumed so far (records and skipped text) since the start position.
  std::int64_t bytesRead() const { return pos_ - startOffset_; }

 protected:
  /// Opens the file and finds the first record: `resume` if given, else the split rule.
  /// Throws JobError when the file cannot be opened.
  RecordReader(SchemaPtr schema, FileSplit split, ReaderOptions options, DeadLetterHandler onBad,
               std::optional<ReadPosition> resume);

  enum class Parse {
    NeedMore,  // the record does not end within [p, limit): more bytes are needed
    Row,       // one value appended to every column (the base calls endRow)
    Bad,       // `reason_` says why; values appended so far are dropped by the base
    Skip,      // not a record (blank line, CSV header): consumed, nothing appended
  };
  struct Record {
    std::size_t consumed = 0;   // bytes up to the next record's start
    std::size_t length = 0;     // bytes of the record without its line terminator
    std::int64_t newlines = 0;  // '\n' characters within `consumed`
  };
  /// Parses the record starting at p. `final` means the file ends at `limit` (never in follow
  /// mode): then NeedMore is not allowed.
  virtual Parse parse(const char* p, const char* limit, bool final, BatchBuilder& out,
                      Record& rec) = 0;

  /// True while the record at the current position is the first of the file (offset 0,
  /// after a byte-order mark): the CSV header.
  bool atFileStart() const { return pos_ == firstRecordOffset_ && firstRecordOffset_ <= 3; }

  const SchemaPtr schema_;
  const ReaderOptions opts_;
  std::string reason_;  // set by parse() on Bad

 private:
  bool fill();  // reads more bytes after the buffered ones; false when none came
  void startAt(std::optional<ReadPosition> resume);
  void report(const Record& rec, std::string_view raw);
  std::int64_t currentLine();

  FileSplit split_;
  DeadLetterHandler onBad_;
  int fd_ = -1;
  std::unique_ptr<char[]> buf_;
  std::size_t cap_ = 0;
  std::size_t len_ = 0;          // valid bytes in buf_
  std::int64_t bufBase_ = 0;     // file offset of buf_[0]
  std::int64_t pos_ = 0;         // file offset of the next record
  std::int64_t startOffset_ = 0;
  std::int64_t firstRecordOffset_ = -1;  // where the file's first record starts (after a BOM)
  std::int64_t lineBase_ = 0;    // line number at startOffset_, 0 = not counted yet
  std::int64_t linesRead_ = 0;   // newlines consumed since startOffset_
  bool eof_ = false;
  bool done_ = false;
};

/// A CSV or JSON Lines reader for one split (runtime/io/csv.h, runtime/io/jsonl.h).
std::unique_ptr<RecordReader> makeReader(FileFormat format, SchemaPtr schema, FileSplit split,
                                         ReaderOptions options, DeadLetterHandler onBad,
                                         std::optional<ReadPosition> resume = std::nullopt);

}  // namespace weir
