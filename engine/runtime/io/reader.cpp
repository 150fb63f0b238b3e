#include "runtime/io/reader.h"

#include <bit>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "runtime/io/csv.h"
#include "runtime/io/jsonl.h"

namespace weir {

std::optional<FileFormat> parseFileFormat(std::string_view name) {
  if (name == "csv") return FileFormat::Csv;
  if (name == "jsonl") return FileFormat::Jsonl;
  return std::nullopt;
}

std::string_view fileFormatName(FileFormat f) {
  return f == FileFormat::Csv ? "csv" : "jsonl";
}

RecordReader::RecordReader(SchemaPtr schema, FileSplit split, ReaderOptions options,
                           DeadLetterHandler onBad, std::optional<ReadPosition> resume)
    : schema_(std::move(schema)), opts_(options), split_(std::move(split)),
      onBad_(std::move(onBad)) {
  fd_ = ::open(split_.path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) throw JobError(split_.path + ": cannot open: " + std::strerror(errno));
#ifdef POSIX_FADV_SEQUENTIAL
  ::posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
  cap_ = std::max<std::size_t>(opts_.bufferBytes, 16);
  buf_ = std::make_unique_for_overwrite<char[]>(cap_);
  startAt(resume);
}

RecordReader::~RecordReader() {
  if (fd_ >= 0) ::close(fd_);
}

bool RecordReader::fill() {
  // Drop what lies before the current record, then read after what is buffered.
  const std::size_t keepFrom = static_cast<std::size_t>(std::max<std::int64_t>(0, pos_ - bufBase_));
  if (keepFrom >= len_) {
    bufBase_ += static_cast<std::int64_t>(len_);
    len_ = 0;
    if (pos_ > bufBase_) bufBase_ = pos_;  // the position lies beyond the buffered bytes
  } else if (keepFrom > 0) {
    std::memmove(buf_.get(), buf_.get() + keepFrom, len_ - keepFrom);
    len_ -= keepFrom;
    bufBase_ += static_cast<std::int64_t>(keepFrom);
  }
  if (len_ == cap_) {  // one record fills the whole buffer: grow it
    if (cap_ >= opts_.maxRecordBytes) {
      throw JobError(split_.path + ": record at offset " + std::to_string(pos_) +
                     " is longer than " + std::to_string(opts_.maxRecordBytes >> 20) +
                     " MiB (an unterminated quote?)");
    }
    const std::size_t bigger = std::min(cap_ * 2, std::max(opts_.maxRecordBytes, cap_ + 1));
    auto grown = std::make_unique_for_overwrite<char[]>(bigger);
    std::memcpy(grown.get(), buf_.get(), len_);
    buf_ = std::move(grown);
    cap_ = bigger;
  }
  for (;;) {
    const ssize_t n = ::pread(fd_, buf_.get() + len_, cap_ - len_,
                              static_cast<off_t>(bufBase_ + static_cast<std::int64_t>(len_)));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw JobError(split_.path + ": read failed: " + std::strerror(errno));
    if (n == 0) {
      eof_ = true;
      return false;
    }
    eof_ = false;
    len_ += static_cast<std::size_t>(n);
    return true;
  }
}

void RecordReader::startAt(std::optional<ReadPosition> resume) {
  std::int64_t offset = resume ? resume->offset : split_.start;
  if (resume) {
    lineBase_ = resume->line;
  } else if (offset > 0) {
    // Split rule: the first record starts after the first '\n' at or after offset-1.
    pos_ = bufBase_ = offset - 1;
    for (;;) {
      const char* nl = nullptr;
      if (static_cast<std::size_t>(pos_ - bufBase_) < len_) {
        const char* from = buf_.get() + (pos_ - bufBase_);
        nl = static_cast<const char*>(std::memchr(from, '\n', len_ - (pos_ - bufBase_)));
      }
      if (nl) {
        offset = bufBase_ + (nl - buf_.get()) + 1;
        break;
      }
      pos_ = bufBase_ + static_cast<std::int64_t>(len_);
      if (!fill()) {  // no newline: no record starts in this split
        offset = pos_;
        break;
      }
    }
  } else {
    lineBase_ = 1;
  }
  pos_ = startOffset_ = offset;
  if (offset == 0 || offset == 3) {
    // A UTF-8 byte-order mark is not part of the first record.
    char bom[3];
    const ssize_t n = ::pread(fd_, bom, 3, 0);
    const bool hasBom = n == 3 && std::memcmp(bom, "\xEF\xBB\xBF", 3) == 0;
    if (hasBom) firstRecordOffset_ = 3;
    else if (offset == 0) firstRecordOffset_ = 0;
    if (hasBom && offset == 0) pos_ = 3;
    if (firstRecordOffset_ >= 0) lineBase_ = 1;
  }
  if (pos_ >= split_.end && !opts_.follow) done_ = true;
}

ReadPosition RecordReader::position() const {
  return {pos_, lineBase_ > 0 ? lineBase_ + linesRead_ : 0};
}

std::int64_t RecordReader::currentLine() {
  if (lineBase_ == 0) {
    // Count the newlines before where this reader started (only now that a line is needed).
    std::int64_t lines = 0;
    std::int64_t at = 0;
    auto chunk = std::make_unique_for_overwrite<char[]>(std::size_t{1} << 20);
    while (at < startOffset_) {
      const std::size_t want =
          static_cast<std::size_t>(std::min<std::int64_t>(startOffset_ - at, 1 << 20));
      const ssize_t n = ::pread(fd_, chunk.get(), want, static_cast<off_t>(at));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      lines += std::count(chunk.get(), chunk.get() + n, '\n');
      at += n;
    }
    lineBase_ = lines + 1;
  }
  return lineBase_ + linesRead_;
}

void RecordReader::report(const Record& rec, std::string_view raw) {
  DeadLetter d;
  d.file = split_.path;
  d.line = currentLine();
  d.offset = pos_;
  d.reason = reason_;
  const std::size_t keep = std::min(raw.size(), std::min(rec.length, opts_.maxDeadLetterText));
  d.record.assign(raw.data(), keep);
  if (onBad_) onBad_(d);
}

ReadStatus RecordReader::read(BatchBuilder& out, std::size_t maxRows) {
  if (done_) return ReadStatus::End;
  std::size_t handled = 0;
  while (handled < maxRows) {
    if (pos_ >= split_.end && !opts_.follow) {
      done_ = true;
      break;
    }
    const std::size_t at = static_cast<std::size_t>(pos_ - bufBase_);
    if (pos_ < bufBase_ || at >= len_) {
      if (!fill()) {
        if (opts_.follow) return handled ? ReadStatus::More : ReadStatus::Waiting;
        done_ = true;
        break;
      }
      continue;
    }
    const char* p = buf_.get() + at;
    const char* limit = buf_.get() + len_;
    const bool final = eof_ && !opts_.follow;
    Record rec;
    reason_.clear();
    const Parse r = parse(p, limit, final, out, rec);
    switch (r) {
      case Parse::NeedMore:
        if (!fill()) {
          if (opts_.follow) return handled ? ReadStatus::More : ReadStatus::Waiting;
          // eof_ is now set: the next parse() sees `final` and completes the record.
        }
        continue;
      case Parse::Skip:
        break;
      case Parse::Bad:
        out.abandonRow();
        report(rec, std::string_view(p, rec.length));
        ++handled;
        break;
      case Parse::Row: {
        std::int64_t eventTime = kNoTimestamp;
        if (opts_.eventTimeField >= 0) {
          const Column& c = out.column(static_cast<std::size_t>(opts_.eventTimeField));
          const std::size_t row = c.size() - 1;
          if (c.isNull(row)) {
            out.abandonRow();
            reason_ = "field '" + schema_->field(opts_.eventTimeField).name +
                      "': the event time is null";
            report(rec, std::string_view(p, rec.length));
            ++handled;
            break;
          }
          eventTime = c.int64(row);
        }
        out.endRow(eventTime);
        ++handled;
        break;
      }
    }
    pos_ += static_cast<std::int64_t>(rec.consumed);
    linesRead_ += rec.newlines;
  }
  return done_ && handled == 0 ? ReadStatus::End : ReadStatus::More;
}

LineEnd findLineEnd(const char* p, const char* limit, bool final) {
  LineEnd r;
  const char* q = p;
  if constexpr (std::endian::native == std::endian::little) {
    // Eight bytes at a time (the SWAR zero-byte test of csv.cpp's findFieldEnd).
    constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
    constexpr std::uint64_t kHigh = 0x8080808080808080ULL;
    constexpr std::uint64_t kNl = kOnes * '\n', kCr = kOnes * '\r';
    while (limit - q >= 8) {
      std::uint64_t w;
      std::memcpy(&w, q, 8);
      const std::uint64_t a = w ^ kNl, b = w ^ kCr;
      if (((a - kOnes) & ~a & kHigh) | ((b - kOnes) & ~b & kHigh)) break;
      q += 8;
    }
  }
  for (; q < limit; ++q) {
    if (*q != '\n' && *q != '\r') continue;
    r.end = q;
    r.found = true;
    if (*q == '\n') {
      r.next = q + 1;
    } else if (q + 1 < limit) {
      r.next = q[1] == '\n' ? q + 2 : q + 1;
    } else {
      r.next = limit;
      r.needMore = !final;
    }
    return r;
  }
  r.end = r.next = limit;
  return r;
}

std::unique_ptr<RecordReader> makeReader(FileFormat format, SchemaPtr schema, FileSplit split,
                                         ReaderOptions options, DeadLetterHandler onBad,
                                         std::optional<ReadPosition> resume) {
  if (format == FileFormat::Csv)
    return std::make_unique<CsvReader>(std::move(schema), std::move(split), options,
                                       std::move(onBad), resume);
  return std::make_unique<JsonlReader>(std::move(schema), std::move(split), options,
                                       std::move(onBad), resume);
}

}  // namespace weir
