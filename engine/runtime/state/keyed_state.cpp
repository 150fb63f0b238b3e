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

void KeyedStateBackend::snapshotGroup(int group, ByteWriter& out) const {
  out.u32(static_cast<std::uint32_t>(tables_.size()));
  for (const auto& [name, t] : tables_) {
    out.str(name);
    const std::size_t len = out.placeholderU32();
    const std::size_t start = out.size();
    t->snapshotGroup(group, out);
    out.patchU32(len, static_cast<std::uint32_t>(out.size() - start));
  }
}

void KeyedStateBackend::restoreGroup(int group, ByteReader& in) {
  const std::uint32_t n = in.u32();
  for (std::uint32_t i = 0; i < n; ++i) {
    const std::string name = in.str();
    const std::uint32_t len = in.u32();
    // `in` names the key group already (restoreOperator's reader).
    ByteReader part(in.raw(len), in.what() + ", state '" + name + "'");
    auto it = tables_.find(name);
    if (it == tables_.end()) in.fail("the snapshot has state '" + name + "', which this operator does not keep");
    it->second->restoreGroup(group, part);
    if (!part.atEnd()) part.fail(std::to_string(part.remaining()) + " bytes left over");
  }
}

}  // namespace weir
