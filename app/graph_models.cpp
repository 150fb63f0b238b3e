#include "graph_models.h"

#include "format.h"

#include "graph_layout.h"
#include "job_document.h"
#include "json_util.h"

using wb::qs;
using json = nlohmann::json;

namespace {

/// One line that says what a node does, from its params ("price > 1000", "bids.csv").
/// A window's shape with its sizes: "tumbling 10 s", "sliding 10 s every 2 s", "session gap 30 s".
QString windowShape(const json& w) {
  const std::string type = w["type"].get<std::string>();
  auto ms = [&](const char* k) {
    auto it = w.find(k);
    return it != w.end() && it->is_number() ? " " + Format::durationText(it->get<double>()) : QString();
  };
  if (type == "sliding") {
    const QString slide = ms("slide_ms");
    return "sliding" + ms("size_ms") + (slide.isEmpty() ? QString() : " every" + slide);
  }
  if (type == "session") {
    const QString gap = ms("gap_ms");
    return "session" + (gap.isEmpty() ? QString() : " gap" + gap);
  }
  return qs(type) + ms("size_ms");
}

QString summary(const weir::JobNode& n, const weir::OperatorSpec* spec) {
  const json& p = n.params;
  auto str = [&](const char* k) -> QString {
    auto it = p.find(k);
    return it != p.end() && it->is_string() ? qs(it->get<std::string>()) : QString();
  };
  if (n.type == "filter") return str("where");
  if (n.type == "map" || n.type == "window" || n.type == "aggregate") {
    const char* list = n.type == "map" ? "fields" : "aggregates";
    QStringList names;
    if (auto it = p.find(list); it != p.end() && it->is_array())
      for (const json& f : *it)
        if (f.is_object() && f.contains("name") && f["name"].is_string()) names << qs(f["name"].get<std::string>());
    QString s = names.join(", ");
    if (n.type != "map") {
      QStringList keys;
      if (auto it = p.find("key"); it != p.end() && it->is_array())
        for (const json& k : *it)
          if (k.is_string()) keys << qs(k.get<std::string>());
      if (!keys.isEmpty()) s = "by " + keys.join(", ") + (s.isEmpty() ? "" : ": " + s);
      if (auto w = p.find("window"); w != p.end() && w->is_object() && w->contains("type") && (*w)["type"].is_string())
        s = windowShape(*w) + (s.isEmpty() ? "" : " " + s);
    }
    return s;
  }
  if (n.type == "source.generator") {
    // What it generates, how many (or that it never ends) and how fast.
    QString t = str("table");
    const auto events = p.find("events");
    const bool bounded = events != p.end() && events->is_number() && events->get<double>() > 0;
    t += bounded ? ", " + Format::countText(events->get<double>()) + " events" : QStringLiteral(", unbounded");
    if (auto rate = p.find("rate"); rate != p.end() && rate->is_number() && rate->get<double>() > 0)
      t += ", " + Format::rateText(rate->get<double>());
    return t;
  }
  if (!spec) return {};
  for (const weir::ParamSpec& ps : spec->params)
    if (ps.kind == weir::ParamKind::Path || ps.kind == weir::ParamKind::Expression) {
      QString s = str(ps.name.c_str());
      if (!s.isEmpty()) return s;
    }
  return {};
}

}  // namespace

// ---- nodes ------------------------------------------------------------------------------------

NodeListModel::NodeListModel(JobDocument* doc) : QAbstractListModel(doc), doc_(doc) {}

int NodeListModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(doc_->job().nodes.size());
}

QHash<int, QByteArray> NodeListModel::roleNames() const {
  return {{NodeIdRole, "nodeId"},       {TypeRole, "type"},
          {TitleRole, "title"},         {CategoryRole, "category"},
          {PosXRole, "posX"},           {PosYRole, "posY"},
          {HeightRole, "nodeHeight"},   {InputsRole, "inputs"},
          {OutputsRole, "outputs"},     {SelectedRole, "selected"},
          {ProblemCountRole, "problemCount"}, {ProblemRole, "problem"},
          {SchemaRole, "schema"},       {ParallelismRole, "parallelism"},
          {SummaryRole, "summary"}};
}

