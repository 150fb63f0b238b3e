#include "job_document.h"

#include <QClipboard>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QGuiApplication>
#include <QRegularExpression>
#include <QSaveFile>
#include <QSettings>
#include <QStandardPaths>
#include <QUrl>
#include <QtConcurrent/QtConcurrentRun>

#include <algorithm>
#include <cmath>
#include <functional>

#include "edit_command.h"
#include "graph_layout.h"
#include "inspector_model.h"
#include "json_util.h"

using wb::EditBuilder;
using wb::EditCommand;
using wb::EditStep;
using wb::qs;
using wb::ss;
using json = nlohmann::json;

namespace {

constexpr int kMaxRecentFiles = 10;

struct ValidationResult {
  std::shared_ptr<weir::ValidatedJob> job;
  weir::Diagnostics diags;
  double ms = 0;
  std::vector<int> edgeIds;
  quint64 generation = 0;
};

ValidationResult runValidation(const weir::JobGraph& job, const weir::Catalog& catalog) {
  ValidationResult r;
  QElapsedTimer t;
  t.start();
  r.job = std::make_shared<weir::ValidatedJob>(weir::validateJob(job, catalog, r.diags));
  r.ms = static_cast<double>(t.nsecsElapsed()) / 1e6;
  return r;
}

QString localPath(const QString& pathOrUrl) {
  if (pathOrUrl.startsWith("file:")) return QUrl(pathOrUrl).toLocalFile();
  return pathOrUrl;
}

QString readText(const QString& path, bool* ok = nullptr) {
  QFile f(path);
  const bool opened = f.open(QIODevice::ReadOnly);
  if (ok) *ok = opened;
  return opened ? QString::fromUtf8(f.readAll()) : QString();
}

/// "edges[12].to" -> 12; -1 when the path is not about an edge.
int edgeIndexOfPath(const std::string& path) {
  if (path.rfind("edges[", 0) != 0) return -1;
  std::size_t close = path.find(']');
  if (close == std::string::npos || close == 6) return -1;
  int n = 0;
  for (std::size_t i = 6; i < close; ++i) {
    if (path[i] < '0' || path[i] > '9') return -1;
    n = n * 10 + (path[i] - '0');
  }
  return n;
}

/// "filter_12" -> "filter"; "filter" -> "filter".
QString stripNumberSuffix(const QString& id) {
  int us = id.lastIndexOf('_');
  if (us <= 0) return id;
  bool digits = us + 1 < id.size();
  for (int i = us + 1; i < id.size(); ++i) digits = digits && id[i].isDigit();
  return digits ? id.left(us) : id;
}

}  // namespace

struct JobDocument::Pending {
  QFutureWatcher<ValidationResult> watcher;
  quint64 generation = 0;
  bool rerun = false;
};

JobDocument::JobDocument(QObject* parent)
    : QObject(parent),
      catalog_(&weir::Catalog::builtin()),
      nodes_(this),
      edges_(this),
      problems_(this),
      inspector_(std::make_unique<InspectorModel>(this)),
      validated_(std::make_shared<weir::ValidatedJob>()) {
  QQmlEngine::setObjectOwnership(inspector_.get(), QQmlEngine::CppOwnership);
  undo_.setUndoLimit(500);
  connect(&undo_, &QUndoStack::canUndoChanged, this, &JobDocument::undoStateChanged);
  connect(&undo_, &QUndoStack::canRedoChanged, this, &JobDocument::undoStateChanged);
  connect(&undo_, &QUndoStack::undoTextChanged, this, &JobDocument::undoStateChanged);
  connect(&undo_, &QUndoStack::redoTextChanged, this, &JobDocument::undoStateChanged);
  connect(&undo_, &QUndoStack::cleanChanged, this, &JobDocument::dirtyChanged);
  connect(&watcher_, &QFileSystemWatcher::fileChanged, this, &JobDocument::onFileChanged);
  autosave_.setSingleShot(true);
  autosave_.setInterval(3000);
  connect(&autosave_, &QTimer::timeout, this, [this] { autosaveNow(); });
  newJob();
}

JobDocument::~JobDocument() {
  // Nothing lost on the way out: unsaved edits stay in the autosave file (unless the user
  // threw them away).
  if (dirty() && !editsDiscarded_) autosaveNow();
  if (pending_) pending_->watcher.waitForFinished();
}

// ---- job fields -------------------------------------------------------------------------------

QString JobDocument::name() const { return qs(job_.name); }

void JobDocument::setName(const QString& name) {
  if (ss(name) == job_.name) return;
  weir::JobGraph f = wb::jobFields(job_);
  f.name = ss(name);
  EditBuilder b(*this);
  b.replaceFields(f);
  push(new EditCommand(this, tr("Rename job"), b.take(), "job-name"));
}

void JobDocument::setParallelism(int p) {
  if (p == job_.parallelism || p < 1) return;
  weir::JobGraph f = wb::jobFields(job_);
  f.parallelism = p;
  EditBuilder b(*this);
  b.replaceFields(f);
  push(new EditCommand(this, tr("Set parallelism to %1").arg(p), b.take(), "job-parallelism"));
}

QString JobDocument::mode() const { return qs(std::string(weir::jobModeName(job_.mode))); }

void JobDocument::setMode(const QString& mode) {
  weir::JobMode m = mode == "batch" ? weir::JobMode::Batch : weir::JobMode::Streaming;
  if (m == job_.mode) return;
  weir::JobGraph f = wb::jobFields(job_);
  f.mode = m;
  EditBuilder b(*this);
  b.replaceFields(f);
  push(new EditCommand(this, tr("Set mode to %1").arg(mode), b.take()));
}

double JobDocument::nodeWidth() const { return wb::NodeGeometry::width; }
double JobDocument::headerHeight() const { return wb::NodeGeometry::headerHeight; }
double JobDocument::portRowHeight() const { return wb::NodeGeometry::portRowHeight; }

// ---- primitive steps --------------------------------------------------------------------------

void JobDocument::push(EditCommand* cmd) { undo_.push(cmd); }

void JobDocument::apply(const EditStep& s, bool forward) {
  auto insertNode = [&](int row, const weir::JobNode& n) {
    nodes_.beginInsert(row);
    job_.nodes.insert(job_.nodes.begin() + row, n);
    rebuildIndex();
    nodes_.endInsert();
    notifyEdgesOf({qs(n.id)});
  };
  auto removeNode = [&](int row) {
    const QString id = qs(job_.nodes.at(static_cast<std::size_t>(row)).id);
    nodes_.beginRemove(row);
    job_.nodes.erase(job_.nodes.begin() + row);
    rebuildIndex();
    nodes_.endRemove();
    notifyEdgesOf({id});
  };
  auto replaceNode = [&](int row, const weir::JobNode& n) {
    weir::JobNode& cur = job_.nodes.at(static_cast<std::size_t>(row));
    const QString oldId = qs(cur.id);
    const bool sameExceptUi = cur.id == n.id && cur.type == n.type && cur.params == n.params &&
                              cur.parallelism == n.parallelism;
    cur = n;
    if (oldId != qs(n.id)) rebuildIndex();
    nodes_.changed(row);
    notifyEdgesOf({oldId, qs(n.id)});
    if (!sameExceptUi) {
      emit nodeChanged(qs(n.id));
      if (oldId != qs(n.id)) emit nodeChanged(oldId);
    }
  };
  auto insertEdge = [&](int row, const weir::JobEdge& e, int id) {
    edges_.beginInsert(row);
    job_.edges.insert(job_.edges.begin() + row, e);
    edgeIds_.insert(edgeIds_.begin() + row, id);
    edges_.endInsert();
  };
  auto removeEdge = [&](int row) {
    edges_.beginRemove(row);
    job_.edges.erase(job_.edges.begin() + row);
    edgeIds_.erase(edgeIds_.begin() + row);
    edges_.endRemove();
  };
  auto replaceEdge = [&](int row, const weir::JobEdge& e) {
    job_.edges.at(static_cast<std::size_t>(row)) = e;
    edges_.changed(row);
  };

  switch (s.kind) {
    case EditStep::InsertNode:
      forward ? insertNode(s.row, s.node) : removeNode(s.row);
      break;
    case EditStep::RemoveNode:
      forward ? removeNode(s.row) : insertNode(s.row, s.oldNode);
      break;
    case EditStep::ReplaceNode:
      replaceNode(s.row, forward ? s.node : s.oldNode);
      break;
    case EditStep::InsertEdge:
      forward ? insertEdge(s.row, s.edge, s.edgeId) : removeEdge(s.row);
      break;
    case EditStep::RemoveEdge:
      forward ? removeEdge(s.row) : insertEdge(s.row, s.oldEdge, s.edgeId);
      break;
    case EditStep::ReplaceEdge:
      replaceEdge(s.row, forward ? s.edge : s.oldEdge);
      break;
    case EditStep::ReplaceJobFields:
      wb::setJobFields(job_, forward ? s.fields : s.oldFields);
      emit jobFieldsChanged();
      break;
  }
}

