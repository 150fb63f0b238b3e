#include "runtime/operators/sink_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

#include "runtime/io/params.h"

namespace weir {
namespace {

namespace fs = std::filesystem;

constexpr std::uint8_t kStateVersion = 1;

fs::path withSuffix(const fs::path& file, const std::string& suffix) {
  fs::path p = file;
  p += suffix;
  return p;
}

std::string errnoText() { return std::strerror(errno); }

/// An open descriptor, closed when destroyed.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

/// Size of `file`, or -1 when it does not exist.
std::int64_t sizeOrMissing(const fs::path& file) {
  struct stat st {};
  if (::lstat(file.c_str(), &st) != 0) {
    if (errno == ENOENT) return -1;
    throw JobError(file.string() + ": cannot read: " + errnoText());
  }
  if (!S_ISREG(st.st_mode)) throw JobError(file.string() + ": not a regular file; refusing to write it");
  return static_cast<std::int64_t>(st.st_size);
}

/// Writes the staged file `staged` (size bytes) into `final` at `at`, after cutting `final`
/// to `at`, and syncs `final`. `final` must hold at least `at` bytes already.
void writeAt(const fs::path& final, std::int64_t at, const fs::path& staged, std::int64_t size) {
  Fd out(::open(final.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644));
  if (out.get() < 0) throw JobError(final.string() + ": cannot open to publish: " + errnoText());
  struct stat st {};
  if (::fstat(out.get(), &st) != 0) throw JobError(final.string() + ": " + errnoText());
  if (st.st_size < at)
    throw JobError(final.string() + ": holds " + std::to_string(st.st_size) + " bytes, but " + std::to_string(at) +
                   " were committed (was it changed outside the job?)");
  if (::ftruncate(out.get(), at) != 0) throw JobError(final.string() + ": cannot truncate: " + errnoText());
  Fd in(::open(staged.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (in.get() < 0) throw JobError(staged.string() + ": cannot open the staged output: " + errnoText());
  std::string buf(std::size_t{1} << 20, '\0');
  std::int64_t done = 0;
  while (done < size) {
    const ssize_t n = ::read(in.get(), buf.data(), std::min<std::size_t>(buf.size(), static_cast<std::size_t>(size - done)));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw JobError(staged.string() + ": read failed: " + errnoText());
    if (n == 0) throw JobError(staged.string() + ": shorter than the " + std::to_string(size) + " bytes staged");
    for (ssize_t w = 0; w < n;) {
      const ssize_t m = ::pwrite(out.get(), buf.data() + w, static_cast<std::size_t>(n - w), at + done + w);
      if (m < 0 && errno == EINTR) continue;
      if (m < 0) throw JobError(final.string() + ": write failed: " + errnoText());
      w += m;
    }
    done += n;
  }
  if (::fsync(out.get()) != 0) throw JobError(final.string() + ": fsync failed: " + errnoText());
}

void removeFile(const fs::path& file) {
  std::error_code ec;
  fs::remove(file, ec);
  if (ec) throw JobError(file.string() + ": cannot remove: " + ec.message());
}

/// Publishes target.staged (checkpoints <= upTo) in order; each published file is removed.
void publish(FileSink::Target& target, std::int64_t upTo) {
  while (!target.staged.empty() && target.staged.front().checkpointId <= upTo) {
    const FileSink::Staged& s = target.staged.front();
    writeAt(target.file, target.committed, s.file, s.size);
    removeFile(s.file);
    target.committed += s.size;
    target.staged.erase(target.staged.begin());
  }
}

/// Publishes a restored target idempotently: a staged file still there is written at its
/// place; one already gone must already be in the final file. Then the final file is cut to
/// the end of the last. Returns that length.
std::int64_t publishRestored(const FileSink::Target& target) {
  std::int64_t at = target.committed;
  const std::int64_t have = sizeOrMissing(target.file);
  if (have < at && (at > 0 || have >= 0))
    throw JobError(target.file.string() + ": holds " + std::to_string(std::max<std::int64_t>(have, 0)) +
                   " bytes, but the checkpoint committed " + std::to_string(at));
  for (const FileSink::Staged& s : target.staged) {
    const std::int64_t size = sizeOrMissing(s.file);
    if (size >= 0) {
      if (size < s.size)
        throw JobError(s.file.string() + ": holds " + std::to_string(size) + " bytes, the checkpoint staged " +
                       std::to_string(s.size));
      writeAt(target.file, at, s.file, s.size);
      removeFile(s.file);
    } else if (sizeOrMissing(target.file) < at + s.size) {
      throw JobError(s.file.string() + ": the output staged for checkpoint " + std::to_string(s.checkpointId) +
                     " is gone and was not published");
    }
    at += s.size;
  }
  const std::int64_t now = sizeOrMissing(target.file);
  if (now > at) {
    std::error_code ec;
    fs::resize_file(target.file, static_cast<std::uintmax_t>(at), ec);
    if (ec) throw JobError(target.file.string() + ": cannot truncate: " + ec.message());
  }
  return at;
}

/// Removes FILE.inprogress (unless keepInProgress) and every FILE.pending-* not in `keep`.
void removeLeftovers(const fs::path& file, const std::vector<FileSink::Staged>& keep, bool keepInProgress) {
  if (!keepInProgress) removeFile(withSuffix(file, ".inprogress"));
  const fs::path dir = file.has_parent_path() ? file.parent_path() : fs::path(".");
  const std::string prefix = file.filename().string() + ".pending-";
  std::error_code ec;
  std::vector<fs::path> stale;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    if (std::none_of(keep.begin(), keep.end(), [&](const FileSink::Staged& s) { return s.file == e.path(); }))
      stale.push_back(e.path());
  }
  for (const fs::path& p : stale) removeFile(p);
}

void writeTarget(const FileSink::Target& t, ByteWriter& out) {
  out.u8(kStateVersion);
  out.str(t.file.string());
  out.i64(t.committed);
  out.boolean(t.headerStaged);
  out.boolean(t.withOp);
  out.u32(static_cast<std::uint32_t>(t.staged.size()));
  for (const FileSink::Staged& s : t.staged) {
    out.i64(s.checkpointId);
    out.str(s.file.string());
    out.i64(s.size);
  }
}

FileSink::Target readTarget(ByteReader& r) {
  if (const std::uint8_t v = r.u8(); v != kStateVersion) r.fail("unknown state version " + std::to_string(v));
  FileSink::Target t;
  t.file = r.str();
  t.committed = r.i64();
  t.headerStaged = r.boolean();
  t.withOp = r.boolean();
  if (t.file.empty() || !t.file.is_absolute()) r.fail("a bad final file name");
  if (t.committed < 0) r.fail("a negative committed length");
  const std::uint32_t n = r.u32();
  if (n > r.remaining() / 20) r.fail(std::to_string(n) + " staged files do not fit");
  for (std::uint32_t k = 0; k < n; ++k) {
    FileSink::Staged s;
    s.checkpointId = r.i64();
    s.file = r.str();
    s.size = r.i64();
    if (s.size < 0 || s.file.parent_path() != t.file.parent_path() ||
        s.file.filename().string().rfind(t.file.filename().string() + ".pending-", 0) != 0)
      r.fail("a bad staged file '" + s.file.string() + "'");
    if (!t.staged.empty() && s.checkpointId <= t.staged.back().checkpointId) r.fail("staged files out of order");
    t.staged.push_back(std::move(s));
  }
  if (!r.atEnd()) r.fail(std::to_string(r.remaining()) + " bytes left over");
  return t;
}

}  // namespace

FileSink::FileSink(const OperatorContext& ctx) {
  const nlohmann::json& p = ctx.params;
  path_ = params::string(p, "path");
  format_ = params::format(p, path_);
  options_.header = params::boolean(p, "header", true);
  if (const nlohmann::json* c = params::find(p, "changelog")) {
    if (!c->is_boolean()) params::fail("changelog", "must be true or false");
    options_.opColumn = c->get<bool>() ? OpColumn::Always : OpColumn::Never;
  }
}

void FileSink::open(OperatorContext& ctx) {
  Operator::open(ctx);
  checkpointing_ = ctx.checkpointing;
  file_ = partFilePath(ctx.resolve(path_), ctx.subtask, ctx.parallelism);
  if (file_.has_parent_path()) {
    std::error_code ec;
    std::filesystem::create_directories(file_.parent_path(), ec);
    if (ec)
      throw JobError(file_.parent_path().string() + ": cannot create folder: " + ec.message());
  }
  if (checkpointing_) {
    // The writer is made at the first record: a restore may still remove what an earlier
    // attempt left in FILE.inprogress.
    own_.file = fs::absolute(file_);
    return;
  }
  if (!ctx.inputSchemas.empty() && ctx.inputSchemas[0]) createWriter(ctx.inputSchemas[0]);
}

void FileSink::createWriter(SchemaPtr schema) {
  writer_ = makeWriter(format_, inProgressPath(), std::move(schema), options_);
}

std::filesystem::path FileSink::inProgressPath() const { return withSuffix(file_, ".inprogress"); }

void FileSink::ensureWriter(SchemaPtr schema) {
  if (!writer_) {
    createWriter(std::move(schema));
    if (own_.headerStaged) writer_->resumeAfterHeader(own_.withOp);
  } else if (!writer_->isOpen()) {
    writer_->reopen();
  }
}

void FileSink::processBatch(int, const RecordBatch& batch, Output&) {
  if (checkpointing_) ensureWriter(batch.schemaPtr());
  else if (!writer_) createWriter(batch.schemaPtr());
  writer_->write(batch);
}

void FileSink::finish(Output&) {
  if (checkpointing_) {
    // Staged by the next snapshot, published when its checkpoint completes.
    finished_ = true;
    if (!writer_ && !own_.headerStaged && !ctx_->inputSchemas.empty() && ctx_->inputSchemas[0])
      ensureWriter(ctx_->inputSchemas[0]);
    if (writer_ && writer_->isOpen()) {
      writer_->start();  // an output without rows still gets its header
      writer_->flush();
    }
    return;
  }
  if (!writer_) return;
  writer_->close();
  // Only a finished run replaces the output: a failed or canceled one leaves its partial
  // data in FILE.inprogress and the previous FILE untouched.
  std::error_code ec;
  std::filesystem::rename(inProgressPath(), file_, ec);
  if (ec) throw JobError(file_.string() + ": cannot move the finished output into place: " + ec.message());
}

void FileSink::snapshotState(std::int64_t checkpointId, ByteWriter& out) {
  if (!checkpointing_) return;
  if (!cleaned_) {
    // A fresh run: nothing an earlier run staged will ever be published.
    removeLeftovers(own_.file, own_.staged, writer_ && writer_->isOpen());
    cleaned_ = true;
  }
  if (writer_ && writer_->isOpen() && writer_->bytesWritten() > 0) {
    writer_->sync();
    const std::int64_t size = writer_->bytesWritten();
    writer_->closeFile();
    const fs::path staged = withSuffix(own_.file, ".pending-" + std::to_string(checkpointId));
    std::error_code ec;
    fs::rename(inProgressPath(), staged, ec);
    if (ec) throw JobError(staged.string() + ": cannot stage the output: " + ec.message());
    own_.staged.push_back(Staged{checkpointId, staged, size});
    own_.headerStaged = true;
    own_.withOp = writer_->withOp();
  }
  writeTarget(own_, out);
}

void FileSink::notifyCheckpointComplete(std::int64_t checkpointId) {
  if (!checkpointing_) return;
  publish(own_, checkpointId);
  if (finished_ && own_.staged.empty() && sizeOrMissing(own_.file) < 0) {
    // A finished output without any bytes (JSON Lines without rows): an empty file, as
    // without checkpoints.
    Fd f(::open(own_.file.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644));
    if (f.get() < 0) throw JobError(own_.file.string() + ": cannot create: " + errnoText());
  }
}

void FileSink::restoreState(const std::vector<std::string>& states) {
  if (std::all_of(states.begin(), states.end(), [](const std::string& s) { return s.empty(); })) return;
  // Read every state first: a corrupt one is refused before anything is published.
  std::vector<std::optional<Target>> targets(states.size());
  for (std::size_t i = 0; i < states.size(); ++i) {
    if (states[i].empty()) continue;  // a subtask of a run without checkpoints
    ByteReader r(states[i], ctx_->nodeId + " (sink.file) state of old subtask " + std::to_string(i));
    targets[i] = readTarget(r);
  }
  const std::size_t p = static_cast<std::size_t>(std::max(1, ctx_->parallelism));
  const fs::path own = fs::absolute(file_);
  bool ownRestored = false;
  for (std::size_t i = 0; i < targets.size(); ++i) {
    if (!targets[i] || i % p != static_cast<std::size_t>(ctx_->subtask)) continue;
    const Target& t = *targets[i];
    const std::int64_t end = publishRestored(t);
    removeLeftovers(t.file, {}, false);
    if (t.file == own) {
      own_.committed = end;
      own_.headerStaged = t.headerStaged;
      own_.withOp = t.withOp;
      ownRestored = true;
    }
  }
  if (!ownRestored && checkpointing_) {
    // Nothing of this subtask's file was committed at the checkpoint. (Without checkpoints
    // now, the restored staged files are published and the sink goes on as it does
    // without: its output replaces FILE when it finishes.)
    removeFile(own);
    removeLeftovers(own, {}, false);
  }
  own_.staged.clear();
  cleaned_ = true;
}

void FileSink::close() {
  writer_.reset();  // flushes what it can, without throwing
}

}  // namespace weir
