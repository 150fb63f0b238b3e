#pragma once
// StateCodec<T>: how a value kept in keyed state is written into a snapshot and read back
// (snapshot_io.h byte format: little-endian, fixed widths, u32-length strings), for the
// heap backend's tables (HeapTable<V>) and the timers' namespaces (TimerService<N>).
//
//   std::int64_t, std::int32_t, std::uint32_t, double, bool, std::string: their
//                     ByteWriter form (i64, u32, f64, one byte 0/1, u32 length + bytes)
//   Value             u8 type (core/types.h Type: 0 int64, 1 double, 2 string, 3 bool,
//                     4 timestamp), u8 present (0: null), then the value as above
//   std::vector<T>    u32 count, then the elements (std::vector<bool> too)
//   std::pair<A, B>   A then B
//   std::map / std::unordered_map<K, V>   u32 count, then key, value per entry
//
// A type of one's own (a window's namespace) gets a specialization next to it. Reading
// checks as it goes: a count larger than the bytes left, a bad tag, running past the end
// throw SnapshotError naming the reader's place (ByteReader::fail), never allocate what a
// corrupt count asks for.

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/value.h"
#include "runtime/state/snapshot_io.h"

namespace weir {

template <class T>
struct StateCodec;  // specialized per type below (or next to a type of one's own)

template <>
struct StateCodec<std::int64_t> {
  static void write(ByteWriter& w, std::int64_t v) { w.i64(v); }
  static std::int64_t read(ByteReader& r) { return r.i64(); }
};
template <>
struct StateCodec<std::int32_t> {
  static void write(ByteWriter& w, std::int32_t v) { w.u32(static_cast<std::uint32_t>(v)); }
  static std::int32_t read(ByteReader& r) { return static_cast<std::int32_t>(r.u32()); }
};
template <>
struct StateCodec<std::uint32_t> {
  static void write(ByteWriter& w, std::uint32_t v) { w.u32(v); }
  static std::uint32_t read(ByteReader& r) { return r.u32(); }
};
template <>
struct StateCodec<double> {
  static void write(ByteWriter& w, double v) { w.f64(v); }
  static double read(ByteReader& r) { return r.f64(); }
};
template <>
struct StateCodec<bool> {
  static void write(ByteWriter& w, bool v) { w.boolean(v); }
  static bool read(ByteReader& r) { return r.boolean(); }
};
template <>
struct StateCodec<std::string> {
  static void write(ByteWriter& w, const std::string& v) { w.str(v); }
  static std::string read(ByteReader& r) { return r.str(); }
};

template <>
struct StateCodec<Value> {
  static void write(ByteWriter& w, const Value& v) {
    w.u8(static_cast<std::uint8_t>(v.type()));
    w.boolean(!v.isNull());
    if (v.isNull()) return;
    switch (v.type()) {
      case Type::Int64:
      case Type::Timestamp: w.i64(v.asInt64()); break;
      case Type::Double: w.f64(v.asDouble()); break;
      case Type::String: w.str(v.asString()); break;
      case Type::Bool: w.boolean(v.asBool()); break;
    }
  }
  static Value read(ByteReader& r) {
    const std::uint8_t tag = r.u8();
    if (tag > static_cast<std::uint8_t>(Type::Timestamp)) r.fail("a value's type tag is " + std::to_string(tag));
    const Type t = static_cast<Type>(tag);
    if (!r.boolean()) return Value::null(t);
    switch (t) {
      case Type::Int64: return Value::int64(r.i64());
      case Type::Timestamp: return Value::timestamp(r.i64());
      case Type::Double: return Value::dbl(r.f64());
      case Type::String: return Value::string(r.str());
      case Type::Bool: return Value::boolean(r.boolean());
    }
    return Value::null(t);
  }
};

/// A count of elements about to be read, checked against the bytes left (each element
/// takes at least one byte), so that a corrupt count fails instead of allocating.
inline std::uint32_t readCount(ByteReader& r) {
  const std::uint32_t n = r.u32();
  if (n > r.remaining()) r.fail("a count of " + std::to_string(n) + " with " + std::to_string(r.remaining()) + " bytes left");
  return n;
}

template <class T>
struct StateCodec<std::vector<T>> {
  static void write(ByteWriter& w, const std::vector<T>& v) {
    w.u32(static_cast<std::uint32_t>(v.size()));
    for (const T& x : v) StateCodec<T>::write(w, x);
  }
  static std::vector<T> read(ByteReader& r) {
    const std::uint32_t n = readCount(r);
    std::vector<T> v;
    v.reserve(n);
    for (std::uint32_t i = 0; i < n; ++i) v.push_back(StateCodec<T>::read(r));
    return v;
  }
};

template <class A, class B>
struct StateCodec<std::pair<A, B>> {
  static void write(ByteWriter& w, const std::pair<A, B>& v) {
    StateCodec<A>::write(w, v.first);
    StateCodec<B>::write(w, v.second);
  }
  static std::pair<A, B> read(ByteReader& r) {
    A a = StateCodec<A>::read(r);
    B b = StateCodec<B>::read(r);
    return {std::move(a), std::move(b)};
  }
};

/// Maps (std::map, std::unordered_map): count, then key and value per entry.
template <class Map>
struct MapCodec {
  using K = typename Map::key_type;
  using V = typename Map::mapped_type;
  static void write(ByteWriter& w, const Map& m) {
    w.u32(static_cast<std::uint32_t>(m.size()));
    for (const auto& [k, v] : m) {
      StateCodec<K>::write(w, k);
      StateCodec<V>::write(w, v);
    }
  }
  static Map read(ByteReader& r) {
    const std::uint32_t n = readCount(r);
    Map m;
    for (std::uint32_t i = 0; i < n; ++i) {
      K k = StateCodec<K>::read(r);
      V v = StateCodec<V>::read(r);
      if (!m.emplace(std::move(k), std::move(v)).second) r.fail("a map holds one key twice");
    }
    return m;
  }
};
template <class K, class V, class H, class E, class A>
struct StateCodec<std::unordered_map<K, V, H, E, A>> : MapCodec<std::unordered_map<K, V, H, E, A>> {};
template <class K, class V, class C, class A>
struct StateCodec<std::map<K, V, C, A>> : MapCodec<std::map<K, V, C, A>> {};

}  // namespace weir