void JobDocument::afterEdit() {
  editsDiscarded_ = false;
  pruneSelection();
  remapDiagnostics();
  scheduleValidation();
  // Inside QUndoStack::push the stack's index has not moved yet, so dirty() is not known
  // here; the timer checks when it fires (and removes a stale autosave when clean).
  autosave_.start();
  emit boundsChanged();
}

void JobDocument::rebuildIndex() {
  rowOf_.clear();
  rowOf_.reserve(static_cast<int>(job_.nodes.size()));
  for (int i = 0; i < static_cast<int>(job_.nodes.size()); ++i) {
    const QString id = qs(job_.nodes[static_cast<std::size_t>(i)].id);
    if (!rowOf_.contains(id)) rowOf_.insert(id, i);
  }
}

void JobDocument::notifyEdgesOf(const QSet<QString>& nodeIds) {
  for (int i = 0; i < static_cast<int>(job_.edges.size()); ++i) {
    const weir::JobEdge& e = job_.edges[static_cast<std::size_t>(i)];
    if (nodeIds.contains(qs(e.from)) || nodeIds.contains(qs(e.to))) edges_.changed(i);
  }
}

std::vector<int> JobDocument::edgesTouching(const QSet<QString>& ids) const {
  std::vector<int> rows;
  for (int i = 0; i < static_cast<int>(job_.edges.size()); ++i) {
    const weir::JobEdge& e = job_.edges[static_cast<std::size_t>(i)];
    if (ids.contains(qs(e.from)) || ids.contains(qs(e.to))) rows.push_back(i);
  }
  return rows;
}

QString JobDocument::uniqueId(const QString& base, const QSet<QString>& taken) const {
  if (!taken.contains(base) && !rowOf_.contains(base)) return base;
  for (int n = 2;; ++n) {
    QString id = base + "_" + QString::number(n);
    if (!taken.contains(id) && !rowOf_.contains(id)) return id;
  }
}

QPointF JobDocument::nodePos(int row) const {
  QPointF p;
  if (row >= 0 && row < static_cast<int>(job_.nodes.size()))
    wb::nodePosition(job_.nodes[static_cast<std::size_t>(row)], p);
  return p;
}

// ---- edits ------------------------------------------------------------------------------------

QString JobDocument::addNode(const QString& type, double x, double y) {
  const weir::OperatorSpec* spec = catalog_->find(ss(type));
  if (!spec) {
    emit notice(tr("Unknown operator type '%1'").arg(type));
    return {};
  }
  QString base = type;
  base.replace('.', '_');
  const QString id = uniqueId(base, {});
  weir::JobNode n;
  n.id = ss(id);
  n.type = spec->type;
  n.ui = wb::withPosition(json(), {x, y});
  EditBuilder b(*this);
  b.insertNode(-1, std::move(n));
  push(new EditCommand(this, tr("Add %1").arg(id), b.take()));
  setSelectionList({id}, 0);
  return id;
}

void JobDocument::removeNodes(const QStringList& ids) {
  QSet<QString> set(ids.begin(), ids.end());
  std::vector<int> nodeRows;
  for (const QString& id : set)
    if (int r = nodeRow(id); r >= 0) nodeRows.push_back(r);
  if (nodeRows.empty()) return;
  std::vector<int> edgeRows = edgesTouching(set);
  EditBuilder b(*this);
  for (auto it = edgeRows.rbegin(); it != edgeRows.rend(); ++it) b.removeEdge(*it);
  std::sort(nodeRows.begin(), nodeRows.end(), std::greater<>());
  for (int r : nodeRows) b.removeNode(r);
  const QString text = nodeRows.size() == 1 ? tr("Remove %1").arg(qs(job_.nodes[static_cast<std::size_t>(nodeRows[0])].id))
                                            : tr("Remove %1 nodes").arg(nodeRows.size());
  push(new EditCommand(this, text, b.take()));
}

void JobDocument::removeSelected() {
  QSet<QString> set(selectionOrder_.begin(), selectionOrder_.end());
  std::vector<int> edgeRows = edgesTouching(set);
  if (int er = edgeRow(selectedEdge_); er >= 0 && std::find(edgeRows.begin(), edgeRows.end(), er) == edgeRows.end()) {
    edgeRows.push_back(er);
    std::sort(edgeRows.begin(), edgeRows.end());
  }
  std::vector<int> nodeRows;
  for (const QString& id : set)
    if (int r = nodeRow(id); r >= 0) nodeRows.push_back(r);
  if (nodeRows.empty() && edgeRows.empty()) return;
  EditBuilder b(*this);
  for (auto it = edgeRows.rbegin(); it != edgeRows.rend(); ++it) b.removeEdge(*it);
  std::sort(nodeRows.begin(), nodeRows.end(), std::greater<>());
  for (int r : nodeRows) b.removeNode(r);
  QString text = nodeRows.empty() ? tr("Remove edge")
                 : nodeRows.size() == 1 ? tr("Remove %1").arg(selectionOrder_.value(0))
                                        : tr("Remove %1 nodes").arg(nodeRows.size());
  push(new EditCommand(this, text, b.take()));
}

void JobDocument::moveNodes(const QStringList& ids, double dx, double dy) {
  if (dx == 0 && dy == 0) return;
  EditBuilder b(*this);
  for (const QString& id : ids) {
    int r = nodeRow(id);
    if (r < 0) continue;
    weir::JobNode n = job_.nodes[static_cast<std::size_t>(r)];
    n.ui = wb::withPosition(n.ui, nodePos(r) + QPointF(dx, dy));
    b.replaceNode(r, std::move(n));
  }
  if (b.empty()) return;
  push(new EditCommand(this, ids.size() == 1 ? tr("Move %1").arg(ids[0]) : tr("Move %1 nodes").arg(ids.size()),
                       b.take()));
}

void JobDocument::setNodePosition(const QString& id, double x, double y) {
  int r = nodeRow(id);
  if (r < 0) return;
  QPointF p = nodePos(r);
  moveNodes({id}, x - p.x(), y - p.y());
}

