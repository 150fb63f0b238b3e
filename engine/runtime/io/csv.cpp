#include "runtime/io/csv.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cstring>

#include "core/text.h"

namespace weir {
namespace {

constexpr std::size_t kMaxTextInReason = 80;

std::string quoteForReason(std::string_view text) {
  std::string s = "'";
  if (text.size() > kMaxTextInReason) {
    s.append(text.substr(0, kMaxTextInReason));
    s += "...";
  } else {
    s.append(text);
  }
  s += "'";
  return s;
}

/// The first byte in [p, limit) that is `delim`, '\n' or '\r', or limit. Eight bytes at a time
/// (SWAR zero-byte test on little-endian machines), then byte by byte.
inline const char* findFieldEnd(const char* p, const char* limit, char delim) {
  if constexpr (std::endian::native == std::endian::little) {
    constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
    constexpr std::uint64_t kHigh = 0x8080808080808080ULL;
    const std::uint64_t d = kOnes * static_cast<std::uint8_t>(delim);
    const std::uint64_t nl = kOnes * static_cast<std::uint8_t>('\n');
    const std::uint64_t cr = kOnes * static_cast<std::uint8_t>('\r');
    while (limit - p >= 8) {
      std::uint64_t w;
      std::memcpy(&w, p, 8);
      const std::uint64_t a = w ^ d;
      const std::uint64_t b = w ^ nl;
      const std::uint64_t c = w ^ cr;
      const std::uint64_t hit =
          ((a - kOnes) & ~a & kHigh) | ((b - kOnes) & ~b & kHigh) | ((c - kOnes) & ~c & kHigh);
      if (hit) return p + (std::countr_zero(hit) >> 3);
      p += 8;
    }
  }
  while (p < limit && *p != delim && *p != '\n' && *p != '\r') ++p;
  return p;
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Reading

CsvReader::CsvReader(SchemaPtr schema, FileSplit split, ReaderOptions options,
                     DeadLetterHandler onBad, std::optional<ReadPosition> resume)
    : RecordReader(std::move(schema), std::move(split), options, std::move(onBad), resume) {
  headerPending_ = opts_.header && atFileStart();
  spans_.reserve(schema_->size() + 1);
}

RecordReader::Parse CsvReader::parse(const char* p, const char* limit, bool final,
                                     BatchBuilder& out, Record& rec) {
  const char delim = opts_.delimiter;
  // Blank line ("\n", "\r\n" or a lone "\r").
  if (*p == '\n' || *p == '\r') {
    const LineEnd line = findLineEnd(p, limit, final);
    if (line.needMore) return Parse::NeedMore;
    rec.consumed = static_cast<std::size_t>(line.next - p);
    rec.newlines = 1;
    return Parse::Skip;
  }

  // Pass 1: find the fields and the record's end.
  spans_.clear();
  const char* q = p;
  std::int64_t newlines = 0;
  const char* recordEnd = nullptr;   // end of the record's text (before the terminator)
  const char* next = nullptr;        // start of the next record
  const char* badAt = nullptr;       // malformed quoting found here
  for (;;) {
    if (q < limit && *q == '"') {
      const char* s = q + 1;
      bool escaped = false;
      const char* close = nullptr;
      for (;;) {
        const char* e = static_cast<const char*>(std::memchr(s, '"', static_cast<std::size_t>(limit - s)));
        if (!e) break;
        if (e + 1 < limit && e[1] == '"') {
          escaped = true;
          s = e + 2;
          continue;
        }
        if (e + 1 == limit && !final) break;  // a "" pair may straddle the buffer's end
        close = e;
        break;
      }
      if (!close) {
        if (!final && static_cast<std::size_t>(limit - p) < opts_.maxRecordBytes) return Parse::NeedMore;
        // Unterminated quote (at the end of the file, or no closing quote within the record
        // bound): the record is cut at the end of the line the quote opened on, and the
        // lines after it are records of their own.
        const LineEnd line = findLineEnd(q + 1, limit, true);
        if (!line.found && !final) return Parse::NeedMore;  // no line end within the bound: a JobError
        rec.length = static_cast<std::size_t>(line.end - p);
        rec.consumed = static_cast<std::size_t>(line.next - p);
        rec.newlines = std::count(p, line.end, '\n') + (line.found ? 1 : 0);
        reason_ = "field " + std::to_string(spans_.size() + 1) + ": unterminated quoted field (cut at the end of its line)";
        return Parse::Bad;
      }
      newlines += std::count(q + 1, close, '\n');
      spans_.push_back({q + 1, static_cast<std::uint32_t>(close - q - 1), true, escaped});
      q = close + 1;
      if (q < limit && *q == delim) {
        ++q;
        continue;
      }
      if (q == limit) {
        if (!final) return Parse::NeedMore;
        recordEnd = next = q;
        break;
      }
      if (*q == '\n' || *q == '\r') {
        const LineEnd line = findLineEnd(q, limit, final);
        if (line.needMore) return Parse::NeedMore;
        recordEnd = q;
        next = line.next;
        ++newlines;
        break;
      }
      // Text after a closing quote: malformed; the record ends at the end of the line.
      badAt = q;
      const LineEnd line = findLineEnd(q, limit, final);
      if (line.needMore || (!line.found && !final)) return Parse::NeedMore;
      recordEnd = line.end;
      next = line.next;
      if (line.found) ++newlines;
      break;
    }
    // Unquoted field: up to the delimiter or the end of the line.
    const char* e = findFieldEnd(q, limit, delim);
    if (e == limit && !final) return Parse::NeedMore;
    if (e < limit && *e == delim) {
      spans_.push_back({q, static_cast<std::uint32_t>(e - q), false, false});
      q = e + 1;
      continue;
    }
    spans_.push_back({q, static_cast<std::uint32_t>(e - q), false, false});
    recordEnd = e;
    if (e < limit) {  // '\n', "\r\n" or a lone '\r'
      const LineEnd line = findLineEnd(e, limit, final);
      if (line.needMore) return Parse::NeedMore;
      next = line.next;
      ++newlines;
    } else {
      next = e;
    }
    break;
  }
  rec.consumed = static_cast<std::size_t>(next - p);
  rec.length = static_cast<std::size_t>(recordEnd - p);
  rec.newlines = newlines;

  if (headerPending_) {
    headerPending_ = false;
    return Parse::Skip;
  }
  if (badAt) {
    reason_ = "field " + std::to_string(spans_.size()) + ": text after the closing quote";
    return Parse::Bad;
  }
  const std::size_t n = schema_->size();
  if (spans_.size() != n) {
    reason_ = "expected " + std::to_string(n) + (n == 1 ? " field" : " fields") + ", found " +
              std::to_string(spans_.size());
    return Parse::Bad;
  }
  // Pass 2: convert each field into its column.
  for (std::size_t i = 0; i < n; ++i)
    if (!convert(i, spans_[i], out)) return Parse::Bad;
  return Parse::Row;
}

bool CsvReader::convert(std::size_t field, const Span& s, BatchBuilder& out) {
  Column& col = out.column(field);
  std::string_view text(s.data, s.size);
  if (s.escaped) {
    unescaped_.clear();
    for (std::size_t i = 0; i < text.size(); ++i) {
      unescaped_.push_back(text[i]);
      if (text[i] == '"') ++i;  // the second quote of a "" pair
    }
    text = unescaped_;
  }
  const Type t = col.type();
  if (text.empty() && (!s.quoted || t != Type::String)) {
    col.appendNull();
    return true;
  }
  switch (t) {
    case Type::String:
      col.appendString(text);
      return true;
    case Type::Int64: {
      std::int64_t v = 0;
      const char* b = text.data();
      const char* e = b + text.size();
      if (*b == '+') ++b;
      auto r = std::from_chars(b, e, v);
      if (r.ec == std::errc() && r.ptr == e && b != e) {
        col.appendInt64(v);
        return true;
      }
      break;
    }
    case Type::Double:
      if (auto v = parseDouble(text)) {
        col.appendDouble(*v);
        return true;
      }
      break;
    case Type::Bool:
      if (auto v = parseBool(text)) {
        col.appendBool(*v);
        return true;
      }
      break;
    case Type::Timestamp:
      if (auto v = parseTimestamp(text)) {
        col.appendInt64(*v);
        return true;
      }
      break;
  }
  const Field& f = schema_->field(field);
  reason_ = "field '" + f.name + "': " + quoteForReason(text) + " is not ";
  reason_ += t == Type::Int64 ? "an int64" : t == Type::Timestamp
                                                 ? "a timestamp (integer milliseconds or ISO-8601)"
                                                 : t == Type::Bool ? "a bool (true/false/1/0)"
                                                                   : "a double";
  return false;
}

// ---------------------------------------------------------------------------------------
// Writing

void appendCsvField(std::string& out, std::string_view s, char delimiter) {
  bool quote = s.empty() || s.front() == ' ' || s.back() == ' ';
  if (!quote) {
    for (char c : s) {
      if (c == delimiter || c == '"' || c == '\n' || c == '\r') {
        quote = true;
        break;
      }
    }
  }
  if (!quote) {
    out.append(s);
    return;
  }
  out.push_back('"');
  for (char c : s) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

CsvWriter::CsvWriter(const std::filesystem::path& path, SchemaPtr schema, WriterOptions options)
    : RecordWriter(path, std::move(schema), options) {}

void CsvWriter::writeHeader(bool withOp) {
  if (!opts_.header) return;
  std::string& b = out_.buffer();
  bool first = true;
  if (withOp) {
    b += "op";
    first = false;
  }
  for (const Field& f : schema_->fields()) {
    if (!first) b.push_back(opts_.delimiter);
    first = false;
    appendCsvField(b, f.name, opts_.delimiter);
  }
  b.push_back('\n');
}

void CsvWriter::write(const RecordBatch& batch) {
  if (batch.empty()) return;
  const bool withOp = begin(batch);
  if (!withOp && batch.hasKinds()) {
    for (RowKind k : batch.kinds()) {
      if (k != RowKind::Insert) {
        throw JobError(path().string() +
                       ": the input is a changelog (it has update/delete rows) but the file was "
                       "started without an `op` column");
      }
    }
  }
  const std::size_t cols = batch.numColumns();
  const char delim = opts_.delimiter;
  std::string& b = out_.buffer();
  char num[32];
  for (std::size_t r = 0; r < batch.numRows(); ++r) {
    bool first = true;
    if (withOp) {
      b.append(rowKindName(batch.kind(r)));
      first = false;
    }
    for (std::size_t c = 0; c < cols; ++c) {
      if (!first) b.push_back(delim);
      first = false;
      const Column& col = batch.column(c);
      if (col.isNull(r)) continue;
      switch (col.type()) {
        case Type::Int64: {
          auto res = std::to_chars(num, num + sizeof num, col.int64(r));
          b.append(num, res.ptr);
          break;
        }
        case Type::Timestamp: appendTimestamp(b, col.int64(r)); break;
        case Type::Double: appendDouble(b, col.dbl(r)); break;
        case Type::Bool: b.append(col.boolean(r) ? "true" : "false"); break;
        case Type::String: appendCsvField(b, col.str(r), delim); break;
      }
    }
    b.push_back('\n');
    out_.maybeFlush();
  }
  rows_ += static_cast<std::int64_t>(batch.numRows());
}

}  // namespace weir
