#pragma once
// The job's dead-letter file: one JSON object per line for each malformed input record,
// {"node", "subtask", "file", "line", "offset", "reason", "record"}. Shared by every
// subtask of a job (writes are serialized by a mutex; bad records are rare by nature).
// The file is created on the first bad record only, so a clean run leaves none behind.
//
// In memory (DeadLetterSink::inMemory, the preview): the same objects are kept in a list
// (the first `keep` of them; all are counted) and nothing touches the disk.

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/operator.h"

namespace weir {

/// Row `row` of `batch` (fields named by `schema`) as one JSON object for a dead letter's
/// `record`: values as in JSON Lines (timestamps ISO-8601), null for null, and with
/// `withOp` its row kind as "op". Invalid UTF-8 in a string becomes U+FFFD.
std::string recordJson(const RecordBatch& batch, const Schema& schema, std::size_t row, bool withOp = false);

class DeadLetterSink {
 public:
  explicit DeadLetterSink(std::filesystem::path path) : path_(std::move(path)) {}
  /// A sink that keeps the first `keep` dead letters in memory and writes no file.
  static std::unique_ptr<DeadLetterSink> inMemory(std::size_t keep);
  ~DeadLetterSink();
  DeadLetterSink(const DeadLetterSink&) = delete;
  DeadLetterSink& operator=(const DeadLetterSink&) = delete;

  void write(const std::string& node, int subtask, const DeadLetter& d);
  const std::filesystem::path& path() const { return path_; }
  std::int64_t count() const;
  bool isInMemory() const { return inMemory_; }
  /// In memory: the dead letters kept, in arrival order (empty for a file sink).
  std::vector<nlohmann::json> kept() const;

 private:
  DeadLetterSink() = default;

  std::filesystem::path path_;
  mutable std::mutex mu_;
  std::FILE* file_ = nullptr;
  std::int64_t count_ = 0;
  bool inMemory_ = false;
  std::size_t keep_ = 0;
  std::vector<nlohmann::json> kept_;
};

}  // namespace weir
