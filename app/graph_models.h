#pragma once
// The list models a JobDocument exposes to QML: its nodes, its edges and its problems.
// Each is a view of the document's state (they own nothing); the document tells them
// about changes with the usual begin/end and dataChanged calls, so delegates update
// in place rather than being rebuilt.

#include <QAbstractListModel>
#include <QtQml/qqmlregistration.h>

class JobDocument;

/// One row per node of the job, in file order. Nodes are addressed by their id
/// (JobDocument::nodeRow maps an id to its row).
class NodeListModel : public QAbstractListModel {
  Q_OBJECT
  QML_ANONYMOUS
  Q_PROPERTY(int count READ rowCount NOTIFY countChanged FINAL)

 public:
  enum Role {
    NodeIdRole = Qt::UserRole + 1,  // "nodeId": the node's id
    TypeRole,                       // "type": operator type, "source.file"
    TitleRole,                      // "title": the catalog's title, "File source"
    CategoryRole,                   // "category": source / transform / sink / unknown
    PosXRole,                       // "posX", "posY": top-left corner on the canvas
    PosYRole,
    HeightRole,                     // "nodeHeight": from the port count
    InputsRole,                     // "inputs": input port names, catalog order
    OutputsRole,                    // "outputs": output port names
    SelectedRole,                   // "selected"
    ProblemCountRole,               // "problemCount": diagnostics on this node
    ProblemRole,                    // "problem": the first of them, "path: message"
    SchemaRole,                     // "schema": the first output's schema, "a:int64, b:string"
    ParallelismRole,                // "parallelism": resolved by validation (0 when unknown)
    SummaryRole,                    // "summary": one line about its params ("price > 1000")
  };
  Q_ENUM(Role)

  explicit NodeListModel(JobDocument* doc);
  int rowCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  QHash<int, QByteArray> roleNames() const override;

  /// Called by JobDocument.
  void beginInsert(int row) { beginInsertRows({}, row, row); }
  void endInsert() { endInsertRows(); emit countChanged(); }
  void beginRemove(int row) { beginRemoveRows({}, row, row); }
  void endRemove() { endRemoveRows(); emit countChanged(); }
  void beginReset() { beginResetModel(); }
  void endReset() { endResetModel(); emit countChanged(); }
  void changed(int row, const QList<int>& roles = {});
  void changedAll(const QList<int>& roles = {});

 signals:
  void countChanged();

 private:
  JobDocument* doc_;
};

/// One row per edge, in file order. Edges are addressed by an id the document gives each
/// edge when it enters the model (stable across edits and undo, never reused).
class EdgeListModel : public QAbstractListModel {
  Q_OBJECT
  QML_ANONYMOUS
  Q_PROPERTY(int count READ rowCount NOTIFY countChanged FINAL)

 public:
  enum Role {
    EdgeIdRole = Qt::UserRole + 1,  // "edgeId"
    FromNodeRole,                   // "fromNode", "fromPort", "toNode", "toPort"
    FromPortRole,
    ToNodeRole,
    ToPortRole,
    X1Role,                         // "x1", "y1": the output port's centre on the canvas
    Y1Role,
    X2Role,                         // "x2", "y2": the input port's centre
    Y2Role,
    FromSelectedRole,               // "fromSelected", "toSelected": an end is selected
    ToSelectedRole,
    SelectedRole,                   // "selected": the edge itself is selected
    SchemaRole,                     // "schema": what flows, "a:int64, b:string" ("" unknown)
    PartitionRole,                  // "partition": resolved (forward, hash, ...)
    KeyFieldsRole,                  // "keyFields": hash keys
    ValidRole,                      // "valid": both ends and ports exist
    ProblemRole,                    // "problem": a diagnostic about this edge, or ""
  };
  Q_ENUM(Role)

  explicit EdgeListModel(JobDocument* doc);
  int rowCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  QHash<int, QByteArray> roleNames() const override;

  void beginInsert(int row) { beginInsertRows({}, row, row); }
  void endInsert() { endInsertRows(); emit countChanged(); }
  void beginRemove(int row) { beginRemoveRows({}, row, row); }
  void endRemove() { endRemoveRows(); emit countChanged(); }
  void beginReset() { beginResetModel(); }
  void endReset() { endResetModel(); emit countChanged(); }
  void changed(int row, const QList<int>& roles = {});
  void changedAll(const QList<int>& roles = {});

 signals:
  void countChanged();

 private:
  JobDocument* doc_;
};

/// The diagnostics of the last validation, in the engine's order.
class ProblemListModel : public QAbstractListModel {
  Q_OBJECT
  QML_ANONYMOUS
  Q_PROPERTY(int count READ rowCount NOTIFY countChanged FINAL)

 public:
  enum Role {
    NodeRole = Qt::UserRole + 1,  // "node": a node id, or "job"
    PathRole,                     // "path": "window.size_ms", "edges[2]", or ""
    MessageRole,                  // "message"
    TextRole,                     // "text": "node: path: message"
    EdgeIdRole,                   // "edgeId": the edge it is about, or 0
    NodeExistsRole,               // "nodeExists": clicking it can select a node
  };
  Q_ENUM(Role)

  explicit ProblemListModel(JobDocument* doc);
  int rowCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  QHash<int, QByteArray> roleNames() const override;

  void reset() { beginResetModel(); endResetModel(); emit countChanged(); }

 signals:
  void countChanged();

 private:
  JobDocument* doc_;
};
