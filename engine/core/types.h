#pragma once
// Weir's value types (DESIGN.md §3): int64, double, string, bool, timestamp.
// Every field may be null. A timestamp is milliseconds since the Unix epoch, UTC.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace weir {

enum class Type : std::uint8_t { Int64, Double, String, Bool, Timestamp };

/// The job-file spelling of a type: "int64", "double", "string", "bool", "timestamp".
std::string_view typeName(Type t);
/// Parses a job-file type name; nullopt when it is not one of the five.
std::optional<Type> parseType(std::string_view name);

/// Int64 and Double.
inline bool isNumeric(Type t) { return t == Type::Int64 || t == Type::Double; }
/// Types stored in a column's 64-bit integer array (Int64, Timestamp).
inline bool isIntegerStored(Type t) { return t == Type::Int64 || t == Type::Timestamp; }

inline constexpr std::int64_t kNoTimestamp = INT64_MIN;

}  // namespace weir
