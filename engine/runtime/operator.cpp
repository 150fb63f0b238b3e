#include "runtime/operator.h"

#include "runtime/dead_letter.h"

namespace weir {

std::filesystem::path OperatorContext::resolve(const std::string& path) const {
  std::filesystem::path p(path);
  if (p.is_absolute() || baseDir.empty()) return p;
  return baseDir / p;
}

void OperatorContext::deadLetter(const DeadLetter& d) const {
  if (failOnBadRecord) {
    std::string where = d.file;
    if (d.line > 0) where += ":" + std::to_string(d.line);
    if (d.offset >= 0) where += " (byte " + std::to_string(d.offset) + ")";
    throw JobError("bad record at " + where + ": " + d.reason + " (on_bad_record is \"fail\")");
  }
  if (counters) OperatorCounters::add(counters->deadLetters, 1);
  if (deadLetters) deadLetters->write(nodeId, subtask, d);
}

KeyedStateBackend& OperatorContext::keyedState(std::vector<Type> keyTypes) {
  if (!keyedState_)
    keyedState_ = std::make_unique<KeyedStateBackend>(keyGroups, maxParallelism, std::move(keyTypes));
  return *keyedState_;
}

std::string OperatorContext::where() const {
  return nodeId + "[" + std::to_string(subtask) + "/" + std::to_string(parallelism) + "]";
}

}  // namespace weir
