#include "inspector_model.h"

#include <map>
#include <set>

#include <cmath>
#include <limits>

#include "core/expr.h"
#include "core/validate.h"
#include "job_document.h"
#include "json_util.h"

using wb::qs;
using wb::ss;
using json = nlohmann::json;

namespace {

/// An object param that is either there or not, as a whole: optional and without a
/// default (with a default, its members apply whether it is written or not).
bool switchable(const weir::ParamSpec& p) {
  return p.kind == weir::ParamKind::Object && !p.required && p.defaultValue.is_null();
}

const QStringList kFunctions = {"abs", "floor", "ceil", "round", "lower", "upper", "length",
                                "substr", "concat", "coalesce", "if"};
const QStringList kKeywords = {"AND", "OR", "NOT", "IS", "NULL", "IN", "BETWEEN", "LIKE", "CASE",
                               "WHEN", "THEN", "ELSE", "END", "CAST", "AS", "TRUE", "FALSE",
                               "int64", "double", "string", "bool", "timestamp"};

QVariantList schemaList(const weir::SchemaPtr& s) {
  QVariantList l;
  if (!s) return l;
  for (const weir::Field& f : s->fields())
    l << QVariantMap{{"name", qs(f.name)}, {"type", qs(std::string(weir::typeName(f.type)))}};
  return l;
}

QVariantMap specMap(const weir::ParamSpec& c) {
  QStringList enums;
  for (const auto& e : c.enumValues) enums << qs(e);
  return {{"name", qs(c.name)},
          {"kind", qs(std::string(weir::paramKindName(c.kind)))},
          {"enumValues", enums},
          {"doc", qs(c.doc)},
          {"required", c.required},
          {"defaultText", wb::displayText(c.defaultValue)}};
}

bool isWordChar(QChar c) { return c.isLetterOrNumber() || c == '_'; }

}  // namespace

weir::SchemaPtr InspectorModel::inputSchemaOf(const weir::ValidatedJob& job, const weir::ValidatedNode& vn,
                                              std::size_t port) {
  if (port < vn.inputSchemas.size() && vn.inputSchemas[port]) return vn.inputSchemas[port];
  if (port < vn.inputEdges.size())
    for (std::size_t e : vn.inputEdges[port])
      if (e < job.edges.size() && job.edges[e].schema) return job.edges[e].schema;
  return nullptr;
}

InspectorModel::InspectorModel(JobDocument* doc) : QAbstractListModel(nullptr), doc_(doc) {
  connect(doc_, &JobDocument::selectionChanged, this, [this] { setNode(doc_->currentNode()); });
  connect(doc_, &JobDocument::nodeChanged, this, [this](const QString& id) {
    if (id == nodeId_ || !doc_->hasNode(nodeId_)) setNode(doc_->currentNode());
  });
  connect(doc_, &JobDocument::validated, this, [this] { refresh(); });
  connect(doc_, &JobDocument::jobFieldsChanged, this, [this] { if (jobMode_) refresh(); });
  connect(doc_, &JobDocument::loaded, this, [this] { setNode(doc_->currentNode()); });
  connect(doc_, &JobDocument::problemSelected, this, [this](const QString&, const QString& path) {
    setFocusPath(path);
  });
}

void InspectorModel::setNode(const QString& id) {
  // The node may have been renamed or retyped: always re-read the spec.
  const int row = doc_->nodeRow(id);
  const weir::OperatorSpec* spec =
      row >= 0 ? doc_->catalog().find(doc_->job().nodes[static_cast<std::size_t>(row)].type) : nullptr;
  const bool job = row < 0;
  const QString key = job ? QStringLiteral("\x01job")
                          : id + "\x01" + QString::number(reinterpret_cast<quintptr>(spec));
  if (key != key_) {
    beginResetModel();
    key_ = key;
    nodeId_ = job ? QString() : id;
    spec_ = spec;
    jobMode_ = job;
    rows_.clear();
    if (job) addRows(JobDocument::jobParamSpecs(), "", 0, nullptr, rows_);
    else if (spec_) addRows(spec_->params, "", 0, nullptr, rows_);
    endResetModel();
    if (focusPath_.size()) setFocusPath({});
    emit nodeChanged();
    emit refreshed();
  } else {
    refresh();
  }
}

