#pragma once
// Keyed state: what a keyed operator (window, aggregate, join) remembers per key, owned by
// a KeyedStateBackend that the runtime gives the operator (OperatorContext::keyedState).
//
// Model (Flink's): every access is scoped to the *current key* (setCurrentKey) and, per
// state, a *namespace* (an int64: a window's end, 0 when unused). A backend owns the key
// groups of its subtask (runtime/state/key_groups.h) and keeps every entry under its
// key's group, so that a checkpoint snapshots it group by group (snapshotGroup) and a
// rescaled job hands groups to other subtasks (restoreGroup of the groups a subtask owns
// now, runtime/snapshot.h).
//
// Kinds of state, each an abstract handle the backend implements:
//   ValueState<T>        one value
//   ListState<T>         a list, appended to
//   MapState<K, V>       a map
//   ReducingState<T>     one value folded with a reduce function on every add
// Handles are created once (in open()) by name through the backend's templates and used
// for every record; the name identifies the state in snapshots.
//
// Backends: a closed set known at compile time (BackendKind). Heap (here) keeps typed C++
// objects in hash maps per key group, and encodes them only for a snapshot (StateCodec,
// runtime/state/state_codec.h); a RocksDB backend, keeping encoded bytes, is not written. The state templates create the right handle for the backend's kind, so an
// operator written against these handles runs on either without a change.
//
// Custom tables: an operator whose per-record path must avoid virtual calls (the window
// operator keeps accumulators per key and window) registers a KeyedTable of its own with
// the backend (table<T>()); it implements the same per-key-group contract, so it is
// snapshotted and rescaled like the built-in kinds. Timers are such a table too
// (runtime/state/timers.h, "timers"). Every table is created in the operator's open():
// a restore runs after open() and matches tables by name.
//
// Snapshots (docs/fault-tolerance.md, "Keyed state in snapshots"): per key group, every
// table by name; keys as their encoded bytes (never KeyIds), re-interned and checked on
// restore; a heap entry with its namespace and TTL write time.
//
// Keys: every entry retains its key in the backend's KeyDictionary and releases it when
// erased, so a key is forgotten once no state refers to it.
//
// TTL (StateTtl): an entry not written for ttl_ms of processing time reads as absent and
// is dropped; expiry is checked on every access (a write into an expired entry starts it
// afresh) and by expire(now) sweeps, which the runtime never calls on its own.
//
// Threading: a backend belongs to one subtask and is used on its thread only.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "runtime/state/key_dictionary.h"
#include "runtime/state/key_groups.h"
#include "runtime/state/snapshot_io.h"
#include "runtime/state/state_codec.h"

namespace weir {

enum class BackendKind { Heap };

struct StateTtl {
  std::int64_t ttlMs = 0;  // entries older than this (since their last write) expire
};

struct StateDescriptor {
  std::string name;
  std::optional<StateTtl> ttl;
};

/// What every table of keyed state offers the backend: size for metrics, and per-key-group
/// access for snapshots and rescaling.
class KeyedTable {
 public:
  virtual ~KeyedTable() = default;
  virtual std::size_t size() const = 0;
  /// Entries under key group `group` (a snapshot skips the groups where every table has
  /// none). Called for every group of the range at each snapshot: keep it cheap.
  virtual std::size_t sizeOfGroup(int group) const = 0;
  /// Drops every entry of `group` (after the group moved to another subtask).
  virtual void clearGroup(int group) = 0;
  /// Drops entries whose TTL expired at `nowMs`.
  virtual void expire(std::int64_t /*nowMs*/) {}
  /// Writes every entry of key group `group` (snapshot_io.h format; keys as their encoded
  /// bytes from the backend's KeyDictionary, never as KeyIds; values by StateCodec or the
  /// table's own documented layout). Only reads: processing goes on afterwards unchanged.
  virtual void snapshotGroup(int group, ByteWriter& out) const = 0;
  /// Adds the entries snapshotGroup wrote for `group` into this (fresh, opened) table:
  /// interns their keys (KeyDictionary::internEncoded, which checks that each belongs to
  /// `group`) and retains them once per entry, as the entries that wrote them did. Throws
  /// SnapshotError (in.fail) on bytes it cannot read; reads exactly what was written.
  virtual void restoreGroup(int group, ByteReader& in) = 0;
};

template <class T>
class ValueState {
 public:
  virtual ~ValueState() = default;
  virtual void setNamespace(std::int64_t ns) = 0;
  /// The current key's value, or nullptr. Valid until the next write to this state.
  virtual const T* value() = 0;
  virtual void update(T value) = 0;
  virtual void clear() = 0;
};

template <class T>
class ListState {
 public:
  virtual ~ListState() = default;
  virtual void setNamespace(std::int64_t ns) = 0;
  virtual void add(T value) = 0;
  /// The current key's list (empty when none). Valid until the next write.
  virtual const std::vector<T>& get() = 0;
  virtual void update(std::vector<T> values) = 0;
  virtual void clear() = 0;
};

template <class K, class V>
class MapState {
 public:
  virtual ~MapState() = default;
  virtual void setNamespace(std::int64_t ns) = 0;
  virtual const V* get(const K& key) = 0;
  virtual void put(const K& key, V value) = 0;
  virtual void remove(const K& key) = 0;
  virtual bool contains(const K& key) = 0;
  /// Visits every entry of the current key's map.
  virtual void forEach(const std::function<void(const K&, const V&)>& fn) = 0;
  virtual bool empty() = 0;
  virtual void clear() = 0;
};

template <class T>
class ReducingState {
 public:
  virtual ~ReducingState() = default;
  virtual void setNamespace(std::int64_t ns) = 0;
  /// Folds `value` into the current key's value with the reduce function.
  virtual void add(const T& value) = 0;
  virtual const T* get() = 0;
  virtual void clear() = 0;
};

class KeyedStateBackend;

/// What the backend owns a state handle as (handles are typed; this erases the type).
class StateHandleBase {
 public:
  virtual ~StateHandleBase() = default;
};

namespace heap {

/// Entries of one kind of state, per key group: (key, namespace) -> value.
template <class V>
class HeapTable final : public KeyedTable {
 public:
  struct Slot {
    V value;
    std::int64_t writtenAt = 0;
  };

