#include "runtime/state/key_dictionary.h"

#include <bit>
#include <cassert>
#include <cstring>

namespace weir {

// The key encoding copies numbers in native byte order; snapshots promise little-endian.
static_assert(std::endian::native == std::endian::little, "key encoding and snapshots assume a little-endian machine");

namespace {

template <class T>
void put(std::string& out, T v) {
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  out.append(b, sizeof(T));
}

template <class T>
T take(std::string_view& in) {
  T v;
  std::memcpy(&v, in.data(), sizeof(T));
  in.remove_prefix(sizeof(T));
  return v;
}

}  // namespace

KeyDictionary::KeyDictionary(std::vector<Type> keyTypes, int maxParallelism)
    : types_(std::move(keyTypes)), maxParallelism_(maxParallelism) {}

void KeyDictionary::encode(const RecordBatch& batch, std::span<const int> fields, std::size_t row,
                           std::string& out) {
  out.clear();
  for (int f : fields) {
    const Column& c = batch.column(static_cast<std::size_t>(f));
    if (c.isNull(row)) {
      out.push_back(0);
      continue;
    }
    out.push_back(1);
    switch (c.type()) {
      case Type::Int64:
      case Type::Timestamp: put(out, c.int64(row)); break;
      case Type::Double: {
        const double d = c.dbl(row);
        put(out, d == 0.0 ? 0.0 : d);  // -0.0 and 0.0 are one key, as in hashKeys
        break;
      }
      case Type::Bool: out.push_back(c.boolean(row) ? 1 : 0); break;
      case Type::String: {
        const auto s = c.str(row);
        put(out, static_cast<std::uint32_t>(s.size()));
        out.append(s);
        break;
      }
    }
  }
}

KeyId KeyDictionary::add(std::string_view bytes, std::uint64_t hash) {
  KeyId id;
  if (!free_.empty()) {
    id = free_.back();
    free_.pop_back();
    bytes_[id].assign(bytes);
    hashes_[id] = hash;
    groups_[id] = keyGroupForHash(hash, maxParallelism_);
    refs_[id] = 0;
    live_[id] = 1;
    nextSameHash_[id] = kNoKey;
  } else {
    id = static_cast<KeyId>(bytes_.size());
    bytes_.emplace_back(bytes);
    hashes_.push_back(hash);
    groups_.push_back(keyGroupForHash(hash, maxParallelism_));
    refs_.push_back(0);
    live_.push_back(1);
    nextSameHash_.push_back(kNoKey);
  }
  unreferenced_.push_back(id);  // until something retains it
  return id;
}

KeyId KeyDictionary::intern(std::string_view bytes, std::uint64_t hash) {
  return internWith(bytes, hash, [&](const std::string& b) { return b == bytes; });
}

template <class Equal>
KeyId KeyDictionary::internWith(std::string_view bytes, std::uint64_t hash, Equal equal) {
  auto [value, inserted] = byHash_.tryEmplace(hash, 0);
  if (inserted) return *value = add(bytes, hash);
  KeyId id = *value;
  for (KeyId at = id; at != kNoKey; at = nextSameHash_[at])
    if (equal(bytes_[at])) return at;
  // A different key with the same 64-bit hash: chain it behind the first.
  const KeyId added = add(bytes, hash);
  nextSameHash_[added] = nextSameHash_[id];
  nextSameHash_[id] = added;
  ++collisions_;
  return added;
}

KeyId KeyDictionary::find(std::string_view bytes, std::uint64_t hash) const {
  const std::uint32_t* first = byHash_.findValue(hash);
  if (first == nullptr) return kNoKey;
  for (KeyId at = *first; at != kNoKey; at = nextSameHash_[at])
    if (bytes_[at] == bytes) return at;
  return kNoKey;
}

const std::vector<KeyId>& KeyDictionary::internRows(const RecordBatch& batch, std::span<const int> fields) {
  rowHashes_.clear();
  hashKeys(batch, fields, rowHashes_);
  rowIds_.clear();
  intern(batch, fields, rowHashes_, rowIds_);
  return rowIds_;
}

void KeyDictionary::intern(const RecordBatch& batch, std::span<const int> fields,
                           std::span<const std::uint64_t> hashes, std::vector<KeyId>& ids) {
  const std::size_t n = batch.numRows();
  ids.reserve(ids.size() + n);
  // One int64 key field (the common case: ids) with no nulls: no per-row encoding calls.
  if (fields.size() == 1) {
    const Column& c = batch.column(static_cast<std::size_t>(fields[0]));
    if ((c.type() == Type::Int64 || c.type() == Type::Timestamp) && c.nullCount() == 0) {
      const auto v = c.ints();
      scratch_.assign(1 + sizeof(std::int64_t), '\1');
      KeyId lastId = kNoKey;
      std::int64_t lastValue = 0;
      constexpr std::size_t kAhead = 8;  // rows between a prefetch and its lookup
      for (std::size_t i = 0; i < n; ++i) {
        if (i + kAhead < n) byHash_.prefetch(hashes[i + kAhead]);
        if (lastId != kNoKey && v[i] == lastValue && bytes_[lastId].size() == scratch_.size()) {
          ids.push_back(lastId);  // runs of one key (sorted or bursty input)
          continue;
        }
        std::memcpy(scratch_.data() + 1, &v[i], sizeof(std::int64_t));
        // Compared as one 9-byte key (present flag, value) in place: no call per record.
        const std::int64_t x = v[i];
        lastId = internWith(scratch_, hashes[i], [x](const std::string& b) {
          return b.size() == 1 + sizeof x && b[0] == '\1' && std::memcmp(b.data() + 1, &x, sizeof x) == 0;
        });
        lastValue = v[i];
        ids.push_back(lastId);
      }
      return;
    }
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (i + 8 < n) byHash_.prefetch(hashes[i + 8]);
    encode(batch, fields, i, scratch_);
    ids.push_back(intern(scratch_, hashes[i]));
  }
}

bool KeyDictionary::wellFormed(std::span<const Type> types, std::string_view in) {
  for (const Type t : types) {
    if (in.empty() || static_cast<unsigned char>(in.front()) > 1) return false;
    const bool present = in.front() == 1;
    in.remove_prefix(1);
    if (!present) continue;
    switch (t) {
      case Type::Int64:
      case Type::Timestamp:
      case Type::Double:
        if (in.size() < 8) return false;
        in.remove_prefix(8);
        break;
      case Type::Bool:
        if (in.empty() || static_cast<unsigned char>(in.front()) > 1) return false;
        in.remove_prefix(1);
        break;
      case Type::String: {
        if (in.size() < 4) return false;
        const auto len = take<std::uint32_t>(in);
        if (in.size() < len) return false;
        in.remove_prefix(len);
        break;
      }
    }
  }
  return in.empty();
}

void KeyDictionary::internEncoded(std::span<const std::string_view> keys, int group, const ByteReader& in,
                                  std::vector<KeyId>& ids) {
  if (keys.empty()) return;
  std::vector<Field> fields;
  std::vector<int> indexes;
  for (std::size_t f = 0; f < types_.size(); ++f) {
    fields.push_back({"k" + std::to_string(f), types_[f]});
    indexes.push_back(static_cast<int>(f));
  }
  BatchBuilder b(makeSchema(std::move(fields)), keys.size());
  std::vector<Column*> columns;
  for (std::size_t f = 0; f < types_.size(); ++f) columns.push_back(&b.column(f));
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (!wellFormed(types_, keys[i]))
      in.fail("key " + std::to_string(i) + " of the group is not a key of this operator's key types");
    appendKey(types_, keys[i], columns);
    b.endRow();
  }
  const RecordBatch batch = b.finish();
  std::vector<std::uint64_t> hashes;
  hashKeys(batch, indexes, hashes);
  ids.reserve(ids.size() + keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const KeyId id = intern(keys[i], hashes[i]);
    if (groups_[id] != group)
      in.fail("key " + std::to_string(i) + " belongs to key group " + std::to_string(groups_[id]) + ", not " +
              std::to_string(group) + " (was the key or the max parallelism changed?)");
    ids.push_back(id);
  }
}

