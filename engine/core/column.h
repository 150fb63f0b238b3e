#pragma once
// Column: one field's values for every row of a batch, in contiguous arrays.
//
// Layout (chosen so a column serializes with a few memcpy calls and evaluates without
// per-row branching on the type):
//   validity  one byte per row, 1 = value present, 0 = null (always sized to size())
//   Int64, Timestamp   std::int64_t per row            (ints)
//   Double             double per row                  (doubles)
//   Bool               one byte per row, 0 or 1        (bools)
//   String             size()+1 uint32 offsets into one character buffer (offsets, chars)
// A null row still has a slot in the data array (zero, or an empty string), so row i of
// the data is always at index i.
//
// Columns are built by one owner, then frozen and shared (ColumnPtr) between batches:
// projection and forward channels pass columns without copying.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/types.h"
#include "core/value.h"

namespace weir {

class Column {
 public:
  explicit Column(Type type) : type_(type) { if (type == Type::String) offsets_.push_back(0); }

  Type type() const { return type_; }
  std::size_t size() const { return valid_.size(); }
  std::size_t nullCount() const { return nullCount_; }
  bool isNull(std::size_t row) const { return valid_[row] == 0; }

  std::int64_t int64(std::size_t row) const { return ints_[row]; }
  double dbl(std::size_t row) const { return doubles_[row]; }
  bool boolean(std::size_t row) const { return bools_[row] != 0; }
  std::string_view str(std::size_t row) const {
    return std::string_view(chars_).substr(offsets_[row], offsets_[row + 1] - offsets_[row]);
  }
  /// Row as a Value (slow path: tests, aggregates over few rows).
  Value value(std::size_t row) const;

  // Raw arrays for vectorized code.
  std::span<const std::uint8_t> validity() const { return valid_; }
  std::span<const std::int64_t> ints() const { return ints_; }
  std::span<const double> doubles() const { return doubles_; }
  std::span<const std::uint8_t> bools() const { return bools_; }
  std::span<const std::uint32_t> offsets() const { return offsets_; }
  std::string_view chars() const { return chars_; }

  void reserve(std::size_t rows);
  void appendNull();
  void appendInt64(std::int64_t v) { ints_.push_back(v); valid_.push_back(1); }
  void appendDouble(double v) { doubles_.push_back(v); valid_.push_back(1); }
  void appendBool(bool v) { bools_.push_back(v ? 1 : 0); valid_.push_back(1); }
  void appendString(std::string_view v) {
    chars_.append(v);
    offsets_.push_back(static_cast<std::uint32_t>(chars_.size()));
    valid_.push_back(1);
  }
  /// Appends a value of this column's type (or a null); ints and doubles are converted.
  void append(const Value& v);
  /// Appends row `row` of `src`, which must have the same type.
  void appendFrom(const Column& src, std::size_t row);

  /// Fills a fixed-width column of n rows in one go (vectorized evaluators): the returned
  /// pointers address n writable slots; all rows start valid.
  std::int64_t* resizeInts(std::size_t n) { ints_.resize(n); setAllValid(n); return ints_.data(); }
  double* resizeDoubles(std::size_t n) { doubles_.resize(n); setAllValid(n); return doubles_.data(); }
  std::uint8_t* resizeBools(std::size_t n) { bools_.resize(n); setAllValid(n); return bools_.data(); }
  /// Writable validity after resize*; call recountNulls() when done writing it.
  std::uint8_t* mutableValidity() { return valid_.data(); }
  void recountNulls();
  /// Drops rows from the end so that `rows` remain.
  void truncate(std::size_t rows);

  /// A new column holding the given rows of this one, in that order.
  std::shared_ptr<Column> gather(std::span<const std::uint32_t> rows) const;

  /// Bytes held by the data arrays (metrics, memory accounting).
  std::size_t byteSize() const;

 private:
  void setAllValid(std::size_t n) { valid_.assign(n, 1); nullCount_ = 0; }

  Type type_;
  std::size_t nullCount_ = 0;
  std::vector<std::uint8_t> valid_;
  std::vector<std::int64_t> ints_;
  std::vector<double> doubles_;
  std::vector<std::uint8_t> bools_;
  std::vector<std::uint32_t> offsets_;
  std::string chars_;
};

using ColumnPtr = std::shared_ptr<const Column>;

}  // namespace weir
