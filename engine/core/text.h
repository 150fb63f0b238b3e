#pragma once
// Text forms of values shared by every format and message (DESIGN.md §3):
// timestamps as ISO-8601 UTC with milliseconds, doubles in shortest round-trip form.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace weir {

/// 1764000000000 -> "2025-11-24T16:00:00.000Z" (proleptic Gregorian, UTC; any int64 ms).
std::string formatTimestamp(std::int64_t ms);
/// Appends formatTimestamp(ms) to out without a temporary.
void appendTimestamp(std::string& out, std::int64_t ms);
/// Integer milliseconds ("1764000000000", optionally signed) or ISO-8601:
/// "2026-11-24", "2026-11-24T12:00:00", "2026-11-24 12:00:00.5", with optional fraction
/// (up to 9 digits, truncated to ms) and zone "Z" or "+hh:mm"/"-hh:mm"/"+hhmm" (none = UTC).
std::optional<std::int64_t> parseTimestamp(std::string_view text);

/// Shortest text that reads back as the same double ("0.1", "1e+300", "3", "nan", "inf", "-inf").
std::string formatDouble(double v);
void appendDouble(std::string& out, double v);
/// Whole-string parses; nullopt on anything else (leading/trailing spaces are not allowed).
std::optional<std::int64_t> parseInt64(std::string_view text);
std::optional<double> parseDouble(std::string_view text);
/// "true"/"false"/"1"/"0", case-insensitive.
std::optional<bool> parseBool(std::string_view text);

/// Length of the well-formed UTF-8 sequence at s[i] (1 to 4), or 0 when it is not one.
std::size_t utf8SequenceLength(std::string_view s, std::size_t i);
/// How many characters `s` holds (bytes that do not continue a sequence).
std::size_t utf8Length(std::string_view s);
/// `s` as valid UTF-8: each byte that does not belong to a well-formed sequence becomes
/// U+FFFD. Every message built from user data (failures, log lines, answers) goes through
/// this or dumpJson (core/json_limits.h), so it always serializes. At most `maxBytes` of
/// `s` are taken, cut at a character boundary; `consumed` (when given) says how many.
std::string toValidUtf8(std::string_view s, std::size_t maxBytes = std::string_view::npos,
                        std::size_t* consumed = nullptr);

}  // namespace weir