  HeapTable(KeyedStateBackend& backend, StateDescriptor desc);

  /// The current key's entry in namespace `ns`, or nullptr (also when expired).
  Slot* find(std::int64_t ns);
  /// The current key's entry, created (default V) when absent or expired; its write time
  /// is now.
  Slot& upsert(std::int64_t ns);
  void erase(std::int64_t ns);

  std::size_t size() const override;
  std::size_t sizeOfGroup(int group) const override;
  void clearGroup(int group) override;
  void expire(std::int64_t nowMs) override;
  /// Per entry: key bytes, i64 namespace, i64 write time (processing time, ms), the value
  /// (StateCodec<V>); after a u32 count. An expired entry not yet swept is written as it
  /// is and expires after the restore at the same moment.
  void snapshotGroup(int group, ByteWriter& out) const override;
  void restoreGroup(int group, ByteReader& in) override;

 private:
  struct Key {
    KeyId key;
    std::int64_t ns;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const {
      return std::hash<std::uint64_t>()((static_cast<std::uint64_t>(k.key) << 32) ^
                                        static_cast<std::uint64_t>(k.ns) * 0x9e3779b97f4a7c15ULL);
    }
  };
  using Map = std::unordered_map<Key, Slot, KeyHash>;
  Map& group();
  bool expired(const Slot& s, std::int64_t now) const;

  KeyedStateBackend& backend_;
  StateDescriptor desc_;
  std::vector<Map> groups_;  // indexed by KeyGroupRange::offset
};

}  // namespace heap

class KeyedStateBackend {
 public:
  /// A heap backend for the key groups `range` of `maxParallelism`, keys of `keyTypes`.
  KeyedStateBackend(KeyGroupRange range, int maxParallelism, std::vector<Type> keyTypes,
                    BackendKind kind = BackendKind::Heap);
  KeyedStateBackend(const KeyedStateBackend&) = delete;
  KeyedStateBackend& operator=(const KeyedStateBackend&) = delete;
  ~KeyedStateBackend();

  BackendKind kind() const { return kind_; }
  KeyGroupRange keyGroups() const { return range_; }
  int maxParallelism() const { return maxParallelism_; }
  KeyDictionary& keys() { return keys_; }
  const KeyDictionary& keys() const { return keys_; }

  /// The key every state access is scoped to. The key must belong to this backend's groups.
  void setCurrentKey(KeyId key);
  KeyId currentKey() const { return currentKey_; }
  int currentKeyGroup() const { return currentGroup_; }

  /// Processing time (ms since the epoch) for TTL and for the operators' processing-time
  /// records and timers (a processing-time window stamps records with it). Default: the
  /// wall clock; tests set one.
  void setClock(std::function<std::int64_t()> clock) { clock_ = std::move(clock); }
  std::int64_t now() const { return clock_(); }

  template <class T>
  ValueState<T>& valueState(const StateDescriptor& desc);
  template <class T>
  ListState<T>& listState(const StateDescriptor& desc);
  template <class K, class V>
  MapState<K, V>& mapState(const StateDescriptor& desc);
  template <class T>
  ReducingState<T>& reducingState(const StateDescriptor& desc,
                                  std::function<T(const T&, const T&)> reduce);

  /// A custom table (see the header comment), created by `make` on first use.
  template <class Table>
  Table& table(const std::string& name, const std::function<std::unique_ptr<Table>()>& make);

  /// Every table by name (snapshots, metrics).
  const std::map<std::string, std::unique_ptr<KeyedTable>>& tables() const { return tables_; }
  /// Entries over all tables (metrics: state size).
  std::size_t numEntries() const;
  void expire(std::int64_t nowMs);

  /// Writes key group `group` of every table, by table name (a snapshot's keyed part).
  void snapshotGroup(int group, ByteWriter& out) const;
  /// Restores what snapshotGroup wrote. Tables are matched by name and must exist (the
  /// operator creates its tables in open()); a table in the snapshot that the operator no
  /// longer has is an error naming it.
  void restoreGroup(int group, ByteReader& in);

 private:
  template <class Handle>
  Handle& handle(const std::string& name, const std::function<std::unique_ptr<Handle>()>& make);
  template <class V>
  heap::HeapTable<V>& heapTable(const StateDescriptor& desc);

  BackendKind kind_;
  KeyGroupRange range_;
  int maxParallelism_;
  KeyDictionary keys_;
  KeyId currentKey_ = kNoKey;
  int currentGroup_ = -1;
  std::function<std::int64_t()> clock_;
  std::map<std::string, std::unique_ptr<KeyedTable>> tables_;
  std::map<std::string, std::unique_ptr<StateHandleBase>> handles_;  // by state name
};

}  // namespace weir

#include "runtime/state/keyed_state_impl.h"