QString JobDocument::connectionRefusal(const QString& from, const QString& fromPort,
                                       const QString& to, const QString& toPort) const {
  const int fr = nodeRow(from), tr_ = nodeRow(to);
  if (fr < 0) return tr("there is no node '%1'").arg(from);
  if (tr_ < 0) return tr("there is no node '%1'").arg(to);
  const weir::JobNode& fn = job_.nodes[static_cast<std::size_t>(fr)];
  const weir::JobNode& tn = job_.nodes[static_cast<std::size_t>(tr_)];
  const weir::OperatorSpec* fs = catalog_->find(fn.type);
  const weir::OperatorSpec* ts = catalog_->find(tn.type);
  if (!fs) return tr("'%1' has an unknown type '%2'").arg(from, qs(fn.type));
  if (!ts) return tr("'%1' has an unknown type '%2'").arg(to, qs(tn.type));
  auto names = [](const std::vector<weir::PortSpec>& ports) {
    QStringList l;
    for (const auto& p : ports) l << qs(p.name);
    return l.join(", ");
  };
  if (fs->outputIndex(ss(fromPort)) < 0)
    return fs->outputs.empty() ? tr("'%1' is a sink: it has no output ports").arg(from)
                               : tr("'%1' has no output port '%2' (its outputs: %3)").arg(from, fromPort, names(fs->outputs));
  int ti = ts->inputIndex(ss(toPort));
  if (ti < 0)
    return ts->inputs.empty() ? tr("'%1' is a source: it has no input ports").arg(to)
                              : tr("'%1' has no input port '%2' (its inputs: %3)").arg(to, toPort, names(ts->inputs));
  if (from == to) return tr("an edge from '%1' to itself would make a cycle").arg(from);
  for (const weir::JobEdge& e : job_.edges) {
    if (qs(e.from) == from && qs(e.fromPort) == fromPort && qs(e.to) == to && qs(e.toPort) == toPort)
      return tr("that edge already exists");
  }
  if (!ts->inputs[static_cast<std::size_t>(ti)].multiple) {
    for (const weir::JobEdge& e : job_.edges)
      if (qs(e.to) == to && qs(e.toPort) == toPort)
        return tr("input '%1' of '%2' already has an edge from '%3' (only a union's input takes several)")
            .arg(toPort, to, qs(e.from));
  }
  // A cycle: is `from` reachable from `to`?
  {
    QHash<QString, QStringList> succ;
    for (const weir::JobEdge& e : job_.edges) succ[qs(e.from)] << qs(e.to);
    QHash<QString, QString> parent;
    QStringList queue{to};
    parent.insert(to, QString());
    while (!queue.isEmpty()) {
      QString u = queue.takeFirst();
      if (u == from) {
        QStringList path;
        for (QString v = from; !v.isEmpty(); v = parent.value(v)) path.prepend(v);
        // path: to -> ... -> from; the new edge closes it.
        return tr("the edge would make a cycle: %1 -> %2").arg(from, path.join(" -> "));
      }
      for (const QString& v : succ.value(u))
        if (!parent.contains(v)) {
          parent.insert(v, u);
          queue << v;
        }
    }
  }
  // Schemas: validate with the edge and look for new problems about the edge itself or the
  // receiving node as a whole (a union whose inputs differ, a window without event time).
  weir::JobGraph trial = job_;
  weir::JobEdge e;
  e.from = ss(from);
  e.fromPort = ss(fromPort);
  e.to = ss(to);
  e.toPort = ss(toPort);
  trial.edges.push_back(e);
  const std::string edgePath = "edges[" + std::to_string(trial.edges.size() - 1) + "]";
  weir::Diagnostics before, after;
  weir::validateJob(job_, *catalog_, before);
  weir::validateJob(trial, *catalog_, after);
  for (const weir::Diagnostic& d : after) {
    if (d.node != e.to) continue;
    if (d.path != edgePath && !d.path.empty()) continue;
    if (std::find(before.begin(), before.end(), d) != before.end()) continue;
    // Say which edges in words: "edges[3]'s" -> "the one from 'euros'".
    QString msg = qs(d.message);
    static const QRegularExpression edgeRef(R"(edges\[(\d+)\]('s)?)");
    QString words;
    qsizetype last = 0;
    for (auto it = edgeRef.globalMatch(msg); it.hasNext();) {
      QRegularExpressionMatch m = it.next();
      words += msg.mid(last, m.capturedStart() - last);
      std::size_t k = m.captured(1).toULong();
      const QString src = k < trial.edges.size() ? qs(trial.edges[k].from) : QString("?");
      words += k + 1 == trial.edges.size() ? tr("the new edge")
               : m.captured(2).isEmpty()    ? tr("the edge from '%1'").arg(src)
                                            : tr("the one from '%1'").arg(src);
      last = m.capturedEnd();
    }
    msg = words + msg.mid(last);
    return tr("the schemas do not fit: %1").arg(msg);
  }
  return {};
}

QString JobDocument::connectPorts(const QString& from, const QString& fromPort, const QString& to,
                                  const QString& toPort) {
  QString why = connectionRefusal(from, fromPort, to, toPort);
  if (!why.isEmpty()) {
    emit notice(tr("Cannot connect: %1").arg(why));
    return why;
  }
  weir::JobEdge e;
  e.from = ss(from);
  e.fromPort = ss(fromPort);
  e.to = ss(to);
  e.toPort = ss(toPort);
  EditBuilder b(*this);
  b.insertEdge(-1, std::move(e));
  push(new EditCommand(this, tr("Connect %1 to %2").arg(from, to), b.take()));
  return {};
}

bool JobDocument::disconnectEdge(int edgeId) {
  int r = edgeRow(edgeId);
  if (r < 0) return false;
  const weir::JobEdge& e = job_.edges[static_cast<std::size_t>(r)];
  const QString text = tr("Disconnect %1 from %2").arg(qs(e.from), qs(e.to));
  EditBuilder b(*this);
  b.removeEdge(r);
  push(new EditCommand(this, text, b.take()));
  return true;
}

bool JobDocument::setParam(const QString& nodeId, const QString& path, const QVariant& value) {
  int r = nodeRow(nodeId);
  if (r < 0 || path.isEmpty()) return false;
  weir::JobNode n = job_.nodes[static_cast<std::size_t>(r)];
  json v = wb::toJson(value);
  if (const weir::OperatorSpec* spec = catalog_->find(n.type))
    if (const weir::ParamSpec* ps = wb::specAt(spec->params, ss(path))) v = wb::coerceToKind(v, ps->kind);
  if (v.is_null()) {
    if (!wb::eraseJsonAt(n.params, ss(path))) return false;
  } else if (!wb::setJsonAt(n.params, ss(path), v)) {
    return false;
  }
  if (n.params == job_.nodes[static_cast<std::size_t>(r)].params) return false;
  EditBuilder b(*this);
  b.replaceNode(r, std::move(n));
  push(new EditCommand(this, tr("Set %1.%2").arg(nodeId, path), b.take(), "param:" + nodeId + ":" + path));
  return true;
}

bool JobDocument::setParamJson(const QString& nodeId, const QString& path, const QString& text) {
  json v = json::parse(ss(text), nullptr, false);
  if (v.is_discarded()) return false;
  return setParam(nodeId, path, wb::toVariant(v));
}

bool JobDocument::resetParam(const QString& nodeId, const QString& path) {
  return setParam(nodeId, path, QVariant());
}

QString JobDocument::addListItem(const QString& nodeId, const QString& path) {
  int r = nodeRow(nodeId);
  if (r < 0) return {};
  const weir::JobNode& node = job_.nodes[static_cast<std::size_t>(r)];
  const weir::OperatorSpec* spec = catalog_->find(node.type);
  const weir::ParamSpec* ps = spec ? wb::specAt(spec->params, ss(path)) : nullptr;
  if (!ps) return {};
  const json* cur = wb::jsonAt(node.params, ss(path));
  json list = cur && cur->is_array() ? *cur : json::array();
  json item;
  if (ps->kind == weir::ParamKind::Schema) {
    item = {{"name", "field" + std::to_string(list.size() + 1)}, {"type", "string"}};
  } else if (ps->kind == weir::ParamKind::ObjectList) {
    item = json::object();
    for (const weir::ParamSpec& c : ps->children) {
      if (!c.required) continue;
      if (!c.defaultValue.is_null()) item[c.name] = c.defaultValue;
      else if (!c.enumValues.empty()) item[c.name] = c.enumValues.front();
      else if (c.kind == weir::ParamKind::Int || c.kind == weir::ParamKind::Double) item[c.name] = 0;
      else if (c.kind == weir::ParamKind::Bool) item[c.name] = false;
      else item[c.name] = c.name == "name" ? "value" + std::to_string(list.size() + 1) : "";
    }
  } else if (ps->kind == weir::ParamKind::FieldList) {
    item = "";
  } else {
    return {};
  }
  list.push_back(item);
  const QString itemPath = path + "[" + QString::number(list.size() - 1) + "]";
  setParam(nodeId, path, wb::toVariant(list));
  return itemPath;
}

