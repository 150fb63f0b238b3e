#pragma once
// JSON from outside the process (job files, API bodies, control messages, config files)
// is read through one bounded parse, and every JSON a process writes out is valid UTF-8
// (docs/security.md, "Limits").
//
// nlohmann's parser is iterative, but copying and writing a parsed value recurse once per
// level: 60,000 nested objects overflow the stack. parseJsonBounded refuses input nested
// deeper than kMaxJsonDepth before nlohmann sees it, naming the line and column where the
// limit is crossed. dumpJson never throws: bytes that are not UTF-8 become U+FFFD.

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace weir {

/// The deepest nesting of arrays and objects accepted in JSON from outside. A job file
/// needs about 6 (job, nodes, node, params, schema, field); 64 leaves room for any `ui`
/// or plugin params a person writes and stays far from the stack's limit.
constexpr int kMaxJsonDepth = 64;

/// "" when `text` nests arrays and objects at most `maxDepth` deep (strings are skipped,
/// escapes included; the syntax is not checked). Else "line L, column C: JSON nested
/// deeper than N levels", pointing at the bracket that opens level N + 1.
std::string jsonDepthError(std::string_view text, int maxDepth = kMaxJsonDepth);

/// JSON from outside: nlohmann::json::parse after the depth check. On failure the result
/// is discarded (is_discarded()) and `error` (when given) says why, as valid UTF-8.
nlohmann::json parseJsonBounded(std::string_view text, std::string* error = nullptr,
                                int maxDepth = kMaxJsonDepth);

/// j.dump(indent) that never throws on invalid UTF-8 in a string (each bad byte is written
/// as U+FFFD): for every message, answer, log line and file a process writes.
std::string dumpJson(const nlohmann::json& j, int indent = -1);

/// Where in `j` the first string (or object key) that is not valid UTF-8 is, as a path
/// (".path", "._splits[3].path"); "" when every string is UTF-8. For values that came from
/// the file system rather than from JSON (file names matched by a glob).
std::string nonUtf8Path(const nlohmann::json& j);

}  // namespace weir