std::vector<const weir::Diagnostic*> InspectorModel::rowDiagnostics() const {
  std::vector<const weir::Diagnostic*> out;
  if (jobMode_) {
    for (const weir::Diagnostic& d : doc_->diagnostics())
      if (d.node == "job") out.push_back(&d);
  } else {
    for (int i : doc_->nodeDiagnostics(doc_->nodeRow(nodeId_)))
      out.push_back(&doc_->diagnostics()[static_cast<std::size_t>(i)]);
  }
  return out;
}

json InspectorModel::currentParams() const {
  if (jobMode_) return doc_->jobParams();
  const int r = doc_->nodeRow(nodeId_);
  return r < 0 ? json::object() : doc_->job().nodes[static_cast<std::size_t>(r)].params;
}

json InspectorModel::effectiveParams() const {
  if (jobMode_) {
    json j = json::object();
    if (!doc_->validatedJob().checkpoint.is_null()) j["checkpoint"] = doc_->validatedJob().checkpoint;
    if (!doc_->validatedJob().restart.is_null()) j["restart"] = doc_->validatedJob().restart;
    return j;
  }
  int vr = doc_->validatedNodeRow(nodeId_);
  return vr < 0 ? json() : doc_->validatedJob().nodes[static_cast<std::size_t>(vr)].params;
}

void InspectorModel::addRows(const std::vector<weir::ParamSpec>& specs, const std::string& prefix,
                             int depth, const weir::ParamSpec* parent, std::vector<Row>& out) const {
  for (const weir::ParamSpec& p : specs) {
    out.push_back({prefix + p.name, &p, depth, parent});
    if (p.kind == weir::ParamKind::Object) addRows(p.children, prefix + p.name + ".", depth + 1, &p, out);
  }
}

void InspectorModel::refresh() {
  if (!jobMode_ && doc_->nodeRow(nodeId_) < 0) {
    setNode(doc_->currentNode());  // it was removed or renamed
    return;
  }
  if (!rows_.empty()) emit dataChanged(index(0), index(static_cast<int>(rows_.size()) - 1));
  emit refreshed();
}

void InspectorModel::setFocusPath(const QString& p) {
  if (p == focusPath_) return;
  focusPath_ = p;
  emit focusPathChanged();
}

QString InspectorModel::type() const {
  if (spec_) return qs(spec_->type);
  const int r = doc_->nodeRow(nodeId_);
  return r < 0 ? QString() : qs(doc_->job().nodes[static_cast<std::size_t>(r)].type);
}
QString InspectorModel::title() const {
  if (spec_) return qs(spec_->title);
  return jobMode_ ? QString() : tr("Unknown operator");
}
QString InspectorModel::doc() const { return spec_ ? qs(spec_->doc) : QString(); }
QString InspectorModel::outputDoc() const { return spec_ ? qs(spec_->outputDoc) : QString(); }

QVariantList InspectorModel::inputSchema() const {
  int vr = doc_->validatedNodeRow(nodeId_);
  if (vr < 0) return {};
  const auto& vn = doc_->validatedJob().nodes[static_cast<std::size_t>(vr)];
  return schemaList(inputSchemaOf(doc_->validatedJob(), vn, 0));
}

QVariantList InspectorModel::outputSchema() const {
  int vr = doc_->validatedNodeRow(nodeId_);
  if (vr < 0) return {};
  const auto& vn = doc_->validatedJob().nodes[static_cast<std::size_t>(vr)];
  return vn.outputSchemas.empty() ? QVariantList() : schemaList(vn.outputSchemas[0]);
}

QStringList InspectorModel::problems() const { return doc_->nodeProblems(nodeId_); }

QStringList InspectorModel::otherProblems() const {
  QStringList out;
  for (const weir::Diagnostic* dp : rowDiagnostics()) {
    const weir::Diagnostic& d = *dp;
    bool onRow = false;
    for (const Row& row : rows_) {
      const std::string& p = row.path;
      if (d.path == p || (d.path.size() > p.size() && d.path.compare(0, p.size(), p) == 0 && d.path[p.size()] == '['))
        onRow = true;
    }
    if (!onRow) out << (d.path.empty() ? qs(d.message) : qs(d.path) + ": " + qs(d.message));
  }
  return out;
}

