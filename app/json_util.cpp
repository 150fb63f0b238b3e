#include "json_util.h"

#include <QJSValue>

#include <cmath>
#include <limits>

namespace wb {

using json = nlohmann::json;

json toJson(const QVariant& v) {
  if (!v.isValid() || v.isNull()) return nullptr;
  switch (v.typeId()) {
    case QMetaType::Bool: return v.toBool();
    case QMetaType::Int:
    case QMetaType::Long:
    case QMetaType::LongLong:
    case QMetaType::Short: return v.toLongLong();
    case QMetaType::UInt:
    case QMetaType::ULong:
    case QMetaType::ULongLong:
    case QMetaType::UShort: return v.toULongLong();
    case QMetaType::Double:
    case QMetaType::Float: return v.toDouble();
    case QMetaType::QString: return v.toString().toStdString();
    case QMetaType::QStringList: {
      json a = json::array();
      for (const QString& s : v.toStringList()) a.push_back(s.toStdString());
      return a;
    }
    case QMetaType::QVariantList: {
      json a = json::array();
      for (const QVariant& e : v.toList()) a.push_back(toJson(e));
      return a;
    }
    case QMetaType::QVariantMap: {
      json o = json::object();
      const QVariantMap m = v.toMap();
      for (auto it = m.begin(); it != m.end(); ++it) o[it.key().toStdString()] = toJson(it.value());
      return o;
    }
    default: break;
  }
  // JavaScript arrays and objects from QML arrive as QVariant<QJSValue>.
  if (v.metaType() == QMetaType::fromType<QJSValue>()) {
    const QJSValue js = v.value<QJSValue>();
    if (js.isUndefined() || js.isNull()) return nullptr;
    return toJson(js.toVariant());
  }
  if (v.canConvert<QVariantList>() && !v.canConvert<QString>()) return toJson(QVariant(v.toList()));
  if (v.canConvert<QVariantMap>()) {
    QVariantMap m = v.toMap();
    if (!m.isEmpty()) return toJson(QVariant(m));
  }
  if (v.canConvert<QString>()) return v.toString().toStdString();
  return nullptr;
}

QVariant toVariant(const json& j) {
  switch (j.type()) {
    case json::value_t::null: return {};
    case json::value_t::boolean: return j.get<bool>();
    case json::value_t::number_integer: return QVariant::fromValue(j.get<qint64>());
    case json::value_t::number_unsigned: return QVariant::fromValue(j.get<quint64>());
    case json::value_t::number_float: return j.get<double>();
    case json::value_t::string: return QString::fromStdString(j.get<std::string>());
    case json::value_t::array: {
      QVariantList l;
      for (const json& e : j) l.push_back(toVariant(e));
      return l;
    }
    case json::value_t::object: {
      QVariantMap m;
      for (const auto& [k, e] : j.items()) m.insert(QString::fromStdString(k), toVariant(e));
      return m;
    }
    default: return {};
  }
}

json coerceToKind(const json& v, weir::ParamKind k) {
  using weir::ParamKind;
  const bool wantsInt = k == ParamKind::Int || k == ParamKind::Timestamp;
  if (wantsInt && v.is_number_float()) {
    double d = v.get<double>();
    if (std::isfinite(d) && std::floor(d) == d && std::fabs(d) < 9.0e15)
      return static_cast<std::int64_t>(d);
  }
  if ((k == ParamKind::Int || k == ParamKind::Double) && v.is_string()) {
    QString s = QString::fromStdString(v.get<std::string>()).trimmed();
    bool ok = false;
    if (k == ParamKind::Int) {
      qint64 i = s.toLongLong(&ok);
      if (ok) return i;
    } else {
      double d = s.toDouble(&ok);
      if (ok) return d;
    }
  }
  if (k == ParamKind::Double && v.is_number_integer()) return v;  // 2 is a fine double
  return v;
}

std::optional<std::vector<PathStep>> parsePath(const std::string& path) {
  std::vector<PathStep> steps;
  std::size_t i = 0;
  const std::size_t n = path.size();
  if (n == 0) return std::nullopt;
  while (i < n) {
    if (path[i] == '[') {
      std::size_t close = path.find(']', i);
      if (close == std::string::npos || close == i + 1) return std::nullopt;
      std::size_t index = 0;
      for (std::size_t k = i + 1; k < close; ++k) {
        if (path[k] < '0' || path[k] > '9') return std::nullopt;
        index = index * 10 + static_cast<std::size_t>(path[k] - '0');
      }
      steps.emplace_back(index);
      i = close + 1;
      if (i < n && path[i] == '.') {
        ++i;
        if (i == n) return std::nullopt;
      }
    } else {
      std::size_t end = path.find_first_of(".[", i);
      if (end == std::string::npos) end = n;
      if (end == i) return std::nullopt;
      steps.emplace_back(path.substr(i, end - i));
      i = end;
      if (i < n && path[i] == '.') {
        ++i;
        if (i == n) return std::nullopt;
      }
    }
  }
  return steps;
}

const json* jsonAt(const json& root, const std::string& path) {
  auto steps = parsePath(path);
  if (!steps) return nullptr;
  const json* cur = &root;
  for (const PathStep& s : *steps) {
    if (const auto* key = std::get_if<std::string>(&s)) {
      if (!cur->is_object()) return nullptr;
      auto it = cur->find(*key);
      if (it == cur->end()) return nullptr;
      cur = &*it;
    } else {
      std::size_t idx = std::get<std::size_t>(s);
      if (!cur->is_array() || idx >= cur->size()) return nullptr;
      cur = &(*cur)[idx];
    }
  }
  return cur;
}

bool setJsonAt(json& root, const std::string& path, json value) {
  auto steps = parsePath(path);
  if (!steps) return false;
  json* cur = &root;
  for (std::size_t i = 0; i < steps->size(); ++i) {
    const PathStep& s = (*steps)[i];
    if (const auto* key = std::get_if<std::string>(&s)) {
      if (cur->is_null()) *cur = json::object();
      if (!cur->is_object()) return false;
      cur = &(*cur)[*key];
    } else {
      std::size_t idx = std::get<std::size_t>(s);
      if (cur->is_null()) *cur = json::array();
      if (!cur->is_array()) return false;
      while (cur->size() <= idx) cur->push_back(nullptr);
      cur = &(*cur)[idx];
    }
  }
  *cur = std::move(value);
  return true;
}

bool eraseJsonAt(json& root, const std::string& path) {
  auto steps = parsePath(path);
  if (!steps) return false;
  json* cur = &root;
  for (std::size_t i = 0; i + 1 < steps->size(); ++i) {
    const PathStep& s = (*steps)[i];
    if (const auto* key = std::get_if<std::string>(&s)) {
      if (!cur->is_object() || !cur->contains(*key)) return false;
      cur = &(*cur)[*key];
    } else {
      std::size_t idx = std::get<std::size_t>(s);
      if (!cur->is_array() || idx >= cur->size()) return false;
      cur = &(*cur)[idx];
    }
  }
  const PathStep& last = steps->back();
  if (const auto* key = std::get_if<std::string>(&last)) {
    if (!cur->is_object()) return false;
    return cur->erase(*key) > 0;
  }
  std::size_t idx = std::get<std::size_t>(last);
  if (!cur->is_array() || idx >= cur->size()) return false;
  cur->erase(cur->begin() + static_cast<std::ptrdiff_t>(idx));
  return true;
}

const weir::ParamSpec* specAt(const std::vector<weir::ParamSpec>& specs, const std::string& path) {
  auto steps = parsePath(path);
  if (!steps) return nullptr;
  const std::vector<weir::ParamSpec>* level = &specs;
  const weir::ParamSpec* cur = nullptr;
  for (const PathStep& s : *steps) {
    if (const auto* key = std::get_if<std::string>(&s)) {
      if (!level) return nullptr;
      cur = nullptr;
      for (const weir::ParamSpec& p : *level)
        if (p.name == *key) cur = &p;
      if (!cur) return nullptr;
      level = cur->children.empty() ? nullptr : &cur->children;
    } else if (!cur || (cur->kind != weir::ParamKind::ObjectList &&
                        cur->kind != weir::ParamKind::FieldList &&
                        cur->kind != weir::ParamKind::Schema)) {
      return nullptr;
    }
  }
  return cur;
}

QString displayText(const json& j) {
  if (j.is_null()) return {};
  if (j.is_string()) return QString::fromStdString(j.get<std::string>());
  return QString::fromStdString(j.dump());
}

}  // namespace wb
