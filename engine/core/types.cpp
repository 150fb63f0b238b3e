#include "core/types.h"

namespace weir {

std::string_view typeName(Type t) {
  switch (t) {
    case Type::Int64: return "int64";
    case Type::Double: return "double";
    case Type::String: return "string";
    case Type::Bool: return "bool";
    case Type::Timestamp: return "timestamp";
  }
  return "?";
}

std::optional<Type> parseType(std::string_view name) {
  if (name == "int64") return Type::Int64;
  if (name == "double") return Type::Double;
  if (name == "string") return Type::String;
  if (name == "bool") return Type::Bool;
  if (name == "timestamp") return Type::Timestamp;
  return std::nullopt;
}

}  // namespace weir