int InspectorModel::parallelism() const {
  int r = doc_->nodeRow(nodeId_);
  if (r < 0) return 0;
  return doc_->job().nodes[static_cast<std::size_t>(r)].parallelism.value_or(0);
}

int InspectorModel::resolvedParallelism() const {
  int vr = doc_->validatedNodeRow(nodeId_);
  return vr < 0 ? 0 : doc_->validatedJob().nodes[static_cast<std::size_t>(vr)].parallelism;
}

int InspectorModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(rows_.size());
}

QHash<int, QByteArray> InspectorModel::roleNames() const {
  return {{NameRole, "name"},           {PathRole, "path"},
          {KindRole, "kind"},           {DepthRole, "depth"},
          {RequiredRole, "isRequired"},   {DefaultTextRole, "defaultText"},
          {EnumValuesRole, "enumValues"}, {DocRole, "help"},
          {ValueRole, "value"},         {ValueTextRole, "valueText"},
          {IsSetRole, "isSet"},         {EffectiveRole, "effective"},
          {EffectiveTextRole, "effectiveText"}, {ErrorRole, "error"},
          {MinimumRole, "minimum"},     {MaximumRole, "maximum"},
          {ChildSpecsRole, "childSpecs"}, {ItemsRole, "items"},
          {ItemErrorsRole, "itemErrors"}, {FieldCandidatesRole, "fieldCandidates"},
          {ParentSetRole, "parentSet"},
          {SwitchableRole, "switchable"},
          {ParentOptionalRole, "parentOptional"}, {AppliesRole, "applies"}};
}

bool InspectorModel::applies(const std::string& path, const json& params) {
  // The members of a window shape (catalog.cpp windowShapeParams) that one type uses.
  static const std::map<std::string, std::set<std::string>> byType = {
      {"size_ms", {"tumbling", "sliding"}}, {"slide_ms", {"sliding"}}, {"gap_ms", {"session"}}};
  const std::size_t dot = path.rfind('.');
  if (dot == std::string::npos) return true;
  const auto it = byType.find(path.substr(dot + 1));
  if (it == byType.end()) return true;
  const json* type = wb::jsonAt(params, path.substr(0, dot) + ".type");
  if (!type || !type->is_string()) return true;  // no shape chosen yet: show them all
  return it->second.contains(type->get<std::string>());
}

QString InspectorModel::errorFor(const std::string& path, bool includeInside) const {
  for (const weir::Diagnostic* d : rowDiagnostics()) {
    if (d->path == path) return qs(d->message);
    if (includeInside && d->path.size() > path.size() && d->path.compare(0, path.size(), path) == 0 &&
        d->path[path.size()] == '[')
      return qs(d->path.substr(path.size())) + ": " + qs(d->message);
  }
  return {};
}

