#pragma once
// The job's dead-letter file: one JSON object per line for each malformed input record,
// {"node", "subtask", "file", "line", "offset", "reason", "record"}. Shared by every
// subtask of a job (writes are serialized by a mutex; bad records are rare by nature).
// The file is created on the first bad record only, so a clean run leaves none behind.

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <string>

#include "runtime/operator.h"

namespace weir {

class DeadLetterSink {
 public:
  explicit DeadLetterSink(std::filesystem::path path) : path_(std::move(path)) {}
  ~DeadLetterSink();
  DeadLetterSink(const DeadLetterSink&) = delete;
  DeadLetterSink& operator=(const DeadLetterSink&) = delete;

  void write(const std::string& node, int subtask, const DeadLetter& d);
  const std::filesystem::path& path() const { return path_; }
  std::int64_t count() const;

 private:
  std::filesystem::path path_;
  mutable std::mutex mu_;
  std::FILE* file_ = nullptr;
  std::int64_t count_ = 0;
};

}  // namespace weir
