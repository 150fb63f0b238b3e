#pragma once
// Reading an operator's params (nlohmann::json) with messages that name the param. Validation
// normally refuses bad params before a job runs; these checks keep an operator safe when it
// is built directly (tests, benchmarks) and give the same "param: message" wording.

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/schema.h"
#include "core/text.h"
#include "core/types.h"
#include "runtime/io/reader.h"
#include "runtime/operator.h"

namespace weir::params {

[[noreturn]] inline void fail(const std::string& key, const std::string& message) {
  throw JobError("params." + key + ": " + message);
}

inline const nlohmann::json* find(const nlohmann::json& p, const char* key) {
  if (!p.is_object()) return nullptr;
  auto it = p.find(key);
  if (it == p.end() || it->is_null()) return nullptr;
  return &*it;
}

inline std::string string(const nlohmann::json& p, const char* key,
                          std::optional<std::string> fallback = std::nullopt) {
  const nlohmann::json* v = find(p, key);
  if (!v) {
    if (fallback) return *fallback;
    fail(key, "is required");
  }
  if (!v->is_string()) fail(key, "must be a string");
  return v->get<std::string>();
}

inline bool boolean(const nlohmann::json& p, const char* key, bool fallback) {
  const nlohmann::json* v = find(p, key);
  if (!v) return fallback;
  if (!v->is_boolean()) fail(key, "must be true or false");
  return v->get<bool>();
}

inline std::int64_t int64(const nlohmann::json& p, const char* key, std::int64_t fallback,
                          std::int64_t min = INT64_MIN) {
  const nlohmann::json* v = find(p, key);
  if (!v) return fallback;
  if (!v->is_number_integer()) fail(key, "must be an integer");
  const std::int64_t x = v->get<std::int64_t>();
  if (x < min) fail(key, "must be at least " + std::to_string(min));
  return x;
}

inline double number(const nlohmann::json& p, const char* key, double fallback, double min) {
  const nlohmann::json* v = find(p, key);
  if (!v) return fallback;
  if (!v->is_number()) fail(key, "must be a number");
  const double x = v->get<double>();
  if (!(x >= min)) fail(key, "must be at least " + formatDouble(min));
  return x;
}

/// A timestamp given as integer milliseconds or an ISO-8601 string.
inline std::int64_t timestamp(const nlohmann::json& p, const char* key, std::int64_t fallback) {
  const nlohmann::json* v = find(p, key);
  if (!v) return fallback;
  if (v->is_number_integer()) return v->get<std::int64_t>();
  if (v->is_string()) {
    if (auto t = parseTimestamp(v->get<std::string>())) return *t;
  }
  fail(key, "must be a timestamp (integer milliseconds or ISO-8601)");
}

/// `format` if given, else guessed from the path's extension (.jsonl/.json/.ndjson -> jsonl).
inline FileFormat format(const nlohmann::json& p, const std::string& path) {
  if (const nlohmann::json* v = find(p, "format")) {
    if (v->is_string()) {
      if (auto f = parseFileFormat(v->get<std::string>())) return *f;
    }
    fail("format", "must be \"csv\" or \"jsonl\"");
  }
  const auto dot = path.rfind('.');
  const std::string ext = dot == std::string::npos ? "" : path.substr(dot);
  return ext == ".jsonl" || ext == ".json" || ext == ".ndjson" ? FileFormat::Jsonl : FileFormat::Csv;
}

/// [{name, type}] -> schema.
inline SchemaPtr schema(const nlohmann::json& p, const char* key) {
  const nlohmann::json* v = find(p, key);
  if (!v) fail(key, "is required");
  if (!v->is_array() || v->empty()) fail(key, "must be a non-empty list of {name, type}");
  std::vector<Field> fields;
  for (std::size_t i = 0; i < v->size(); ++i) {
    const nlohmann::json& f = (*v)[i];
    const std::string at = std::string(key) + "[" + std::to_string(i) + "]";
    if (!f.is_object() || !f.contains("name") || !f["name"].is_string() || !f.contains("type") ||
        !f["type"].is_string())
      fail(at, "must be {\"name\": string, \"type\": string}");
    auto t = parseType(f["type"].get<std::string>());
    if (!t) fail(at + ".type", "unknown type '" + f["type"].get<std::string>() + "'");
    fields.push_back({f["name"].get<std::string>(), *t});
  }
  return makeSchema(std::move(fields));
}

}  // namespace weir::params
