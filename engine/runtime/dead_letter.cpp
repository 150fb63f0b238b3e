#include "runtime/dead_letter.h"

#include <cerrno>
#include <cstring>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "core/file_util.h"
#include "core/text.h"

namespace weir {

std::string recordJson(const RecordBatch& batch, const Schema& schema, std::size_t r, bool withOp) {
  nlohmann::json j = nlohmann::json::object();
  if (withOp) j["op"] = std::string(rowKindName(batch.kind(r)));
  for (std::size_t c = 0; c < batch.numColumns(); ++c) {
    const Column& col = batch.column(c);
    const std::string& name = schema.field(c).name;
    if (col.isNull(r)) {
      j[name] = nullptr;
      continue;
    }
    switch (col.type()) {
      case Type::Int64: j[name] = col.int64(r); break;
      case Type::Double: j[name] = col.dbl(r); break;
      case Type::Bool: j[name] = col.boolean(r); break;
      case Type::String: j[name] = std::string(col.str(r)); break;
      case Type::Timestamp: j[name] = formatTimestamp(col.int64(r)); break;
    }
  }
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

DeadLetterSink::~DeadLetterSink() {
  if (file_) std::fclose(file_);
}

void DeadLetterSink::write(const std::string& node, int subtask, const DeadLetter& d) {
  constexpr std::size_t kMaxRecord = 4096;
  nlohmann::json j = {{"node", node}, {"subtask", subtask}, {"file", d.file}, {"line", d.line},
                      {"offset", d.offset}, {"reason", d.reason},
                      {"record", d.record.size() > kMaxRecord ? d.record.substr(0, kMaxRecord) : d.record}};
  if (inMemory_) {
    std::lock_guard lock(mu_);
    ++count_;
    if (kept_.size() < keep_) kept_.push_back(std::move(j));
    return;
  }
  // Invalid UTF-8 in a bad record must not make the dead-letter file itself unreadable.
  std::string line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  line += '\n';
  std::lock_guard lock(mu_);
  ++count_;
  if (!file_) {
    std::error_code ec;
    if (path_.has_parent_path()) std::filesystem::create_directories(path_.parent_path(), ec);
    std::string why;
    const int fd = createOutputFile(path_, why);  // never through a planted link
    if (fd < 0) throw JobError("cannot write dead-letter file: " + why);
    file_ = ::fdopen(fd, "w");
    if (!file_) {
      ::close(fd);
      throw JobError("cannot write dead-letter file " + path_.string() + ": " + std::strerror(errno));
    }
  }
  if (std::fwrite(line.data(), 1, line.size(), file_) != line.size() || std::fflush(file_) != 0)
    throw JobError("cannot write dead-letter file " + path_.string() + ": " + std::strerror(errno));
}

std::unique_ptr<DeadLetterSink> DeadLetterSink::inMemory(std::size_t keep) {
  std::unique_ptr<DeadLetterSink> s(new DeadLetterSink());
  s->inMemory_ = true;
  s->keep_ = keep;
  return s;
}

std::vector<nlohmann::json> DeadLetterSink::kept() const {
  std::lock_guard lock(mu_);
  return kept_;
}

std::int64_t DeadLetterSink::count() const {
  std::lock_guard lock(mu_);
  return count_;
}

}  // namespace weir