QString JobDocument::setEdgePartition(int edgeId, const QString& partition) {
  int r = edgeRow(edgeId);
  if (r < 0) return tr("there is no such edge");
  auto p = weir::parsePartition(ss(partition));
  if (!p) return tr("'%1' is not one of auto, forward, rebalance, broadcast").arg(partition);
  weir::JobEdge e = job_.edges[static_cast<std::size_t>(r)];
  if (e.partition == *p) return {};
  e.partition = *p;
  if (*p == weir::Partition::Auto) e.present.erase("partition");  // the default is not written
  EditBuilder b(*this);
  b.replaceEdge(r, std::move(e));
  push(new EditCommand(this, tr("Partition %1 edge").arg(partition), b.take()));
  return {};
}

const std::vector<weir::ParamSpec>& JobDocument::jobParamSpecs() {
  static const std::vector<weir::ParamSpec> specs = [] {
    weir::ParamSpec checkpoint{.name = "checkpoint", .kind = weir::ParamKind::Object,
                               .doc = "Periodic checkpoints of the job's state; off when absent.",
                               .children = weir::checkpointParams()};
    weir::ParamSpec restart{.name = "restart", .kind = weir::ParamKind::Object,
                            .doc = "What happens when the job fails; absent: it fails for good.",
                            .children = weir::restartParams()};
    return std::vector<weir::ParamSpec>{checkpoint, restart};
  }();
  return specs;
}

nlohmann::json JobDocument::jobParams() const {
  json j = json::object();
  if (!job_.checkpoint.is_null()) j["checkpoint"] = job_.checkpoint;
  if (!job_.restart.is_null()) j["restart"] = job_.restart;
  return j;
}

bool JobDocument::setJobParam(const QString& path, const QVariant& value) {
  json params = jobParams();
  json v = wb::toJson(value);
  if (const weir::ParamSpec* ps = wb::specAt(jobParamSpecs(), ss(path))) v = wb::coerceToKind(v, ps->kind);
  else return false;
  if (v.is_null()) {
    if (!wb::eraseJsonAt(params, ss(path))) return false;
  } else if (!wb::setJsonAt(params, ss(path), v)) {
    return false;
  }
  if (params == jobParams()) return false;
  weir::JobGraph f = wb::jobFields(job_);
  f.checkpoint = params.contains("checkpoint") ? params["checkpoint"] : json();
  f.restart = params.contains("restart") ? params["restart"] : json();
  EditBuilder b(*this);
  b.replaceFields(f);
  push(new EditCommand(this, tr("Set %1").arg(path), b.take(), "job:" + path));
  return true;
}

bool JobDocument::setNodeParallelism(const QString& nodeId, int parallelism) {
  int r = nodeRow(nodeId);
  if (r < 0) return false;
  weir::JobNode n = job_.nodes[static_cast<std::size_t>(r)];
  std::optional<int> p = parallelism > 0 ? std::optional<int>(parallelism) : std::nullopt;
  if (n.parallelism == p) return false;
  n.parallelism = p;
  EditBuilder b(*this);
  b.replaceNode(r, std::move(n));
  push(new EditCommand(this, tr("Set parallelism of %1").arg(nodeId), b.take(), "parallelism:" + nodeId));
  return true;
}

QString JobDocument::renameNode(const QString& oldId, const QString& newId) {
  int r = nodeRow(oldId);
  if (r < 0) return tr("there is no node '%1'").arg(oldId);
  const QString id = newId.trimmed();
  if (id.isEmpty()) return tr("a node id cannot be empty");
  if (id == oldId) return {};
  if (rowOf_.contains(id)) return tr("a node '%1' already exists").arg(id);
  EditBuilder b(*this);
  weir::JobNode n = job_.nodes[static_cast<std::size_t>(r)];
  n.id = ss(id);
  b.replaceNode(r, std::move(n));
  for (int i = 0; i < static_cast<int>(job_.edges.size()); ++i) {
    weir::JobEdge e = job_.edges[static_cast<std::size_t>(i)];
    bool touched = false;
    if (qs(e.from) == oldId) e.from = ss(id), touched = true;
    if (qs(e.to) == oldId) e.to = ss(id), touched = true;
    if (touched) b.replaceEdge(i, std::move(e));
  }
  const bool wasSelected = selected_.contains(oldId);
  push(new EditCommand(this, tr("Rename %1 to %2").arg(oldId, id), b.take()));
  if (wasSelected) {
    QStringList sel = selectionOrder_;
    sel.removeAll(oldId);
    sel << id;
    setSelectionList(sel, selectedEdge_);
  }
  return {};
}

QString JobDocument::copySelection() {
  weir::JobGraph sub;
  sub.name = job_.name;
  QSet<QString> set(selectionOrder_.begin(), selectionOrder_.end());
  for (const weir::JobNode& n : job_.nodes)
    if (set.contains(qs(n.id))) sub.nodes.push_back(n);
  if (sub.nodes.empty()) return {};
  for (const weir::JobEdge& e : job_.edges)
    if (set.contains(qs(e.from)) && set.contains(qs(e.to))) sub.edges.push_back(e);
  clipboardText_ = qs(weir::formatJob(sub));
  if (auto* app = qobject_cast<QGuiApplication*>(QCoreApplication::instance()))
    if (QClipboard* cb = app->clipboard()) cb->setText(clipboardText_);
  emit notice(tr("Copied %n node(s)", nullptr, static_cast<int>(sub.nodes.size())));
  return clipboardText_;
}

QString JobDocument::cutSelection() {
  QString text = copySelection();
  if (!text.isEmpty()) removeSelected();
  return text;
}

QStringList JobDocument::paste(const QString& textIn, double x, double y) {
  QString text = textIn;
  if (text.isEmpty()) {
    if (auto* app = qobject_cast<QGuiApplication*>(QCoreApplication::instance()))
      if (QClipboard* cb = app->clipboard()) text = cb->text();
    if (text.isEmpty()) text = clipboardText_;
  }
  weir::Diagnostics diags;
  auto sub = weir::parseJob(ss(text), "clipboard", diags);
  if (!sub || sub->nodes.empty()) {
    emit notice(tr("Nothing to paste"));
    return {};
  }
  // New ids where they clash, edges renamed along.
  QSet<QString> taken;
  QHash<QString, QString> rename;
  for (weir::JobNode& n : sub->nodes) {
    QString id = qs(n.id);
    QString fresh = (rowOf_.contains(id) || taken.contains(id)) ? uniqueId(stripNumberSuffix(id), taken) : id;
    taken.insert(fresh);
    if (!rename.contains(id)) rename.insert(id, fresh);
    n.id = ss(fresh);
  }
  // Positions: keep their arrangement, move it.
  std::vector<QPointF> laid = wb::layeredLayout(*sub, *catalog_);
  double minX = std::numeric_limits<double>::max(), minY = minX;
  std::vector<QPointF> pos(sub->nodes.size());
  for (std::size_t i = 0; i < sub->nodes.size(); ++i) {
    if (!wb::nodePosition(sub->nodes[i], pos[i])) pos[i] = laid[i];
    minX = std::min(minX, pos[i].x());
    minY = std::min(minY, pos[i].y());
  }
  QPointF shift = (std::isnan(x) || std::isnan(y)) ? QPointF(40, 40) : QPointF(x - minX, y - minY);
  EditBuilder b(*this);
  QStringList ids;
  for (std::size_t i = 0; i < sub->nodes.size(); ++i) {
    weir::JobNode n = sub->nodes[i];
    n.ui = wb::withPosition(n.ui, pos[i] + shift);
    ids << qs(n.id);
    b.insertNode(-1, std::move(n));
  }
  for (weir::JobEdge e : sub->edges) {
    if (!rename.contains(qs(e.from)) || !rename.contains(qs(e.to))) continue;
    e.from = ss(rename.value(qs(e.from)));
    e.to = ss(rename.value(qs(e.to)));
    b.insertEdge(-1, std::move(e));
  }
  push(new EditCommand(this, tr("Paste %n node(s)", nullptr, static_cast<int>(ids.size())), b.take()));
  setSelectionList(ids, 0);
  return ids;
}

