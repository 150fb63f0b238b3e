#include "runtime/checkpoint_storage.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "core/file_util.h"

namespace weir {

using nlohmann::json;

json SubtaskAck::toJson() const {
  json files_ = json::array();
  for (const auto& f : files)
    files_.push_back({{"node", f.node}, {"file", f.file}, {"bytes", f.bytes}, {"state_bytes", f.stateBytes}});
  return {{"checkpoint", checkpointId}, {"job", job}, {"attempt", attempt}, {"vertex", vertex},       {"subtask", subtask},
          {"finished", finished},       {"state_bytes", stateBytes}, {"sync_ms", syncMs},
          {"async_ms", asyncMs},        {"alignment_ms", alignmentMs}, {"files", files_}};
}

SubtaskAck SubtaskAck::fromJson(const json& j) {
  try {
    SubtaskAck a;
    a.checkpointId = j.at("checkpoint").get<std::int64_t>();
    a.job = j.value("job", "");
    a.attempt = j.value("attempt", 0);
    a.vertex = j.at("vertex").get<std::string>();
    a.subtask = j.at("subtask").get<int>();
    a.finished = j.at("finished").get<bool>();
    a.stateBytes = j.at("state_bytes").get<std::int64_t>();
    a.syncMs = j.at("sync_ms").get<std::int64_t>();
    a.asyncMs = j.at("async_ms").get<std::int64_t>();
    a.alignmentMs = j.at("alignment_ms").get<std::int64_t>();
    for (const auto& f : j.at("files"))
      a.files.push_back({f.at("node").get<std::string>(), f.at("file").get<std::string>(), f.at("bytes").get<std::int64_t>(),
                         f.value("state_bytes", std::int64_t{0})});
    return a;
  } catch (const json::exception& e) {
    throw std::runtime_error(std::string("checkpoint acknowledgement: ") + e.what());
  }
}

std::filesystem::path checkpointDir(const std::filesystem::path& jobDir, std::int64_t id, const std::string& kind) {
  return jobDir / (kind + "-" + std::to_string(id));
}

std::string snapshotFileName(const std::string& node, int subtask) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : node) {
    if (std::isalnum(c) || c == '_' || c == '-') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out + "." + std::to_string(subtask) + ".snap";
}

SnapshotUploader::SnapshotUploader() : thread_([this] { run(); }) {}

SnapshotUploader::~SnapshotUploader() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void SnapshotUploader::post(std::function<void()> task) {
  {
    std::lock_guard lock(mu_);
    tasks_.push_back(std::move(task));
  }
  cv_.notify_all();
}

void SnapshotUploader::run() {
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !tasks_.empty(); });
      if (tasks_.empty()) return;
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    task();  // tasks catch their own errors (they decline the checkpoint)
  }
}

json CheckpointMetadata::toJson() const {
  json nodes_ = json::object();
  for (const auto& [id, n] : nodes)
    nodes_[id] = {{"type", n.type}, {"parallelism", n.parallelism}, {"key", n.key}, {"schema", n.schema},
                  {"state_bytes", n.stateBytes},
                  {"files", n.files}};
  json fin = json::array();
  for (const auto& [v, s] : finished) fin.push_back({{"vertex", v}, {"subtask", s}});
  return {{"format", 1},          {"job", job},           {"attempt", attempt},
          {"id", id},             {"kind", kind},         {"triggered_at", triggeredAt},
          {"completed_at", completedAt}, {"max_parallelism", maxParallelism},
          {"nodes", nodes_},      {"finished", fin},      {"total_bytes", totalBytes}};
}

