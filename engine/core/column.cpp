#include "core/column.h"

#include <algorithm>
#include <cassert>

namespace weir {

Value Column::value(std::size_t row) const {
  if (isNull(row)) return Value::null(type_);
  switch (type_) {
    case Type::Int64: return Value::int64(ints_[row]);
    case Type::Timestamp: return Value::timestamp(ints_[row]);
    case Type::Double: return Value::dbl(doubles_[row]);
    case Type::Bool: return Value::boolean(bools_[row] != 0);
    case Type::String: return Value::string(std::string(str(row)));
  }
  return Value::null(type_);
}

void Column::reserve(std::size_t rows) {
  valid_.reserve(rows);
  switch (type_) {
    case Type::Int64:
    case Type::Timestamp: ints_.reserve(rows); break;
    case Type::Double: doubles_.reserve(rows); break;
    case Type::Bool: bools_.reserve(rows); break;
    case Type::String: offsets_.reserve(rows + 1); break;
  }
}

void Column::appendNull() {
  switch (type_) {
    case Type::Int64:
    case Type::Timestamp: ints_.push_back(0); break;
    case Type::Double: doubles_.push_back(0); break;
    case Type::Bool: bools_.push_back(0); break;
    case Type::String: offsets_.push_back(static_cast<std::uint32_t>(chars_.size())); break;
  }
  valid_.push_back(0);
  ++nullCount_;
}

void Column::append(const Value& v) {
  if (v.isNull()) return appendNull();
  switch (type_) {
    case Type::Int64:
    case Type::Timestamp:
      appendInt64(v.type() == Type::Double ? static_cast<std::int64_t>(v.asDouble()) : v.asInt64());
      break;
    case Type::Double: appendDouble(v.asDouble()); break;
    case Type::Bool: appendBool(v.asBool()); break;
    case Type::String: appendString(v.asString()); break;
  }
}

void Column::appendFrom(const Column& src, std::size_t row) {
  assert(src.type_ == type_);
  if (src.isNull(row)) return appendNull();
  switch (type_) {
    case Type::Int64:
    case Type::Timestamp: appendInt64(src.ints_[row]); break;
    case Type::Double: appendDouble(src.doubles_[row]); break;
    case Type::Bool: appendBool(src.bools_[row] != 0); break;
    case Type::String: appendString(src.str(row)); break;
  }
}

void Column::recountNulls() {
  nullCount_ = static_cast<std::size_t>(std::count(valid_.begin(), valid_.end(), std::uint8_t{0}));
}

void Column::truncate(std::size_t rows) {
  if (rows >= size()) return;
  valid_.resize(rows);
  switch (type_) {
    case Type::Int64:
    case Type::Timestamp: ints_.resize(rows); break;
    case Type::Double: doubles_.resize(rows); break;
    case Type::Bool: bools_.resize(rows); break;
    case Type::String:
      chars_.resize(offsets_[rows]);
      offsets_.resize(rows + 1);
      break;
  }
  recountNulls();
}

std::shared_ptr<Column> Column::gather(std::span<const std::uint32_t> rows) const {
  auto out = std::make_shared<Column>(type_);
  const std::size_t n = rows.size();
  out->valid_.resize(n);
  for (std::size_t i = 0; i < n; ++i) out->valid_[i] = valid_[rows[i]];
  switch (type_) {
    case Type::Int64:
    case Type::Timestamp:
      out->ints_.resize(n);
      for (std::size_t i = 0; i < n; ++i) out->ints_[i] = ints_[rows[i]];
      break;
    case Type::Double:
      out->doubles_.resize(n);
      for (std::size_t i = 0; i < n; ++i) out->doubles_[i] = doubles_[rows[i]];
      break;
    case Type::Bool:
      out->bools_.resize(n);
      for (std::size_t i = 0; i < n; ++i) out->bools_[i] = bools_[rows[i]];
      break;
    case Type::String: {
      std::size_t bytes = 0;
      for (std::size_t i = 0; i < n; ++i) bytes += offsets_[rows[i] + 1] - offsets_[rows[i]];
      out->chars_.reserve(bytes);
      out->offsets_.reserve(n + 1);
      for (std::size_t i = 0; i < n; ++i) {
        out->chars_.append(str(rows[i]));
        out->offsets_.push_back(static_cast<std::uint32_t>(out->chars_.size()));
      }
      break;
    }
  }
  out->nullCount_ = nullCount_ == 0 ? 0 : static_cast<std::size_t>(std::count(out->valid_.begin(), out->valid_.end(), std::uint8_t{0}));
  return out;
}

std::size_t Column::byteSize() const {
  return valid_.size() + ints_.size() * 8 + doubles_.size() * 8 + bools_.size() +
         offsets_.size() * 4 + chars_.size();
}

}  // namespace weir
