#include "runtime/partition.h"

#include <bit>
#include <cstring>
#include <string_view>

namespace weir {
namespace {

inline std::uint64_t mix(std::uint64_t x) {  // splitmix64 finalizer
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

inline std::uint64_t hashBytes(std::string_view s) {  // FNV-1a, then mixed
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ULL;
  return mix(h);
}

constexpr std::uint64_t kNullHash = 0x6e756c6c6e756c6cULL;

}  // namespace

void hashKeys(const RecordBatch& batch, std::span<const int> keys, std::vector<std::uint64_t>& out) {
  const std::size_t n = batch.numRows();
  const std::size_t base = out.size();
  out.resize(base + n, 0x9e3779b97f4a7c15ULL);
  std::uint64_t* h = out.data() + base;
  for (int k : keys) {
    const Column& c = batch.column(static_cast<std::size_t>(k));
    const auto valid = c.validity();
    switch (c.type()) {
      case Type::Int64:
      case Type::Timestamp: {
        const auto v = c.ints();
        for (std::size_t i = 0; i < n; ++i)
          h[i] = mix(h[i] * 31 + (valid[i] ? mix(static_cast<std::uint64_t>(v[i])) : kNullHash));
        break;
      }
      case Type::Double: {
        const auto v = c.doubles();
        for (std::size_t i = 0; i < n; ++i) {
          double d = v[i] == 0.0 ? 0.0 : v[i];
          h[i] = mix(h[i] * 31 + (valid[i] ? mix(std::bit_cast<std::uint64_t>(d)) : kNullHash));
        }
        break;
      }
      case Type::Bool: {
        const auto v = c.bools();
        for (std::size_t i = 0; i < n; ++i)
          h[i] = mix(h[i] * 31 + (valid[i] ? mix(v[i] + 1u) : kNullHash));
        break;
      }
      case Type::String:
        for (std::size_t i = 0; i < n; ++i)
          h[i] = mix(h[i] * 31 + (valid[i] ? hashBytes(c.str(i)) : kNullHash));
        break;
    }
  }
}

void partitionByKey(const RecordBatch& batch, std::span<const int> keys, int maxParallelism,
                    std::vector<std::vector<std::uint32_t>>& rows) {
  thread_local std::vector<std::uint64_t> hashes;
  hashes.clear();
  hashKeys(batch, keys, hashes);
  const int p = static_cast<int>(rows.size());
  for (auto& r : rows) r.clear();
  for (std::size_t i = 0; i < hashes.size(); ++i) {
    const int t = subtaskForKeyGroup(keyGroupForHash(hashes[i], maxParallelism), maxParallelism, p);
    rows[static_cast<std::size_t>(t)].push_back(static_cast<std::uint32_t>(i));
  }
}

}  // namespace weir