CheckpointMetadata CheckpointMetadata::fromJson(const json& j) {
  try {
    if (j.at("format").get<int>() != 1) throw std::runtime_error("unknown checkpoint metadata format");
    CheckpointMetadata m;
    m.job = j.at("job").get<std::string>();
    m.attempt = j.at("attempt").get<int>();
    m.id = j.at("id").get<std::int64_t>();
    m.kind = j.at("kind").get<std::string>();
    m.triggeredAt = j.at("triggered_at").get<std::int64_t>();
    m.completedAt = j.at("completed_at").get<std::int64_t>();
    m.maxParallelism = j.at("max_parallelism").get<int>();
    for (const auto& [id, n] : j.at("nodes").items()) {
      Node node;
      node.type = n.at("type").get<std::string>();
      node.parallelism = n.at("parallelism").get<int>();
      node.key = n.value("key", "");
      node.schema = n.value("schema", "");
      node.stateBytes = n.value("state_bytes", std::int64_t{0});
      node.files = n.at("files").get<std::vector<std::string>>();
      if (node.parallelism < 1 || node.files.size() != static_cast<std::size_t>(node.parallelism))
        throw std::runtime_error("node '" + id + "' lists " + std::to_string(node.files.size()) + " files for parallelism " +
                                 std::to_string(node.parallelism));
      m.nodes[id] = std::move(node);
    }
    for (const auto& f : j.at("finished")) m.finished.emplace_back(f.at("vertex").get<std::string>(), f.at("subtask").get<int>());
    m.totalBytes = j.value("total_bytes", std::int64_t{0});
    return m;
  } catch (const json::exception& e) {
    throw std::runtime_error(e.what());
  }
}

bool CheckpointMetadata::isFinished(const std::string& vertex, int subtask) const {
  for (const auto& [v, s] : finished)
    if (v == vertex && s == subtask) return true;
  return false;
}

void writeCheckpointMetadata(const std::filesystem::path& dir, const CheckpointMetadata& meta) {
  writeFileAtomically(dir / "_metadata", meta.toJson().dump(1));
}

CheckpointMetadata readCheckpointMetadata(const std::filesystem::path& dir) {
  const auto path = dir / "_metadata";
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path.string() + ": cannot read (not a completed checkpoint or savepoint)");
  std::stringstream ss;
  ss << in.rdbuf();
  try {
    return CheckpointMetadata::fromJson(json::parse(ss.str()));
  } catch (const std::exception& e) {
    throw std::runtime_error(path.string() + ": " + e.what());
  }
}

std::vector<CheckpointFolder> checkpointFolders(const std::filesystem::path& jobDir) {
  std::vector<CheckpointFolder> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(jobDir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("chk-", 0) != 0) continue;
    char* end = nullptr;
    const long long id = std::strtoll(name.c_str() + 4, &end, 10);
    if (!end || *end != '\0') continue;
    out.push_back({id, e.path(), std::filesystem::exists(e.path() / "_metadata", ec)});
  }
  std::sort(out.begin(), out.end(), [](const CheckpointFolder& a, const CheckpointFolder& b) { return a.id < b.id; });
  return out;
}

std::optional<std::filesystem::path> latestCompletedCheckpoint(const std::filesystem::path& jobDir) {
  const auto folders = checkpointFolders(jobDir);
  for (auto it = folders.rbegin(); it != folders.rend(); ++it)
    if (it->complete) return it->path;
  return std::nullopt;
}

std::string stateKeyText(const PlanNode& node) { return node.params.contains("key") ? node.params["key"].dump() : ""; }

std::string inputSchemaText(const PlanNode& node) {
  std::string s;
  for (std::size_t i = 0; i < node.inputSchemas.size(); ++i)
    s += (i ? "; " : "") + (node.inputSchemas[i] ? node.inputSchemas[i]->toString() : std::string("?"));
  return s;
}

std::vector<OperatorSnapshot> readNodeSnapshots(const std::filesystem::path& dir, const CheckpointMetadata& meta,
                                                const std::string& node) {
  std::vector<OperatorSnapshot> out;
  auto it = meta.nodes.find(node);
  if (it == meta.nodes.end()) return out;
  for (const std::string& file : it->second.files) {
    if (file.empty()) continue;
    const auto path = dir / file;
    std::ifstream in(path, std::ios::binary);
    if (!in) throw SnapshotError(path.string() + ": cannot read");
    std::stringstream ss;
    ss << in.rdbuf();
    out.push_back(OperatorSnapshot::decode(ss.str(), path.string()));
  }
  return out;
}

}  // namespace weir