void JobDocument::autoLayout() {
  std::vector<QPointF> pos = wb::layeredLayout(job_, *catalog_);
  EditBuilder b(*this);
  for (std::size_t i = 0; i < job_.nodes.size(); ++i) {
    weir::JobNode n = job_.nodes[i];
    n.ui = wb::withPosition(n.ui, pos[i]);
    b.replaceNode(static_cast<int>(i), std::move(n));
  }
  if (b.empty()) return;
  push(new EditCommand(this, tr("Auto-layout"), b.take()));
}

// ---- selection --------------------------------------------------------------------------------

void JobDocument::setSelectionList(QStringList ids, int edgeId) {
  ids.removeDuplicates();
  QStringList kept;
  for (const QString& id : ids)
    if (rowOf_.contains(id)) kept << id;
  if (edgeRow(edgeId) < 0) edgeId = 0;
  if (kept == selectionOrder_ && edgeId == selectedEdge_) return;
  QSet<QString> next(kept.begin(), kept.end());
  QSet<QString> touched = (next - selected_) + (selected_ - next);
  const int oldEdge = selectedEdge_;
  selected_ = next;
  selectionOrder_ = kept;
  selectedEdge_ = edgeId;
  for (const QString& id : touched) nodes_.changed(nodeRow(id), {NodeListModel::SelectedRole});
  for (int r : edgesTouching(touched))
    edges_.changed(r, {EdgeListModel::FromSelectedRole, EdgeListModel::ToSelectedRole});
  if (oldEdge != edgeId) {
    if (int r = edgeRow(oldEdge); r >= 0) edges_.changed(r, {EdgeListModel::SelectedRole});
    if (int r = edgeRow(edgeId); r >= 0) edges_.changed(r, {EdgeListModel::SelectedRole});
  }
  emit selectionChanged();
}

void JobDocument::pruneSelection() { setSelectionList(selectionOrder_, selectedEdge_); }

void JobDocument::selectNode(const QString& id, SelectMode mode) {
  if (!rowOf_.contains(id)) return;
  QStringList sel = selectionOrder_;
  switch (mode) {
    case Replace: sel = {id}; break;
    case Toggle:
      if (sel.contains(id)) sel.removeAll(id);
      else sel << id;
      break;
    case Add:
      if (!sel.contains(id)) sel << id;
      break;
  }
  setSelectionList(sel, mode == Replace ? 0 : selectedEdge_);
}

void JobDocument::selectNodes(const QStringList& ids, bool additive) {
  QStringList sel = additive ? selectionOrder_ : QStringList();
  for (const QString& id : ids)
    if (!sel.contains(id)) sel << id;
  setSelectionList(sel, additive ? selectedEdge_ : 0);
}

void JobDocument::selectInRect(const QRectF& rect, bool additive) {
  QRectF r = rect.normalized();
  QStringList ids;
  for (const weir::JobNode& n : job_.nodes)
    if (nodeRect(qs(n.id)).intersects(r)) ids << qs(n.id);
  selectNodes(ids, additive);
}

void JobDocument::selectAll() {
  QStringList ids;
  for (const weir::JobNode& n : job_.nodes) ids << qs(n.id);
  setSelectionList(ids, 0);
}

void JobDocument::clearSelection() { setSelectionList({}, 0); }

void JobDocument::selectEdge(int edgeId) { setSelectionList({}, edgeId); }

void JobDocument::selectProblem(int row) {
  if (row < 0 || row >= static_cast<int>(diags_.size())) return;
  const weir::Diagnostic& d = diags_[static_cast<std::size_t>(row)];
  int nr = diagnosticNodeRow(d);
  int er = diagnosticEdgeRow(d);
  int edgeId = er >= 0 ? edgeIds_[static_cast<std::size_t>(er)] : 0;
  if (nr >= 0) {
    const QString id = qs(job_.nodes[static_cast<std::size_t>(nr)].id);
    setSelectionList({id}, edgeId);
    emit problemSelected(id, er >= 0 ? QString() : qs(d.path));
  } else {
    setSelectionList({}, edgeId);
    emit problemSelected(QString(), qs(d.path));
  }
}

// ---- queries ----------------------------------------------------------------------------------

int JobDocument::nodeRow(const QString& id) const { return rowOf_.value(id, -1); }

int JobDocument::edgeRow(int edgeId) const {
  if (edgeId <= 0) return -1;
  auto it = std::find(edgeIds_.begin(), edgeIds_.end(), edgeId);
  return it == edgeIds_.end() ? -1 : static_cast<int>(it - edgeIds_.begin());
}

QRectF JobDocument::nodeRect(const QString& id) const {
  int r = nodeRow(id);
  if (r < 0) return {};
  const weir::JobNode& n = job_.nodes[static_cast<std::size_t>(r)];
  double h = wb::NodeGeometry::height(static_cast<int>(wb::inputPorts(n, *catalog_).size()),
                                      static_cast<int>(wb::outputPorts(n, *catalog_).size()));
  return {nodePos(r), QSizeF(wb::NodeGeometry::width, h)};
}

QPointF JobDocument::freeSpot(double x, double y) const {
  // A new card is about 100 high; one that would touch another moves down and right, in
  // steps, until it is clear of every card (a bounded search).
  const QSizeF size(wb::NodeGeometry::width, wb::NodeGeometry::height(1, 1));
  QPointF p(x, y);
  for (int step = 0; step < 200; ++step) {
    const QRectF want = QRectF(p, size).adjusted(-8, -8, 8, 8);
    bool clear = true;
    for (const weir::JobNode& n : job_.nodes)
      if (nodeRect(qs(n.id)).intersects(want)) {
        clear = false;
        break;
      }
    if (clear) return p;
    p += QPointF(32, 32);
  }
  return p;
}

QRectF JobDocument::itemsRect() const {
  QRectF all;
  for (const weir::JobNode& n : job_.nodes) all = all.united(nodeRect(qs(n.id)));
  return all;
}

QPointF JobDocument::portPosition(const QString& nodeId, const QString& port, bool input) const {
  int r = nodeRow(nodeId);
  if (r < 0) return {};
  const weir::JobNode& n = job_.nodes[static_cast<std::size_t>(r)];
  auto ports = input ? wb::inputPorts(n, *catalog_) : wb::outputPorts(n, *catalog_);
  auto it = std::find(ports.begin(), ports.end(), ss(port));
  int index = it == ports.end() ? 0 : static_cast<int>(it - ports.begin());
  return nodePos(r) + wb::NodeGeometry::portOffset(input, index);
}

QVariantMap JobDocument::portAt(double x, double y, double radius) const {
  QVariantMap best;
  double bestDist = radius * radius;
  for (const weir::JobNode& n : job_.nodes) {
    const QString id = qs(n.id);
    QRectF box = nodeRect(id).adjusted(-radius, -radius, radius, radius);
    if (!box.contains(x, y)) continue;
    for (bool input : {true, false}) {
      auto ports = input ? wb::inputPorts(n, *catalog_) : wb::outputPorts(n, *catalog_);
      for (int i = 0; i < static_cast<int>(ports.size()); ++i) {
        QPointF p = nodePos(nodeRow(id)) + wb::NodeGeometry::portOffset(input, i);
        double d = (p.x() - x) * (p.x() - x) + (p.y() - y) * (p.y() - y);
        if (d <= bestDist) {
          bestDist = d;
          best = {{"node", id}, {"port", qs(ports[static_cast<std::size_t>(i)])}, {"input", input},
                  {"x", p.x()}, {"y", p.y()}};
        }
      }
    }
  }
  return best;
}