QVariant InspectorModel::data(const QModelIndex& index, int role) const {
  const int r = index.row();
  if (!index.isValid() || r < 0 || r >= rowCount()) return {};
  const Row& row = rows_[static_cast<std::size_t>(r)];
  const weir::ParamSpec& p = *row.spec;
  const json params = currentParams();
  const json* value = wb::jsonAt(params, row.path);
  const json effectiveAll = effectiveParams();
  auto effective = [&]() -> const json* { return wb::jsonAt(effectiveAll, row.path); };
  const bool isList = p.kind == weir::ParamKind::ObjectList || p.kind == weir::ParamKind::Schema ||
                      p.kind == weir::ParamKind::FieldList;
  switch (role) {
    case NameRole: return qs(p.name);
    case PathRole: return qs(row.path);
    case KindRole: return qs(std::string(weir::paramKindName(p.kind)));
    case DepthRole: return row.depth;
    case RequiredRole: return p.required;
    case DefaultTextRole: return wb::displayText(p.defaultValue);
    case EnumValuesRole: {
      QStringList l;
      for (const auto& e : p.enumValues) l << qs(e);
      return l;
    }
    case DocRole: return qs(p.doc);
    case ValueRole: return value ? wb::toVariant(*value) : QVariant();
    case ValueTextRole: return value ? wb::displayText(*value) : QString();
    case IsSetRole: return value != nullptr;
    case EffectiveRole: {
      const json* e = effective();
      return e ? wb::toVariant(*e) : (value ? wb::toVariant(*value) : wb::toVariant(p.defaultValue));
    }
    case EffectiveTextRole: {
      const json* e = effective();
      return wb::displayText(e ? *e : (value ? *value : p.defaultValue));
    }
    case ErrorRole: return errorFor(row.path, isList);
    case MinimumRole: return p.min ? *p.min : std::numeric_limits<double>::quiet_NaN();
    case MaximumRole: return p.max ? *p.max : std::numeric_limits<double>::quiet_NaN();
    case ChildSpecsRole: {
      QVariantList l;
      if (p.kind == weir::ParamKind::Schema) {
        l << QVariantMap{{"name", "name"}, {"kind", "string"}, {"enumValues", QStringList()},
                         {"doc", tr("Field name")}, {"required", true}, {"defaultText", ""}};
        l << QVariantMap{{"name", "type"}, {"kind", "enum"},
                         {"enumValues", QStringList{"int64", "double", "string", "bool", "timestamp"}},
                         {"doc", tr("Field type")}, {"required", true}, {"defaultText", ""}};
      }
      for (const weir::ParamSpec& c : p.children) l << specMap(c);
      return l;
    }
    case ItemsRole: {
      if (!isList) return QVariantList();
      return value && value->is_array() ? wb::toVariant(*value) : QVariant(QVariantList());
    }
    case ItemErrorsRole: {
      QVariantList out;
      if (!isList) return out;
      const std::size_t n = value && value->is_array() ? value->size() : 0;
      std::vector<QVariantMap> per(n);
      const std::string prefix = row.path + "[";
      for (const weir::Diagnostic* dp : rowDiagnostics()) {
        const weir::Diagnostic& d = *dp;
        if (d.path.compare(0, prefix.size(), prefix) != 0) continue;
        std::size_t close = d.path.find(']', prefix.size());
        if (close == std::string::npos) continue;
        std::size_t k = std::strtoul(d.path.substr(prefix.size(), close - prefix.size()).c_str(), nullptr, 10);
        if (k >= n) continue;
        std::string member = close + 1 < d.path.size() && d.path[close + 1] == '.' ? d.path.substr(close + 2) : "";
        if (!per[k].contains(qs(member))) per[k].insert(qs(member), qs(d.message));
      }
      for (auto& m : per) out << m;
      return out;
    }
    case ParentSetRole: {
      const std::size_t dot = row.path.rfind('.');
      return dot == std::string::npos || wb::jsonAt(params, row.path.substr(0, dot)) != nullptr;
    }
    // The job's settings (checkpoint, restart) are all turned on and off as a whole.
    case SwitchableRole: return row.depth == 0 && p.kind == weir::ParamKind::Object && (jobMode_ || switchable(p));
    case ParentOptionalRole: return row.parent != nullptr && (jobMode_ || switchable(*row.parent));
    case AppliesRole: return applies(row.path, params);
    case FieldCandidatesRole: {
      if (p.kind == weir::ParamKind::Field || p.kind == weir::ParamKind::FieldList ||
          p.kind == weir::ParamKind::Expression || p.kind == weir::ParamKind::ObjectList)
        return fieldNames(qs(row.path));
      return QStringList();
    }
    default: return {};
  }
}

int InspectorModel::rowOf(const QString& path) const {
  for (std::size_t i = 0; i < rows_.size(); ++i)
    if (qs(rows_[i].path) == path) return static_cast<int>(i);
  return -1;
}

QVariantMap InspectorModel::get(int row) const {
  QVariantMap m;
  if (row < 0 || row >= rowCount()) return m;
  const auto roles = roleNames();
  for (auto it = roles.begin(); it != roles.end(); ++it)
    m.insert(QString::fromUtf8(it.value()), data(index(row), it.key()));
  return m;
}