QVariant NodeListModel::data(const QModelIndex& index, int role) const {
  const int row = index.row();
  if (!index.isValid() || row < 0 || row >= rowCount()) return {};
  const weir::JobNode& n = doc_->job().nodes[static_cast<std::size_t>(row)];
  const weir::OperatorSpec* spec = doc_->catalog().find(n.type);
  auto ports = [](const std::vector<weir::PortSpec>* ps) {
    QStringList l;
    if (ps)
      for (const auto& p : *ps) l << qs(p.name);
    return l;
  };
  switch (role) {
    case NodeIdRole: return qs(n.id);
    case TypeRole: return qs(n.type);
    case TitleRole: return spec ? qs(spec->title) : qs(n.type);
    case CategoryRole: return spec ? qs(std::string(weir::categoryName(spec->category))) : QStringLiteral("unknown");
    case PosXRole: return doc_->nodePos(row).x();
    case PosYRole: return doc_->nodePos(row).y();
    case HeightRole:
      return wb::NodeGeometry::height(spec ? static_cast<int>(spec->inputs.size()) : 0,
                                      spec ? static_cast<int>(spec->outputs.size()) : 0);
    case InputsRole: return ports(spec ? &spec->inputs : nullptr);
    case OutputsRole: return ports(spec ? &spec->outputs : nullptr);
    case SelectedRole: return doc_->isSelected(qs(n.id));
    case ProblemCountRole: return static_cast<int>(doc_->nodeDiagnostics(row).size());
    case ProblemRole: {
      const auto& ds = doc_->nodeDiagnostics(row);
      if (ds.empty()) return QString();
      const weir::Diagnostic& d = doc_->diagnostics()[static_cast<std::size_t>(ds.front())];
      return d.path.empty() ? qs(d.message) : qs(d.path) + ": " + qs(d.message);
    }
    case SchemaRole: {
      int vr = doc_->validatedNodeRow(qs(n.id));
      if (vr < 0) return QString();
      const weir::ValidatedNode& vn = doc_->validatedJob().nodes[static_cast<std::size_t>(vr)];
      if (vn.outputSchemas.empty() || !vn.outputSchemas[0]) return QString();
      return qs(vn.outputSchemas[0]->toString());
    }
    case ParallelismRole: {
      int vr = doc_->validatedNodeRow(qs(n.id));
      return vr < 0 ? 0 : doc_->validatedJob().nodes[static_cast<std::size_t>(vr)].parallelism;
    }
    case SummaryRole: return summary(n, spec);
    default: return {};
  }
}

void NodeListModel::changed(int row, const QList<int>& roles) {
  if (row < 0 || row >= rowCount()) return;
  emit dataChanged(index(row), index(row), roles);
}

void NodeListModel::changedAll(const QList<int>& roles) {
  if (rowCount() > 0) emit dataChanged(index(0), index(rowCount() - 1), roles);
}

// ---- edges ------------------------------------------------------------------------------------

EdgeListModel::EdgeListModel(JobDocument* doc) : QAbstractListModel(doc), doc_(doc) {}

int EdgeListModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(doc_->job().edges.size());
}

QHash<int, QByteArray> EdgeListModel::roleNames() const {
  return {{EdgeIdRole, "edgeId"},     {FromNodeRole, "fromNode"},   {FromPortRole, "fromPort"},
          {ToNodeRole, "toNode"},     {ToPortRole, "toPort"},       {X1Role, "x1"},
          {Y1Role, "y1"},             {X2Role, "x2"},               {Y2Role, "y2"},
          {FromSelectedRole, "fromSelected"}, {ToSelectedRole, "toSelected"},
          {SelectedRole, "selected"}, {SchemaRole, "schema"},       {PartitionRole, "partition"},
          {KeyFieldsRole, "keyFields"}, {ValidRole, "valid"},       {ProblemRole, "problem"}};
}

