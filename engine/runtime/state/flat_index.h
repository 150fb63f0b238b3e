#pragma once
// FlatIndex: a hash index from small keys to 32-bit values (slot numbers, key ids) in one
// flat array, with open addressing and linear probing, for the per-record lookups of
// keyed state (KeyDictionary, the window operator's slots).
//
// Why not std::unordered_map: a node-based map costs two or three dependent cache misses
// per lookup (bucket, node, sometimes a chain); here an entry (key and value side by side)
// is usually found in the first cache line probed, and prefetch() can fetch that line for
// a record a few rows ahead while the current one is processed, so a batch of lookups into
// a table far larger than the cache does not wait on memory record by record.
//
// At most 70% full (it doubles beyond). erase() shifts the following entries of the probe
// run back (backward-shift deletion), so there are no tombstones and lookups never slow
// down with churn. Values must not be kNone (it marks an empty entry).
//
// Threading: none; one owner.

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace weir {

template <class K, class Hash>
class FlatIndex {
 public:
  static constexpr std::uint32_t kNone = UINT32_MAX;

  FlatIndex() { entries_.assign(16, Entry{}); }

  std::size_t size() const { return size_; }

  /// The value of `key`, or kNone.
  std::uint32_t find(const K& key) const {
    const std::uint32_t* v = findValue(key);
    return v ? *v : kNone;
  }
  const std::uint32_t* findValue(const K& key) const {
    for (std::size_t i = home(key);; i = (i + 1) & mask()) {
      const Entry& e = entries_[i];
      if (e.value == kNone) return nullptr;
      if (e.key == key) return &e.value;
    }
  }
  std::uint32_t* findValue(const K& key) {
    return const_cast<std::uint32_t*>(std::as_const(*this).findValue(key));
  }

  /// The entry of `key`, added with `value` when absent; second: whether it was added.
  std::pair<std::uint32_t*, bool> tryEmplace(const K& key, std::uint32_t value) {
    if ((size_ + 1) * 10 > entries_.size() * 7) grow();
    for (std::size_t i = home(key);; i = (i + 1) & mask()) {
      Entry& e = entries_[i];
      if (e.value == kNone) {
        e.key = key;
        e.value = value;
        ++size_;
        return {&e.value, true};
      }
      if (e.key == key) return {&e.value, false};
    }
  }

  /// Removes `key`; false when it was absent.
  bool erase(const K& key) {
    std::size_t i = home(key);
    for (;; i = (i + 1) & mask()) {
      const Entry& e = entries_[i];
      if (e.value == kNone) return false;
      if (e.key == key) break;
    }
    // Move back each later entry of the run whose home is not cyclically in (i, j].
    for (std::size_t j = (i + 1) & mask(); entries_[j].value != kNone; j = (j + 1) & mask()) {
      const std::size_t h = home(entries_[j].key);
      const bool stays = i <= j ? (i < h && h <= j) : (i < h || h <= j);
      if (stays) continue;
      entries_[i] = entries_[j];
      i = j;
    }
    entries_[i].value = kNone;
    --size_;
    return true;
  }

  void clear() {
    std::vector<Entry>(16, Entry{}).swap(entries_);
    size_ = 0;
  }

  /// Starts loading the cache line where `key`'s lookup begins.
  void prefetch(const K& key) const { __builtin_prefetch(&entries_[home(key)]); }

 private:
  struct Entry {
    K key{};
    std::uint32_t value = kNone;
  };
  std::size_t mask() const { return entries_.size() - 1; }
  std::size_t home(const K& key) const { return Hash()(key) & mask(); }
  void grow() {
    std::vector<Entry> old(entries_.size() * 2, Entry{});
    old.swap(entries_);
    size_ = 0;
    for (const Entry& e : old)
      if (e.value != kNone) tryEmplace(e.key, e.value);
  }

  std::vector<Entry> entries_;
  std::size_t size_ = 0;
};

}  // namespace weir
