#pragma once
// KeyDictionary: the keys a keyed operator holds state for, interned to small dense ids.
//
// State tables and timers refer to a key by its KeyId (4 bytes) instead of its values, so
// a lookup in a table is one integer hash. A key is stored once, encoded as bytes (per
// key field: a null flag, then 8 bytes for int64/timestamp/double, 1 for bool, a 4-byte
// length and the characters for string; keys up to 15 bytes, such as one int64 field,
// fit in std::string's inline buffer, so interning them allocates nothing).
//
// Lifetime: the dictionary counts references (retain/release) from the state that uses
// a key. A key without references (released by its last entry, or interned and never
// retained) is forgotten at the next sweep() and its id reused, so the dictionary stays
// as large as the live state, not as the number of keys ever seen. Every id stays valid
// until the next sweep(): the owner calls it between batches (never while it holds ids of
// the batch being processed).
//
// Batches: intern() takes the hashes computed for partitioning (hashKeys over the key
// fields) so each record's key is hashed once, column by column, and looked up once.
//
// Snapshots write a key as these bytes, never as its KeyId (which is this process's own);
// the encoding's numbers are little-endian (the byte order of every platform Weir builds
// for, asserted in key_dictionary.cpp), so the bytes mean the same on every machine.
// Restoring interns them again (internEncoded) and checks them.
//
// Threading: one dictionary per operator instance, used on its subtask's thread only.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/batch.h"
#include "runtime/state/flat_index.h"
#include "runtime/state/key_groups.h"
#include "runtime/state/snapshot_io.h"

namespace weir {

using KeyId = std::uint32_t;
inline constexpr KeyId kNoKey = UINT32_MAX;

/// A key and a time (a window's start): what per-key, per-window state is indexed by.
struct KeyTime {
  KeyId key = kNoKey;
  std::int64_t time = 0;
  bool operator==(const KeyTime&) const = default;
};
struct KeyTimeHash {
  std::size_t operator()(const KeyTime& k) const {
    std::uint64_t x = (static_cast<std::uint64_t>(k.key) << 40) ^ static_cast<std::uint64_t>(k.time);
    x ^= x >> 31;
    x *= 0x9e3779b97f4a7c15ULL;
    return static_cast<std::size_t>(x ^ (x >> 29));
  }
};

class KeyDictionary {
 public:
  /// Keys of `keyTypes` (the key fields' types, in key order), grouped into
  /// `maxParallelism` key groups.
  KeyDictionary(std::vector<Type> keyTypes, int maxParallelism);
  KeyDictionary(const KeyDictionary&) = delete;
  KeyDictionary& operator=(const KeyDictionary&) = delete;

  /// Appends to `ids` the id of the key of every row of `batch` (key fields `fields`),
  /// adding keys not seen yet (with no references). hashes[i] = hashKeys of row i.
  void intern(const RecordBatch& batch, std::span<const int> fields,
              std::span<const std::uint64_t> hashes, std::vector<KeyId>& ids);
  /// The id of the key of every row of `batch` (key fields `fields`), hashed with hashKeys
  /// (the partitioner's hash) and interned as above; the vector is the dictionary's own and
  /// is reused by the next call.
  const std::vector<KeyId>& internRows(const RecordBatch& batch, std::span<const int> fields);
  /// The id of a key given as encoded bytes and its hash; added when new.
  KeyId intern(std::string_view bytes, std::uint64_t hash);

  /// The id of a key given as encoded bytes and its hash, or kNoKey when it is not here.
  KeyId find(std::string_view bytes, std::uint64_t hash) const;

  /// Restore: the ids of keys read from a snapshot as their encoded bytes, appended to
  /// `ids`, interned as intern() does (no references: the entries that hold them retain
  /// them). Their hashes are computed as hashKeys computes them, for all the keys at once.
  /// Each must be a well-formed encoding of this dictionary's key types and belong to key
  /// group `group`; otherwise in.fail() names the key.
  void internEncoded(std::span<const std::string_view> keys, int group, const ByteReader& in,
                     std::vector<KeyId>& ids);
  /// Whether `bytes` is a well-formed encoding of a key of `types`.
  static bool wellFormed(std::span<const Type> types, std::string_view bytes);

  void retain(KeyId id) { ++refs_[id]; }
  /// Drops one reference; a key left without any is forgotten by the next sweep().
  void release(KeyId id);
  /// Forgets every key without references (ids interned since the last sweep included).
  void sweep();

  int keyGroup(KeyId id) const { return groups_[id]; }
  std::uint64_t hash(KeyId id) const { return hashes_[id]; }
  std::string_view bytes(KeyId id) const { return bytes_[id]; }
  /// Appends the key's field values to `columns` (one per key field, in key order).
  void appendKey(KeyId id, std::span<Column* const> columns) const { appendKey(types_, bytes_[id], columns); }
  /// The same for a key kept as its encoded bytes (state that outlives the key's id).
  static void appendKey(std::span<const Type> types, std::string_view bytes,
                        std::span<Column* const> columns);
  /// Live keys (retained at least once, or interned and not yet released).
  std::size_t size() const { return byHash_.size() + collisions_; }
  const std::vector<Type>& keyTypes() const { return types_; }
  int maxParallelism() const { return maxParallelism_; }

  /// Encodes row `row`'s key fields as intern() does (for tests and generic callers).
  static void encode(const RecordBatch& batch, std::span<const int> fields, std::size_t row,
                     std::string& out);

 private:
  KeyId add(std::string_view bytes, std::uint64_t hash);
  /// intern(bytes, hash) with `equal(storedBytes)` deciding whether a stored key is it.
  template <class Equal>
  KeyId internWith(std::string_view bytes, std::uint64_t hash, Equal equal);
  void unlink(KeyId id);

  std::vector<Type> types_;
  int maxParallelism_;
  std::vector<std::string> bytes_;
  std::vector<std::uint64_t> hashes_;
  std::vector<int> groups_;
  std::vector<std::uint32_t> refs_;
  std::vector<std::uint8_t> live_;
  std::vector<KeyId> nextSameHash_;  // other keys with the same 64-bit hash (rare)
  std::vector<KeyId> free_;
  std::vector<KeyId> unreferenced_;  // candidates for the next sweep
  struct HashOfHash {
    std::size_t operator()(std::uint64_t h) const { return static_cast<std::size_t>(h ^ (h >> 29)); }
  };
  FlatIndex<std::uint64_t, HashOfHash> byHash_;  // first key of each hash
  std::size_t collisions_ = 0;
  std::string scratch_;
  std::vector<std::uint64_t> rowHashes_;  // internRows' scratch
  std::vector<KeyId> rowIds_;
};

}  // namespace weir
