#include "runtime/state/keyed_state.h"

#include "runtime/watermarks.h"

namespace weir {

KeyedStateBackend::KeyedStateBackend(KeyGroupRange range, int maxParallelism,
                                     std::vector<Type> keyTypes, BackendKind kind)
    : kind_(kind), range_(range), maxParallelism_(maxParallelism),
      keys_(std::move(keyTypes), maxParallelism), clock_(wallClockMs) {}

KeyedStateBackend::~KeyedStateBackend() = default;

void KeyedStateBackend::setCurrentKey(KeyId key) {
  currentKey_ = key;
  currentGroup_ = keys_.keyGroup(key);
  assert(range_.contains(currentGroup_));
}

std::size_t KeyedStateBackend::numEntries() const {
  std::size_t n = 0;
  for (const auto& [name, t] : tables_) n += t->size();
  return n;
}

void KeyedStateBackend::expire(std::int64_t nowMs) {
  for (auto& [name, t] : tables_) t->expire(nowMs);
}

}  // namespace weir