QVariant EdgeListModel::data(const QModelIndex& index, int role) const {
  const int row = index.row();
  if (!index.isValid() || row < 0 || row >= rowCount()) return {};
  const weir::JobEdge& e = doc_->job().edges[static_cast<std::size_t>(row)];
  const int id = doc_->edgeId(row);
  auto validated = [&]() -> const weir::ValidatedEdge* {
    int vr = doc_->validatedEdgeRow(id);
    if (vr < 0 || vr >= static_cast<int>(doc_->validatedJob().edges.size())) return nullptr;
    return &doc_->validatedJob().edges[static_cast<std::size_t>(vr)];
  };
  switch (role) {
    case EdgeIdRole: return id;
    case FromNodeRole: return qs(e.from);
    case FromPortRole: return qs(e.fromPort);
    case ToNodeRole: return qs(e.to);
    case ToPortRole: return qs(e.toPort);
    case X1Role: return doc_->portPosition(qs(e.from), qs(e.fromPort), false).x();
    case Y1Role: return doc_->portPosition(qs(e.from), qs(e.fromPort), false).y();
    case X2Role: return doc_->portPosition(qs(e.to), qs(e.toPort), true).x();
    case Y2Role: return doc_->portPosition(qs(e.to), qs(e.toPort), true).y();
    case FromSelectedRole: return doc_->isSelected(qs(e.from));
    case ToSelectedRole: return doc_->isSelected(qs(e.to));
    case SelectedRole: return doc_->selectedEdge() == id;
    case SchemaRole: {
      const weir::ValidatedEdge* ve = validated();
      return ve && ve->schema ? qs(ve->schema->toString()) : QString();
    }
    case PartitionRole: {
      const weir::ValidatedEdge* ve = validated();
      return qs(std::string(weir::partitionName(ve && ve->valid ? ve->partition : e.partition)));
    }
    case KeyFieldsRole: {
      QStringList keys;
      if (const weir::ValidatedEdge* ve = validated())
        for (const auto& k : ve->keyFields) keys << qs(k);
      return keys;
    }
    case ValidRole: {
      if (!doc_->hasNode(qs(e.from)) || !doc_->hasNode(qs(e.to))) return false;
      const weir::ValidatedEdge* ve = validated();
      return ve ? ve->valid : true;
    }
    case ProblemRole: {
      int di = doc_->edgeDiagnostic(row);
      return di < 0 ? QString() : qs(doc_->diagnostics()[static_cast<std::size_t>(di)].message);
    }
    default: return {};
  }
}

void EdgeListModel::changed(int row, const QList<int>& roles) {
  if (row < 0 || row >= rowCount()) return;
  emit dataChanged(index(row), index(row), roles);
}

void EdgeListModel::changedAll(const QList<int>& roles) {
  if (rowCount() > 0) emit dataChanged(index(0), index(rowCount() - 1), roles);
}

// ---- problems ---------------------------------------------------------------------------------

ProblemListModel::ProblemListModel(JobDocument* doc) : QAbstractListModel(doc), doc_(doc) {}

int ProblemListModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(doc_->diagnostics().size());
}

QHash<int, QByteArray> ProblemListModel::roleNames() const {
  return {{NodeRole, "node"}, {PathRole, "path"}, {MessageRole, "message"},
          {TextRole, "text"}, {EdgeIdRole, "edgeId"}, {NodeExistsRole, "nodeExists"}};
}

QVariant ProblemListModel::data(const QModelIndex& index, int role) const {
  const int row = index.row();
  if (!index.isValid() || row < 0 || row >= rowCount()) return {};
  const weir::Diagnostic& d = doc_->diagnostics()[static_cast<std::size_t>(row)];
  switch (role) {
    case NodeRole: return qs(d.node);
    case PathRole: return qs(d.path);
    case MessageRole: return qs(d.message);
    case TextRole: return qs(d.toString());
    case EdgeIdRole: {
      int er = doc_->diagnosticEdgeRow(d);
      return er < 0 ? 0 : doc_->edgeId(er);
    }
    case NodeExistsRole: return doc_->diagnosticNodeRow(d) >= 0;
    default: return {};
  }
}