QString JobDocument::paramsText(const QString& nodeId) const {
  int r = nodeRow(nodeId);
  return r < 0 ? QString() : qs(job_.nodes[static_cast<std::size_t>(r)].params.dump());
}

QVariant JobDocument::paramValue(const QString& nodeId, const QString& path) const {
  int r = nodeRow(nodeId);
  if (r < 0) return {};
  const json* v = wb::jsonAt(job_.nodes[static_cast<std::size_t>(r)].params, ss(path));
  return v ? wb::toVariant(*v) : QVariant();
}

QStringList JobDocument::nodeProblems(const QString& nodeId) const {
  QStringList out;
  int r = nodeRow(nodeId);
  if (r < 0) return out;
  for (int i : nodeDiagnostics(r)) {
    const weir::Diagnostic& d = diags_[static_cast<std::size_t>(i)];
    out << (d.path.empty() ? qs(d.message) : qs(d.path) + ": " + qs(d.message));
  }
  return out;
}

QVariantMap JobDocument::quickFix(int row) const {
  if (row < 0 || row >= static_cast<int>(diags_.size())) return {};
  const weir::Diagnostic& d = diags_[static_cast<std::size_t>(row)];
  const int nr = nodeRow(qs(d.node));
  if (nr < 0 || d.path.empty() || d.path.starts_with("edges[")) return {};
  const weir::JobNode& n = job_.nodes[static_cast<std::size_t>(nr)];
  const weir::OperatorSpec* spec = catalog_->find(n.type);
  if (!spec) return {};
  const QString message = qs(d.message);
  static const QRegularExpression meant(QStringLiteral("did you mean '([^']+)'"));
  static const QRegularExpression field(QStringLiteral("unknown field '([^']+)'"));
  static const QRegularExpression notOneOf(QStringLiteral("^'([^']+)' is not one of"));
  QString from, to = meant.match(message).captured(1);
  bool renameKey = false;
  if (const auto m = field.match(message); m.hasMatch()) {
    from = m.captured(1);
    if (to.isEmpty()) {
      // An expression names its input's fields: the closest of them.
      const int vr = validatedNodeRow(qs(n.id));
      if (vr < 0) return {};
      const weir::SchemaPtr in = InspectorModel::inputSchemaOf(*validated_, validated_->nodes[static_cast<std::size_t>(vr)], 0);
      if (!in) return {};
      std::vector<std::string> names;
      for (const auto& f : in->fields()) names.push_back(f.name);
      if (const auto c = weir::closestName(ss(from), names)) to = qs(*c);
    }
  } else if (const auto m = notOneOf.match(message); m.hasMatch()) {
    from = m.captured(1);
  } else if (message.startsWith("unknown param") && !to.isEmpty()) {
    renameKey = true;
    const std::size_t dot = d.path.rfind('.');
    from = qs(dot == std::string::npos ? d.path : d.path.substr(dot + 1));
  }
  if (from.isEmpty() || to.isEmpty() || from == to) return {};
  const json* value = wb::jsonAt(n.params, d.path);
  if (!value || (!renameKey && !value->is_string())) return {};
  if (!renameKey && !qs(value->get<std::string>()).contains(from)) return {};
  return {{"label", tr("Use '%1'").arg(to)}, {"node", qs(n.id)}, {"path", qs(d.path)}, {"from", from},
          {"to", to}, {"renameKey", renameKey}};
}

bool JobDocument::applyQuickFix(int row) {
  const QVariantMap fix = quickFix(row);
  if (fix.isEmpty()) return false;
  const int r = nodeRow(fix["node"].toString());
  weir::JobNode n = job_.nodes[static_cast<std::size_t>(r)];
  const std::string path = ss(fix["path"].toString());
  const QString from = fix["from"].toString(), to = fix["to"].toString();
  if (fix["renameKey"].toBool()) {
    const json v = *wb::jsonAt(n.params, path);
    const std::size_t dot = path.rfind('.');
    wb::eraseJsonAt(n.params, path);
    if (!wb::setJsonAt(n.params, (dot == std::string::npos ? std::string() : path.substr(0, dot + 1)) + ss(to), v)) return false;
  } else {
    // The value itself, or the word in it (an expression).
    QString text = qs(wb::jsonAt(n.params, path)->get<std::string>());
    if (text == from) text = to;
    else text.replace(QRegularExpression("\\b" + QRegularExpression::escape(from) + "\\b"), to);
    wb::setJsonAt(n.params, path, ss(text));
  }
  EditBuilder b(*this);
  b.replaceNode(r, std::move(n));
  push(new EditCommand(this, tr("Fix %1.%2").arg(fix["node"].toString(), fix["path"].toString()), b.take()));
  return true;
}

int JobDocument::problemRow(const QString& nodeId, const QString& path) const {
  for (std::size_t i = 0; i < diags_.size(); ++i)
    if (qs(diags_[i].node) == nodeId && qs(diags_[i].path) == path) return static_cast<int>(i);
  return -1;
}

QStringList JobDocument::problemTexts() const {
  QStringList out;
  for (const weir::Diagnostic& d : diags_) out << qs(d.toString());
  return out;
}

int JobDocument::debugEdgeRow(const QString& nodeId) const {
  const std::string id = ss(nodeId);
  int firstIn = -1;
  for (std::size_t i = 0; i < job_.edges.size(); ++i) {
    if (job_.edges[i].from == id) return static_cast<int>(i);
    if (job_.edges[i].to == id && firstIn < 0) firstIn = static_cast<int>(i);
  }
  return firstIn;
}

int JobDocument::findEdge(const QString& from, const QString& to) const {
  for (std::size_t i = 0; i < job_.edges.size(); ++i)
    if (qs(job_.edges[i].from) == from && qs(job_.edges[i].to) == to) return edgeIds_[i];
  return 0;
}

QVariantMap JobDocument::edgeInfo(int edgeId) const {
  int r = edgeRow(edgeId);
  if (r < 0) return {};
  const weir::JobEdge& e = job_.edges[static_cast<std::size_t>(r)];
  QVariantMap m{{"edgeId", edgeId}, {"from", qs(e.from)}, {"fromPort", qs(e.fromPort)},
                {"to", qs(e.to)}, {"toPort", qs(e.toPort)},
                {"partition", qs(std::string(weir::partitionName(e.partition)))},
                {"asked", qs(std::string(weir::partitionName(e.partition)))}};
  QVariantList fields;
  int vr = validatedEdgeRow(edgeId);
  if (vr >= 0 && vr < static_cast<int>(validated_->edges.size())) {
    const weir::ValidatedEdge& ve = validated_->edges[static_cast<std::size_t>(vr)];
    if (ve.schema)
      for (const weir::Field& f : ve.schema->fields())
        fields << QVariantMap{{"name", qs(f.name)}, {"type", qs(std::string(weir::typeName(f.type)))}};
    if (ve.valid) m["partition"] = qs(std::string(weir::partitionName(ve.partition)));
    QStringList keys;
    for (const auto& k : ve.keyFields) keys << qs(k);
    m["keyFields"] = keys;
  }
  m["schema"] = fields;
  int di = edgeDiagnostic(r);
  m["problem"] = di >= 0 ? qs(diags_[static_cast<std::size_t>(di)].message) : QString();
  return m;
}

// ---- validation -------------------------------------------------------------------------------

const std::vector<int>& JobDocument::nodeDiagnostics(int row) const {
  static const std::vector<int> none;
  return row >= 0 && row < static_cast<int>(nodeDiags_.size()) ? nodeDiags_[static_cast<std::size_t>(row)] : none;
}

int JobDocument::edgeDiagnostic(int row) const {
  return row >= 0 && row < static_cast<int>(edgeDiag_.size()) ? edgeDiag_[static_cast<std::size_t>(row)] : -1;
}

int JobDocument::diagnosticEdgeRow(const weir::Diagnostic& d) const {
  int i = edgeIndexOfPath(d.path);
  if (i < 0) return -1;
  // The index is into the edges the validation saw; map through their ids.
  if (i < static_cast<int>(validatingEdgeIds_.size())) return edgeRow(validatingEdgeIds_[static_cast<std::size_t>(i)]);
  return i < static_cast<int>(job_.edges.size()) ? i : -1;
}