void KeyDictionary::release(KeyId id) {
  assert(refs_[id] > 0);
  if (--refs_[id] == 0) unreferenced_.push_back(id);
}

void KeyDictionary::sweep() {
  for (KeyId id : unreferenced_)
    if (live_[id] && refs_[id] == 0) unlink(id);
  unreferenced_.clear();
}

void KeyDictionary::unlink(KeyId id) {
  // Unlink from the hash chain.
  KeyId* first = byHash_.findValue(hashes_[id]);
  assert(first);
  if (*first == id) {
    if (nextSameHash_[id] == kNoKey) byHash_.erase(hashes_[id]);
    else {
      *first = nextSameHash_[id];
      --collisions_;
    }
  } else {
    for (KeyId at = *first; at != kNoKey; at = nextSameHash_[at]) {
      if (nextSameHash_[at] == id) {
        nextSameHash_[at] = nextSameHash_[id];
        --collisions_;
        break;
      }
    }
  }
  bytes_[id].clear();
  live_[id] = 0;
  free_.push_back(id);
}

void KeyDictionary::appendKey(std::span<const Type> types, std::string_view in,
                              std::span<Column* const> columns) {
  for (std::size_t f = 0; f < types.size(); ++f) {
    Column& c = *columns[f];
    const char present = in.front();
    in.remove_prefix(1);
    if (!present) {
      c.appendNull();
      continue;
    }
    switch (types[f]) {
      case Type::Int64:
      case Type::Timestamp: c.appendInt64(take<std::int64_t>(in)); break;
      case Type::Double: c.appendDouble(take<double>(in)); break;
      case Type::Bool:
        c.appendBool(in.front() != 0);
        in.remove_prefix(1);
        break;
      case Type::String: {
        const auto len = take<std::uint32_t>(in);
        c.appendString(in.substr(0, len));
        in.remove_prefix(len);
        break;
      }
    }
  }
}

}  // namespace weir
