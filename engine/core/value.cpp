#include "core/value.h"

#include <cmath>
#include <cstring>

#include "core/text.h"

namespace weir {

bool Value::operator==(const Value& o) const {
  if (type_ != o.type_ || null_ != o.null_) return false;
  if (null_) return true;
  switch (type_) {
    case Type::Double:
      return (std::isnan(d_) && std::isnan(o.d_)) || std::memcmp(&d_, &o.d_, sizeof d_) == 0 || d_ == o.d_;
    case Type::String: return s_ == o.s_;
    default: return i_ == o.i_;
  }
}

std::string Value::toString() const {
  if (null_) return "NULL";
  switch (type_) {
    case Type::Int64: return std::to_string(i_);
    case Type::Timestamp: return formatTimestamp(i_);
    case Type::Double: return formatDouble(d_);
    case Type::Bool: return i_ ? "TRUE" : "FALSE";
    case Type::String: {
      std::string s = "'";
      for (char c : s_) {
        if (c == '\'') s += '\'';
        s += c;
      }
      return s + "'";
    }
  }
  return "?";
}

}  // namespace weir