int JobDocument::diagnosticNodeRow(const weir::Diagnostic& d) const {
  if (d.node == "job") return -1;
  int r = nodeRow(qs(d.node));
  if (r >= 0) return r;
  // "nodes[3]": a node without a usable id.
  if (d.node.rfind("nodes[", 0) == 0) {
    int n = QString::fromStdString(d.node.substr(6)).section(']', 0, 0).toInt();
    if (n >= 0 && n < static_cast<int>(job_.nodes.size())) return n;
  }
  return -1;
}

void JobDocument::remapDiagnostics() {
  nodeDiags_.assign(job_.nodes.size(), {});
  edgeDiag_.assign(job_.edges.size(), -1);
  for (int i = 0; i < static_cast<int>(diags_.size()); ++i) {
    const weir::Diagnostic& d = diags_[static_cast<std::size_t>(i)];
    if (int nr = diagnosticNodeRow(d); nr >= 0) nodeDiags_[static_cast<std::size_t>(nr)].push_back(i);
    if (int er = diagnosticEdgeRow(d); er >= 0 && edgeDiag_[static_cast<std::size_t>(er)] < 0)
      edgeDiag_[static_cast<std::size_t>(er)] = i;
  }
}

void JobDocument::setValidationMode(ValidationMode m) {
  if (m == validationMode_) return;
  validationMode_ = m;
  emit validationModeChanged();
}

void JobDocument::validateNow() {
  ++generation_;
  if (pending_) pending_->rerun = false;  // its result is stale now
  ValidationResult r = runValidation(job_, *catalog_);
  applyValidation(std::move(r.job), std::move(r.diags), r.ms, edgeIds_);
}

void JobDocument::scheduleValidation() {
  const bool async = validationMode_ == Asynchronous || (validationMode_ == Auto && slowValidation_);
  if (!async) {
    validateNow();
    return;
  }
  ++generation_;
  if (pending_) {
    pending_->rerun = true;  // one worker at a time; it runs again when this one ends
    return;
  }
  startWorker();
}

void JobDocument::startWorker() {
  pending_ = std::make_unique<Pending>();
  pending_->generation = generation_;
  auto copy = std::make_shared<weir::JobGraph>(job_);
  std::vector<int> ids = edgeIds_;
  const weir::Catalog* catalog = catalog_;
  connect(&pending_->watcher, &QFutureWatcher<ValidationResult>::finished, this, [this] {
    ValidationResult r = pending_->watcher.result();
    const bool stale = pending_->generation != generation_;
    const bool rerun = pending_->rerun;
    pending_.reset();
    if (!stale) applyValidation(std::move(r.job), std::move(r.diags), r.ms, std::move(r.edgeIds));
    if (stale && rerun) startWorker();
    else emit validatingChanged();
  });
  pending_->watcher.setFuture(QtConcurrent::run([copy, ids, catalog] {
    ValidationResult r = runValidation(*copy, *catalog);
    r.edgeIds = ids;
    return r;
  }));
  emit validatingChanged();
}

void JobDocument::applyValidation(std::shared_ptr<weir::ValidatedJob> v, weir::Diagnostics diags,
                                  double ms, std::vector<int> edgeIds) {
  validated_ = std::move(v);
  diags_ = std::move(diags);
  validationMs_ = ms;
  // A moving average, so that one run slowed down by a busy machine does not move
  // validation off the UI thread, while a job that is slow to validate soon does.
  validationAverageMs_ = validationAverageMs_ == 0 ? ms : 0.7 * validationAverageMs_ + 0.3 * ms;
  slowValidation_ = validationAverageMs_ > asyncThresholdMs;
  validatingEdgeIds_ = std::move(edgeIds);
  validatedRow_.clear();
  for (int i = 0; i < static_cast<int>(validated_->nodes.size()); ++i) {
    const QString id = qs(validated_->nodes[static_cast<std::size_t>(i)].id);
    if (!validatedRow_.contains(id)) validatedRow_.insert(id, i);
  }
  validatedEdgeRow_.clear();
  for (int i = 0; i < static_cast<int>(validatingEdgeIds_.size()); ++i)
    validatedEdgeRow_.insert(validatingEdgeIds_[static_cast<std::size_t>(i)], i);
  remapDiagnostics();
  nodes_.changedAll({NodeListModel::ProblemCountRole, NodeListModel::ProblemRole, NodeListModel::SchemaRole,
                     NodeListModel::ParallelismRole});
  edges_.changedAll({EdgeListModel::SchemaRole, EdgeListModel::PartitionRole, EdgeListModel::KeyFieldsRole,
                     EdgeListModel::ValidRole, EdgeListModel::ProblemRole});
  problems_.reset();
  emit validated();
}

// ---- files ------------------------------------------------------------------------------------

QString JobDocument::fileName() const {
  return path_.isEmpty() ? tr("untitled.weir.json") : QFileInfo(path_).fileName();
}

void JobDocument::setLastError(const QString& e) {
  if (e == lastError_) return;
  lastError_ = e;
  emit lastErrorChanged();
}

void JobDocument::setDocument(weir::JobGraph job, const QString& path) {
  if (pending_) {
    pending_->watcher.waitForFinished();
    pending_.reset();
    emit validatingChanged();
  }
  nodes_.beginReset();
  edges_.beginReset();
  job_ = std::move(job);
  edgeIds_.clear();
  for (std::size_t i = 0; i < job_.edges.size(); ++i) edgeIds_.push_back(nextEdgeId_++);
  rebuildIndex();
  placeUnpositioned();
  selected_.clear();
  selectionOrder_.clear();
  selectedEdge_ = 0;
  nodeDiags_.clear();
  edgeDiag_.clear();
  diags_.clear();
  edges_.endReset();
  nodes_.endReset();
  undo_.clear();
  undo_.setClean();
  forcedDirty_ = false;
  editsDiscarded_ = false;
  ++session_;
  const bool diskFlag = changedOnDisk_;
  changedOnDisk_ = false;
  if (path != path_) {
    path_ = path;
    emit pathChanged();
  }
  watch(path_);
  validateNow();
  checkRecovery();
  emit selectionChanged();
  emit jobFieldsChanged();
  emit dirtyChanged();
  emit undoStateChanged();
  if (diskFlag) emit changedOnDiskChanged();
  emit boundsChanged();
  emit loaded();
}

void JobDocument::placeUnpositioned() {
  bool missing = false;
  QPointF p;
  for (const weir::JobNode& n : job_.nodes) missing = missing || !wb::nodePosition(n, p);
  if (!missing) return;
  std::vector<QPointF> laid = wb::layeredLayout(job_, *catalog_);
  for (std::size_t i = 0; i < job_.nodes.size(); ++i)
    if (!wb::nodePosition(job_.nodes[i], p)) job_.nodes[i].ui = wb::withPosition(job_.nodes[i].ui, laid[i]);
}

void JobDocument::newJob() {
  weir::JobGraph job;
  job.version = 1;
  job.name = "untitled";
  job.baseDir = QDir::currentPath().toStdString();
  diskText_.clear();
  setDocument(std::move(job), QString());
  setLastError({});
}

bool JobDocument::open(const QString& pathOrUrl) {
  const QString file = QFileInfo(localPath(pathOrUrl)).absoluteFilePath();
  bool ok = false;
  QString text = readText(file, &ok);
  if (!ok) {
    setLastError(tr("Cannot read %1").arg(file));
    return false;
  }
  weir::Diagnostics diags;
  auto job = weir::loadJobFile(file.toStdString(), diags);
  if (!job) {
    QStringList lines;
    for (const auto& d : diags) lines << qs(d.message);
    setLastError(lines.join("\n"));
    return false;
  }
  diskText_ = text;
  setDocument(std::move(*job), file);
  setLastError({});
  addRecent(file);
  return true;
}

