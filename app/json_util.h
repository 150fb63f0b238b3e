#pragma once
// Conversions between the engine's JSON (nlohmann::json) and what QML passes around
// (QVariant), and param paths ("window.size_ms", "aggregates[1].fn") into params objects.

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <QString>
#include <QVariant>
#include <nlohmann/json.hpp>

#include "core/catalog.h"

namespace wb {

/// QVariant (as QML hands it over: numbers, strings, bools, lists, maps, null/undefined)
/// to JSON. An invalid QVariant (undefined) is JSON null. A double with an integral value
/// stays a double: callers that know the param kind coerce with coerceToKind.
nlohmann::json toJson(const QVariant& v);
/// JSON to QVariant: objects are QVariantMap, arrays QVariantList, null an invalid QVariant.
QVariant toVariant(const nlohmann::json& j);

/// Makes `v` fit a param of kind `k` where QML's numbers are ambiguous: an integral double
/// becomes an integer for Int (and Timestamp) params; a numeric string for Int/Double is
/// parsed. Anything else is returned unchanged (validation reports what does not fit).
nlohmann::json coerceToKind(const nlohmann::json& v, weir::ParamKind k);

/// One step of a param path: a member name or an array index.
using PathStep = std::variant<std::string, std::size_t>;
/// "window.size_ms" -> {"window", "size_ms"}; "aggregates[1].fn" -> {"aggregates", 1, "fn"}.
/// nullopt when the text is not a path (empty, "a..b", "a[x]").
std::optional<std::vector<PathStep>> parsePath(const std::string& path);

/// The value at `path` inside `root`, or nullptr when any step is missing.
const nlohmann::json* jsonAt(const nlohmann::json& root, const std::string& path);
/// Sets the value at `path`, creating objects for missing member steps and growing arrays
/// with nulls for index steps past the end; false when a step meets the wrong JSON kind.
bool setJsonAt(nlohmann::json& root, const std::string& path, nlohmann::json value);
/// Removes the member or array element at `path`; false when it was not there. Empty
/// objects left behind on the way are kept.
bool eraseJsonAt(nlohmann::json& root, const std::string& path);

/// The spec of the param at `path` among `specs` (following Object and ObjectList children;
/// an index step stays on the list's spec), or nullptr when a step names no param.
const weir::ParamSpec* specAt(const std::vector<weir::ParamSpec>& specs, const std::string& path);

/// A short human form of a JSON value for labels: strings without quotes, others as JSON.
QString displayText(const nlohmann::json& j);

inline QString qs(const std::string& s) { return QString::fromStdString(s); }
inline std::string ss(const QString& s) { return s.toStdString(); }

}  // namespace wb
