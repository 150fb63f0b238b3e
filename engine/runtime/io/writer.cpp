#include "runtime/io/writer.h"

#include <mutex>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/file_util.h"
#include "runtime/io/csv.h"
#include "runtime/io/jsonl.h"

namespace weir {

FileOutput::FileOutput(std::filesystem::path path, std::size_t bufferBytes)
    : path_(std::move(path)), threshold_(std::max<std::size_t>(bufferBytes, 4096)) {
  std::string why;
  fd_ = createOutputFile(path_, why);  // never through a planted link
  if (fd_ < 0) throw JobError(why);
  buf_.reserve(threshold_ + threshold_ / 4);
}

FileOutput::FileOutput(int borrowedFd, std::string name, std::size_t bufferBytes)
    : path_(std::move(name)), threshold_(std::max<std::size_t>(bufferBytes, 4096)), fd_(borrowedFd),
      borrowed_(true) {
  buf_.reserve(threshold_ + threshold_ / 4);
}

namespace {
std::mutex& borrowedWriteLock() {
  static std::mutex mu;
  return mu;
}
}  // namespace

FileOutput::~FileOutput() {
  if (fd_ < 0) return;
  try {
    flush();
  } catch (const JobError&) {
    // The destructor cannot report; close() is where errors are seen.
  }
  if (!borrowed_) ::close(fd_);
}

void FileOutput::flush() {
  if (fd_ < 0) {
    if (!buf_.empty()) throw JobError(path_.string() + ": write after close");
    return;
  }
  std::unique_lock<std::mutex> lock;
  if (borrowed_) lock = std::unique_lock(borrowedWriteLock());
  const char* p = buf_.data();
  std::size_t left = buf_.size();
  while (left > 0) {
    const ssize_t n = ::write(fd_, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      // Keep what was not written, so that a retry (or the error path) does not lose order.
      buf_.erase(0, buf_.size() - left);
      throw JobError(path_.string() + ": write failed: " + std::strerror(err));
    }
    p += n;
    left -= static_cast<std::size_t>(n);
    written_ += n;
  }
  buf_.clear();
}

void FileOutput::sync() {
  flush();
  if (fd_ < 0 || borrowed_) return;
  if (::fsync(fd_) != 0) throw JobError(path_.string() + ": fsync failed: " + std::strerror(errno));
}

void FileOutput::reopen() {
  if (fd_ >= 0 || borrowed_) return;
  std::string why;
  fd_ = createOutputFile(path_, why);
  if (fd_ < 0) throw JobError(why);
  written_ = 0;
}

void FileOutput::close() {
  if (fd_ < 0) return;
  try {
    flush();
  } catch (...) {
    ::close(fd_);
    fd_ = -1;
    buf_.clear();
    throw;
  }
  const int rc = borrowed_ ? 0 : ::close(fd_);
  fd_ = -1;
  if (rc != 0) throw JobError(path_.string() + ": close failed: " + std::strerror(errno));
}

RecordWriter::RecordWriter(const std::filesystem::path& path, SchemaPtr schema,
                           WriterOptions options)
    : out_(options.borrowedFd >= 0 ? FileOutput(options.borrowedFd, path.string(), options.bufferBytes)
                                   : FileOutput(path, options.bufferBytes)),
      schema_(std::move(schema)), opts_(options) {}

bool RecordWriter::begin(const RecordBatch& batch) {
  if (!started_) {
    started_ = true;
    withOp_ = opts_.opColumn == OpColumn::Always ||
              (opts_.opColumn == OpColumn::Auto && batch.hasKinds());
    writeHeader(withOp_);
  }
  return withOp_;
}

void RecordWriter::flush() { out_.flush(); }

void RecordWriter::start() {
  if (started_) return;
  started_ = true;
  withOp_ = opts_.opColumn == OpColumn::Always;
  writeHeader(withOp_);
}

void RecordWriter::sync() { out_.sync(); }

void RecordWriter::closeFile() { out_.close(); }

void RecordWriter::reopen() { out_.reopen(); }

void RecordWriter::resumeAfterHeader(bool withOp) {
  started_ = true;
  withOp_ = withOp;
}

void RecordWriter::close() {
  if (!out_.isOpen()) return;
  start();
  out_.close();
}

std::unique_ptr<RecordWriter> makeWriter(FileFormat format, const std::filesystem::path& path,
                                         SchemaPtr schema, WriterOptions options) {
  if (format == FileFormat::Csv) return std::make_unique<CsvWriter>(path, std::move(schema), options);
  return std::make_unique<JsonlWriter>(path, std::move(schema), options);
}

std::filesystem::path partFilePath(const std::filesystem::path& path, int subtask,
                                   int parallelism) {
  if (parallelism <= 1) return path;
  std::filesystem::path part = path;
  part.replace_filename(path.stem().string() + "-" + std::to_string(subtask) +
                        path.extension().string());
  return part;
}

}  // namespace weir