bool JobDocument::openText(const QString& text, const QString& baseDir) {
  weir::Diagnostics diags;
  auto job = weir::parseJob(text.toStdString(), "job", diags);
  if (!job) {
    QStringList lines;
    for (const auto& d : diags) lines << qs(d.message);
    setLastError(lines.join("\n"));
    return false;
  }
  job->baseDir = (baseDir.isEmpty() ? QDir::currentPath() : baseDir).toStdString();
  diskText_.clear();
  setDocument(std::move(*job), QString());
  setLastError({});
  return true;
}

bool JobDocument::writeFile(const QString& path, const QString& text, QString* error) const {
  QSaveFile f(path);
  if (!f.open(QIODevice::WriteOnly)) {
    if (error) *error = tr("Cannot write %1: %2").arg(path, f.errorString());
    return false;
  }
  f.write(text.toUtf8());
  if (!f.commit()) {
    if (error) *error = tr("Cannot write %1: %2").arg(path, f.errorString());
    return false;
  }
  return true;
}

QString JobDocument::toText() const { return qs(weir::formatJob(job_)); }

QString JobDocument::runText() const {
  weir::JobGraph job = job_;
  for (auto& n : job.nodes) n.ui = nullptr;
  return qs(weir::formatJob(job));
}

bool JobDocument::save() {
  if (path_.isEmpty()) {
    setLastError(tr("The job has no file name yet"));
    return false;
  }
  const QString text = toText();
  QString error;
  if (!writeFile(path_, text, &error)) {
    setLastError(error);
    return false;
  }
  diskText_ = text;
  QFile::remove(autosavePath());
  if (!recoveryPath_.isEmpty()) {
    recoveryPath_.clear();
    emit recoveryAvailableChanged();
  }
  undo_.setClean();
  forcedDirty_ = false;
  if (changedOnDisk_) {
    changedOnDisk_ = false;
    emit changedOnDiskChanged();
  }
  watch(path_);
  setLastError({});
  emit dirtyChanged();
  emit notice(tr("Saved %1").arg(fileName()));
  return true;
}

bool JobDocument::saveAs(const QString& pathOrUrl) {
  QString file = localPath(pathOrUrl);
  if (file.isEmpty()) return false;
  if (!file.endsWith(".json")) file += ".weir.json";
  file = QFileInfo(file).absoluteFilePath();
  const QString oldAutosave = autosavePath();
  const QString oldPath = path_;
  path_ = file;
  job_.baseDir = QFileInfo(file).absolutePath().toStdString();
  if (!save()) {
    path_ = oldPath;
    return false;
  }
  if (oldAutosave != autosavePath()) QFile::remove(oldAutosave);
  if (!oldPath.isEmpty() && oldPath != path_) watcher_.removePath(oldPath);
  emit pathChanged();
  addRecent(path_);
  return true;
}

bool JobDocument::reload() {
  if (path_.isEmpty()) return false;
  QFile::remove(autosavePath());
  return open(path_);
}

void JobDocument::ignoreDiskChange() {
  if (!changedOnDisk_) return;
  diskText_ = readText(path_);
  changedOnDisk_ = false;
  forcedDirty_ = true;  // what is on disk is not what we show
  emit changedOnDiskChanged();
  emit dirtyChanged();
}

void JobDocument::watch(const QString& path) {
  if (!watcher_.files().isEmpty()) watcher_.removePaths(watcher_.files());
  if (!path.isEmpty() && QFileInfo::exists(path)) watcher_.addPath(path);
}

void JobDocument::onFileChanged(const QString& path) {
  if (path != path_) return;
  // Editors that save by renaming a new file over the old one end the watch: renew it.
  if (QFileInfo::exists(path) && !watcher_.files().contains(path)) watcher_.addPath(path);
  bool ok = false;
  QString text = readText(path, &ok);
  if (!ok || text == diskText_) return;
  if (!changedOnDisk_) {
    changedOnDisk_ = true;
    emit changedOnDiskChanged();
  }
}

QString JobDocument::autosavePath() const {
  if (path_.isEmpty()) {
    QString dir = QStandardPaths::writableLocation(QStandardPaths::AppDataLocation);
    return dir + "/untitled.weir.json.autosave";
  }
  QFileInfo fi(path_);
  return fi.absolutePath() + "/." + fi.fileName() + ".autosave";
}

void JobDocument::setAutosaveDelay(int ms) {
  if (ms == autosave_.interval()) return;
  autosave_.setInterval(std::max(0, ms));
  emit autosaveDelayChanged();
}

bool JobDocument::autosaveNow() {
  autosave_.stop();
  const QString file = autosavePath();
  if (!dirty()) {
    QFile::remove(file);
    return true;
  }
  QDir().mkpath(QFileInfo(file).absolutePath());
  return writeFile(file, toText(), nullptr);
}

void JobDocument::checkRecovery() {
  const QString file = autosavePath();
  QString found;
  if (QFileInfo::exists(file)) {
    QString text = readText(file);
    if (!text.isEmpty() && text != diskText_) found = file;
    else QFile::remove(file);
  }
  if (found != recoveryPath_) {
    recoveryPath_ = found;
    emit recoveryAvailableChanged();
  }
}

bool JobDocument::recover() {
  if (recoveryPath_.isEmpty()) return false;
  const QString file = recoveryPath_;
  weir::Diagnostics diags;
  auto job = weir::parseJob(ss(readText(file)), ss(QFileInfo(file).fileName()), diags);
  if (!job) {
    setLastError(tr("The autosave cannot be read"));
    return false;
  }
  job->baseDir = path_.isEmpty() ? QDir::currentPath().toStdString()
                                 : QFileInfo(path_).absolutePath().toStdString();
  const QString keepDisk = diskText_;
  setDocument(std::move(*job), path_);  // finds the autosave again: clear below
  diskText_ = keepDisk;
  recoveryPath_.clear();
  emit recoveryAvailableChanged();
  forcedDirty_ = true;
  emit dirtyChanged();
  return true;
}

void JobDocument::discardChanges() {
  autosave_.stop();
  QFile::remove(autosavePath());
  editsDiscarded_ = true;
  discardRecovery();
}

void JobDocument::discardRecovery() {
  if (recoveryPath_.isEmpty()) return;
  QFile::remove(recoveryPath_);
  recoveryPath_.clear();
  emit recoveryAvailableChanged();
}

QStringList JobDocument::recentFiles() const {
  return QSettings().value("recentFiles").toStringList();
}

void JobDocument::addRecent(const QString& path) {
  QStringList list = recentFiles();
  list.removeAll(path);
  list.prepend(path);
  while (list.size() > kMaxRecentFiles) list.removeLast();
  QSettings().setValue("recentFiles", list);
  emit recentFilesChanged();
}

void JobDocument::clearRecentFiles() {
  QSettings().remove("recentFiles");
  emit recentFilesChanged();
}

QString JobDocument::samplesDir() {
  const QString env = qEnvironmentVariable("WEIR_SAMPLES_DIR");
  if (!env.isEmpty()) return env;
  const QString bin = QCoreApplication::applicationDirPath();
  for (const QString& candidate : {bin + "/../share/weir/samples", bin + "/../../samples", bin + "/../samples"})
    if (QFileInfo(candidate).isDir()) return QFileInfo(candidate).canonicalFilePath();
#ifdef WEIR_SOURCE_DIR
  return QStringLiteral(WEIR_SOURCE_DIR "/samples");
#else
  return {};
#endif
}

QVariantList JobDocument::samples() const {
  QVariantList out;
  const QDir dir(samplesDir());
  for (const QFileInfo& fi : dir.entryInfoList({"*.weir.json"}, QDir::Files, QDir::Name)) {
    weir::Diagnostics diags;
    auto job = weir::parseJob(ss(readText(fi.absoluteFilePath())), ss(fi.fileName()), diags);
    out << QVariantMap{{"name", job ? qs(job->name) : fi.fileName()},
                       {"path", fi.absoluteFilePath()},
                       {"description", job ? qs(job->description) : QString()}};
  }
  return out;
}
