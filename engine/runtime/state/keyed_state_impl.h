#pragma once
// Template definitions of runtime/state/keyed_state.h (included at its end): the heap
// table and the heap handles of each kind of state.

#include <cassert>
#include <stdexcept>

namespace weir {
namespace heap {

template <class V>
HeapTable<V>::HeapTable(KeyedStateBackend& backend, StateDescriptor desc)
    : backend_(backend), desc_(std::move(desc)),
      groups_(static_cast<std::size_t>(backend.keyGroups().size())) {}

template <class V>
typename HeapTable<V>::Map& HeapTable<V>::group() {
  assert(backend_.currentKey() != kNoKey);
  return groups_[static_cast<std::size_t>(backend_.keyGroups().offset(backend_.currentKeyGroup()))];
}

template <class V>
bool HeapTable<V>::expired(const Slot& s, std::int64_t now) const {
  return desc_.ttl && now - s.writtenAt >= desc_.ttl->ttlMs;
}

template <class V>
typename HeapTable<V>::Slot* HeapTable<V>::find(std::int64_t ns) {
  Map& m = group();
  auto it = m.find(Key{backend_.currentKey(), ns});
  if (it == m.end()) return nullptr;
  if (desc_.ttl && expired(it->second, backend_.now())) {
    m.erase(it);
    backend_.keys().release(backend_.currentKey());
    return nullptr;
  }
  return &it->second;
}

template <class V>
typename HeapTable<V>::Slot& HeapTable<V>::upsert(std::int64_t ns) {
  auto [it, inserted] = group().try_emplace(Key{backend_.currentKey(), ns});
  if (inserted) backend_.keys().retain(backend_.currentKey());  // an entry holds its key
  if (desc_.ttl) {
    const std::int64_t now = backend_.now();
    // An expired entry that was neither read nor swept is reused as a new one: writing
    // (a list's add, a map's put) starts from empty, so expired contents never return.
    if (!inserted && expired(it->second, now)) it->second.value = V{};
    it->second.writtenAt = now;
  }
  return it->second;
}

template <class V>
void HeapTable<V>::erase(std::int64_t ns) {
  if (group().erase(Key{backend_.currentKey(), ns})) backend_.keys().release(backend_.currentKey());
}

template <class V>
std::size_t HeapTable<V>::size() const {
  std::size_t n = 0;
  for (const Map& m : groups_) n += m.size();
  return n;
}

template <class V>
std::size_t HeapTable<V>::sizeOfGroup(int g) const {
  return groups_[static_cast<std::size_t>(backend_.keyGroups().offset(g))].size();
}

template <class V>
void HeapTable<V>::clearGroup(int g) {
  Map& m = groups_[static_cast<std::size_t>(backend_.keyGroups().offset(g))];
  for (const auto& e : m) backend_.keys().release(e.first.key);
  m.clear();
}

template <class V>
void HeapTable<V>::expire(std::int64_t nowMs) {
  if (!desc_.ttl) return;
  for (Map& m : groups_)
    std::erase_if(m, [&](const auto& e) {
      if (!expired(e.second, nowMs)) return false;
      backend_.keys().release(e.first.key);
      return true;
    });
}

template <class V>
void HeapTable<V>::snapshotGroup(int g, ByteWriter& out) const {
  const Map& m = groups_[static_cast<std::size_t>(backend_.keyGroups().offset(g))];
  out.u32(static_cast<std::uint32_t>(m.size()));
  for (const auto& [k, slot] : m) {
    out.bytes(backend_.keys().bytes(k.key));
    out.i64(k.ns);
    out.i64(slot.writtenAt);
    StateCodec<V>::write(out, slot.value);
  }
}

template <class V>
void HeapTable<V>::restoreGroup(int g, ByteReader& in) {
  const std::uint32_t n = readCount(in);
  struct Read {
    std::int64_t ns, writtenAt;
    V value;
  };
  std::vector<std::string_view> keyBytes;
  std::vector<Read> entries;
  keyBytes.reserve(n);
  entries.reserve(n);
  for (std::uint32_t i = 0; i < n; ++i) {
    keyBytes.push_back(in.bytes());
    const std::int64_t ns = in.i64();
    const std::int64_t writtenAt = in.i64();
    entries.push_back(Read{ns, writtenAt, StateCodec<V>::read(in)});
  }
  std::vector<KeyId> ids;
  backend_.keys().internEncoded(keyBytes, g, in, ids);
  Map& m = groups_[static_cast<std::size_t>(backend_.keyGroups().offset(g))];
  for (std::uint32_t i = 0; i < n; ++i) {
    auto [it, inserted] = m.try_emplace(Key{ids[i], entries[i].ns});
    if (!inserted) in.fail("entry " + std::to_string(i) + " repeats a key and namespace");
    it->second.value = std::move(entries[i].value);
    it->second.writtenAt = entries[i].writtenAt;
    backend_.keys().retain(ids[i]);
  }
}

template <class T>
class HeapValueState final : public ValueState<T>, public StateHandleBase {
 public:
  explicit HeapValueState(HeapTable<T>& t) : t_(t) {}
  void setNamespace(std::int64_t ns) override { ns_ = ns; }
  const T* value() override {
    auto* s = t_.find(ns_);
    return s ? &s->value : nullptr;
  }
  void update(T v) override { t_.upsert(ns_).value = std::move(v); }
  void clear() override { t_.erase(ns_); }