weir::SchemaPtr InspectorModel::schemaFor(const std::string& path) const {
  int vr = doc_->validatedNodeRow(nodeId_);
  if (vr < 0) return nullptr;
  const weir::ValidatedNode& vn = doc_->validatedJob().nodes[static_cast<std::size_t>(vr)];
  if (!vn.spec) return nullptr;
  if (vn.spec->inputs.empty())  // a source names fields of its own output
    return vn.outputSchemas.empty() ? nullptr : vn.outputSchemas[0];
  std::size_t port = 0;
  if (path.rfind("right", 0) == 0) {
    int i = vn.spec->inputIndex("right");
    if (i >= 0) port = static_cast<std::size_t>(i);
  } else if (path.rfind("left", 0) == 0) {
    int i = vn.spec->inputIndex("left");
    if (i >= 0) port = static_cast<std::size_t>(i);
  }
  return inputSchemaOf(doc_->validatedJob(), vn, port);
}

QStringList InspectorModel::fieldNames(const QString& path) const {
  QStringList out;
  weir::SchemaPtr s = schemaFor(ss(path));
  if (!s) {
    // A source before validation has got far: its own schema param.
    int r = doc_->nodeRow(nodeId_);
    if (r >= 0)
      if (const json* sc = wb::jsonAt(doc_->job().nodes[static_cast<std::size_t>(r)].params, "schema");
          sc && sc->is_array() && spec_ && spec_->inputs.empty())
        for (const json& f : *sc)
          if (f.is_object() && f.contains("name") && f["name"].is_string()) out << qs(f["name"].get<std::string>());
    return out;
  }
  for (const weir::Field& f : s->fields()) out << qs(f.name);
  return out;
}

QVariantMap InspectorModel::checkExpression(const QString& path, const QString& text) const {
  weir::SchemaPtr s = schemaFor(ss(path));
  const bool known = s != nullptr;
  weir::Schema empty;
  const QByteArray utf8 = text.toUtf8();
  weir::CompiledExpr c = weir::compileExpression(std::string_view(utf8.constData(), static_cast<std::size_t>(utf8.size())),
                                                 known ? *s : empty);
  QVariantMap m{{"schemaKnown", known}};
  if (c) {
    m["ok"] = true;
    m["type"] = qs(std::string(weir::typeName(c.expr->type())));
    return m;
  }
  const weir::ExprError& e = *c.error;
  if (!known && QString::fromStdString(e.message).startsWith("unknown field")) {
    m["ok"] = true;  // cannot tell before the input's schema is known
    m["type"] = QString();
    return m;
  }
  // Byte offset to a QString position, and the length of the word there.
  const std::size_t byteOffset = std::min<std::size_t>(e.offset, static_cast<std::size_t>(utf8.size()));
  const int offset = QString::fromUtf8(utf8.constData(), static_cast<qsizetype>(byteOffset)).size();
  int length = 0;
  while (offset + length < text.size() && isWordChar(text[offset + length])) ++length;
  if (length == 0 && offset < text.size()) length = 1;
  m["ok"] = false;
  m["offset"] = offset;
  m["length"] = length;
  m["message"] = qs(e.message);
  return m;
}

QVariantMap InspectorModel::completions(const QString& path, const QString& text, int cursor) const {
  cursor = std::clamp(cursor, 0, static_cast<int>(text.size()));
  int start = cursor;
  while (start > 0 && isWordChar(text[start - 1])) --start;
  const QString prefix = text.mid(start, cursor - start);
  QVariantList candidates;
  auto matches = [&](const QString& c) {
    return c.startsWith(prefix, Qt::CaseInsensitive) && c.compare(prefix, Qt::CaseInsensitive) != 0;
  };
  weir::SchemaPtr s = schemaFor(ss(path));
  if (s) {
    for (const weir::Field& f : s->fields())
      if (matches(qs(f.name)))
        candidates << QVariantMap{{"text", qs(f.name)}, {"kind", "field"},
                                  {"detail", qs(std::string(weir::typeName(f.type)))}};
  } else {
    for (const QString& f : fieldNames(path))
      if (matches(f)) candidates << QVariantMap{{"text", f}, {"kind", "field"}, {"detail", QString()}};
  }
  if (!prefix.isEmpty()) {
    for (const QString& f : kFunctions)
      if (matches(f)) candidates << QVariantMap{{"text", f + "("}, {"kind", "function"}, {"detail", tr("function")}};
    for (const QString& k : kKeywords)
      if (matches(k)) candidates << QVariantMap{{"text", k}, {"kind", "keyword"}, {"detail", tr("keyword")}};
  }
  return {{"start", start}, {"prefix", prefix}, {"candidates", candidates}};
}
