#include "core/schema.h"

namespace weir {

int Schema::indexOf(std::string_view name) const {
  for (std::size_t i = 0; i < fields_.size(); ++i)
    if (fields_[i].name == name) return static_cast<int>(i);
  return -1;
}

std::string Schema::toString() const {
  std::string s;
  for (std::size_t i = 0; i < fields_.size(); ++i) {
    if (i) s += ", ";
    s += fields_[i].name;
    s += ':';
    s += typeName(fields_[i].type);
  }
  return s;
}

}  // namespace weir