 private:
  HeapTable<T>& t_;
  std::int64_t ns_ = 0;
};

template <class T>
class HeapListState final : public ListState<T>, public StateHandleBase {
 public:
  explicit HeapListState(HeapTable<std::vector<T>>& t) : t_(t) {}
  void setNamespace(std::int64_t ns) override { ns_ = ns; }
  void add(T v) override { t_.upsert(ns_).value.push_back(std::move(v)); }
  const std::vector<T>& get() override {
    static const std::vector<T> kEmpty;
    auto* s = t_.find(ns_);
    return s ? s->value : kEmpty;
  }
  void update(std::vector<T> v) override {
    if (v.empty()) t_.erase(ns_);
    else t_.upsert(ns_).value = std::move(v);
  }
  void clear() override { t_.erase(ns_); }

 private:
  HeapTable<std::vector<T>>& t_;
  std::int64_t ns_ = 0;
};

template <class K, class V>
class HeapMapState final : public MapState<K, V>, public StateHandleBase {
 public:
  using Inner = std::unordered_map<K, V>;
  explicit HeapMapState(HeapTable<Inner>& t) : t_(t) {}
  void setNamespace(std::int64_t ns) override { ns_ = ns; }
  const V* get(const K& k) override {
    auto* s = t_.find(ns_);
    if (!s) return nullptr;
    auto it = s->value.find(k);
    return it == s->value.end() ? nullptr : &it->second;
  }
  void put(const K& k, V v) override { t_.upsert(ns_).value[k] = std::move(v); }
  void remove(const K& k) override {
    auto* s = t_.find(ns_);
    if (!s) return;
    s->value.erase(k);
    if (s->value.empty()) t_.erase(ns_);
  }
  bool contains(const K& k) override { return get(k) != nullptr; }
  void forEach(const std::function<void(const K&, const V&)>& fn) override {
    if (auto* s = t_.find(ns_))
      for (const auto& [k, v] : s->value) fn(k, v);
  }
  bool empty() override { return t_.find(ns_) == nullptr; }
  void clear() override { t_.erase(ns_); }

 private:
  HeapTable<Inner>& t_;
  std::int64_t ns_ = 0;
};

template <class T>
class HeapReducingState final : public ReducingState<T>, public StateHandleBase {
 public:
  HeapReducingState(HeapTable<T>& t, std::function<T(const T&, const T&)> reduce)
      : t_(t), reduce_(std::move(reduce)) {}
  void setNamespace(std::int64_t ns) override { ns_ = ns; }
  void add(const T& v) override {
    if (auto* s = t_.find(ns_)) {
      T folded = reduce_(s->value, v);
      t_.upsert(ns_).value = std::move(folded);
    } else {
      t_.upsert(ns_).value = v;
    }
  }
  const T* get() override {
    auto* s = t_.find(ns_);
    return s ? &s->value : nullptr;
  }
  void clear() override { t_.erase(ns_); }

 private:
  HeapTable<T>& t_;
  std::function<T(const T&, const T&)> reduce_;
  std::int64_t ns_ = 0;
};

}  // namespace heap

template <class Handle>
Handle& KeyedStateBackend::handle(const std::string& name,
                                  const std::function<std::unique_ptr<Handle>()>& make) {
  auto it = handles_.find(name);
  if (it == handles_.end()) {
    std::unique_ptr<Handle> h = make();
    Handle& ref = *h;
    handles_.emplace(name, std::move(h));
    return ref;
  }
  auto* h = dynamic_cast<Handle*>(it->second.get());
  if (!h) throw std::logic_error("state '" + name + "' was created with another kind or type");
  return *h;
}

template <class V>
heap::HeapTable<V>& KeyedStateBackend::heapTable(const StateDescriptor& desc) {
  auto& t = tables_[desc.name];
  if (!t) t = std::make_unique<heap::HeapTable<V>>(*this, desc);
  return static_cast<heap::HeapTable<V>&>(*t);
}

template <class T>
ValueState<T>& KeyedStateBackend::valueState(const StateDescriptor& desc) {
  return handle<heap::HeapValueState<T>>(desc.name, [&] {
    return std::make_unique<heap::HeapValueState<T>>(heapTable<T>(desc));
  });
}

template <class T>
ListState<T>& KeyedStateBackend::listState(const StateDescriptor& desc) {
  return handle<heap::HeapListState<T>>(desc.name, [&] {
    return std::make_unique<heap::HeapListState<T>>(heapTable<std::vector<T>>(desc));
  });
}

template <class K, class V>
MapState<K, V>& KeyedStateBackend::mapState(const StateDescriptor& desc) {
  return handle<heap::HeapMapState<K, V>>(desc.name, [&] {
    return std::make_unique<heap::HeapMapState<K, V>>(
        heapTable<typename heap::HeapMapState<K, V>::Inner>(desc));
  });
}

template <class T>
ReducingState<T>& KeyedStateBackend::reducingState(const StateDescriptor& desc,
                                                   std::function<T(const T&, const T&)> reduce) {
  return handle<heap::HeapReducingState<T>>(desc.name, [&] {
    return std::make_unique<heap::HeapReducingState<T>>(heapTable<T>(desc), std::move(reduce));
  });
}

template <class Table>
Table& KeyedStateBackend::table(const std::string& name,
                                const std::function<std::unique_ptr<Table>()>& make) {
  auto& t = tables_[name];
  if (!t) t = make();
  auto* typed = dynamic_cast<Table*>(t.get());
  if (!typed) throw std::logic_error("state table '" + name + "' has another type");
  return *typed;
}

}  // namespace weir
