#include "core/json_limits.h"

#include "core/text.h"

namespace weir {

std::string jsonDepthError(std::string_view text, int maxDepth) {
  int depth = 0;
  bool inString = false;
  std::size_t line = 1, lineStart = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\n') {
      ++line;
      lineStart = i + 1;
      continue;
    }
    if (inString) {
      if (c == '\\') ++i;  // the escaped character is never a quote that ends the string
      else if (c == '"') inString = false;
      continue;
    }
    if (c == '"') {
      inString = true;
    } else if (c == '[' || c == '{') {
      if (++depth > maxDepth) {
        const std::size_t column = utf8Length(text.substr(lineStart, i - lineStart)) + 1;
        return "line " + std::to_string(line) + ", column " + std::to_string(column) + ": JSON nested deeper than " +
               std::to_string(maxDepth) + " levels";
      }
    } else if (c == ']' || c == '}') {
      if (depth > 0) --depth;
    }
  }
  return {};
}

nlohmann::json parseJsonBounded(std::string_view text, std::string* error, int maxDepth) {
  if (std::string why = jsonDepthError(text, maxDepth); !why.empty()) {
    if (error) *error = std::move(why);
    return nlohmann::json(nlohmann::json::value_t::discarded);
  }
  try {
    return nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::exception& e) {
    // nlohmann quotes the bytes it stopped at, which need not be UTF-8.
    if (error) *error = toValidUtf8(e.what());
    return nlohmann::json(nlohmann::json::value_t::discarded);
  }
}

namespace {

bool notUtf8(const std::string& s) { return toValidUtf8(s) != s; }

/// Appends to `path` the way to the first string or key in `j` that is not UTF-8.
bool findNonUtf8(const nlohmann::json& j, std::string& path) {
  if (j.is_string()) return notUtf8(j.get_ref<const std::string&>());
  const std::size_t len = path.size();
  if (j.is_object()) {
    for (const auto& [k, v] : j.items()) {
      path += "." + toValidUtf8(k);
      if (notUtf8(k) || findNonUtf8(v, path)) return true;
      path.resize(len);
    }
  } else if (j.is_array()) {
    for (std::size_t i = 0; i < j.size(); ++i) {
      path += "[" + std::to_string(i) + "]";
      if (findNonUtf8(j[i], path)) return true;
      path.resize(len);
    }
  }
  return false;
}

}  // namespace

std::string nonUtf8Path(const nlohmann::json& j) {
  std::string path;
  if (!findNonUtf8(j, path)) return {};
  return path.empty() ? "(the value itself)" : path;
}

std::string dumpJson(const nlohmann::json& j, int indent) {
  return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace weir
