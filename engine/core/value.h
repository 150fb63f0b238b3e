#pragma once
// A single nullable value. Used for literals, aggregate results, tests and row-at-a-time
// paths that are not hot; the hot paths work on whole columns (core/column.h).

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/types.h"

namespace weir {

class Value {
 public:
  Value() = default;  // a null int64
  static Value null(Type t) { Value v; v.type_ = t; return v; }
  static Value int64(std::int64_t x) { Value v; v.type_ = Type::Int64; v.null_ = false; v.i_ = x; return v; }
  static Value timestamp(std::int64_t ms) { Value v = int64(ms); v.type_ = Type::Timestamp; return v; }
  static Value dbl(double x) { Value v; v.type_ = Type::Double; v.null_ = false; v.d_ = x; return v; }
  static Value boolean(bool x) { Value v; v.type_ = Type::Bool; v.null_ = false; v.i_ = x ? 1 : 0; return v; }
  static Value string(std::string s) { Value v; v.type_ = Type::String; v.null_ = false; v.s_ = std::move(s); return v; }

  Type type() const { return type_; }
  bool isNull() const { return null_; }
  std::int64_t asInt64() const { return i_; }      // Int64, Timestamp
  double asDouble() const { return type_ == Type::Double ? d_ : static_cast<double>(i_); }
  bool asBool() const { return i_ != 0; }
  const std::string& asString() const { return s_; }

  /// Same type, same nullness, same payload (doubles compared bitwise-equal or both NaN).
  bool operator==(const Value& o) const;
  /// Human-readable text: NULL, 42, 3.5, 'text', TRUE, 2026-11-24T12:00:00.000Z.
  std::string toString() const;

 private:
  Type type_ = Type::Int64;
  bool null_ = true;
  std::int64_t i_ = 0;
  double d_ = 0;
  std::string s_;
};

}  // namespace weir
