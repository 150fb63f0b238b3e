#pragma once
// GroupBuckets: for a KeyedTable's snapshotGroup, references to its entries bucketed by
// key group. A snapshot calls snapshotGroup for every group of the subtask in turn; a
// table that scanned all its entries per call would pay groups x entries. The buckets are
// built on the first call of a snapshot (one pass) and reused for its other groups.
//
// The table calls changed() on every insertion and removal of an entry: the buckets are
// then stale and are dropped (their memory too, once per checkpoint). Contents read
// through a reference are the live ones, so changes that add no entry and remove none (an
// accumulator updated, a record appended to a buffer that already exists) need no call.
//
// Threading: the table's (its subtask's thread).

#include <cstdint>
#include <vector>

namespace weir {

template <class Ref>
class GroupBuckets {
 public:
  void changed() {
    ++version_;
    if (builtAt_ != kNone) [[unlikely]] drop();
  }
  /// Group `group`'s references. When the buckets must be built, fill(add) is called and
  /// must call add(group, ref) for every entry (`groups`: the max parallelism).
  template <class Fill>
  const std::vector<Ref>& of(int group, int groups, Fill&& fill) const {
    if (builtAt_ != version_) {
      buckets_.assign(static_cast<std::size_t>(groups), {});
      fill([this](int g, Ref r) { buckets_[static_cast<std::size_t>(g)].push_back(r); });
      builtAt_ = version_;
    }
    return buckets_[static_cast<std::size_t>(group)];
  }

 private:
  static constexpr std::uint64_t kNone = UINT64_MAX;
  void drop() const {
    std::vector<std::vector<Ref>>().swap(buckets_);
    builtAt_ = kNone;
  }
  std::uint64_t version_ = 0;
  mutable std::uint64_t builtAt_ = kNone;
  mutable std::vector<std::vector<Ref>> buckets_;
};

}  // namespace weir
