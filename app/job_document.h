#pragma once
// JobDocument: the job open in the workbench, as an editable graph (the workbench issue,
// items 1, 3 and 4).
//
// The document owns a weir::JobGraph (engine/core/job.h, Qt-free) and is the only thing
// that changes it. Every edit is a command on one QUndoStack, made of primitive steps
// (insert/remove/replace a node or an edge, replace the job's own fields) that the models
// announce with fine-grained signals, so undo and redo of any edit are exact and the QML
// delegates update in place. Nodes are addressed by their id, edges by an id the document
// gives them (EdgeListModel::EdgeIdRole).
//
// After every edit the engine's validation (core/validate.h) runs again; its diagnostics
// are mapped onto nodes, edges and param paths and listed by `problems`. Validation of a
// 200-node job takes about half a millisecond, so it runs on the UI thread; when they take
// longer than `asyncThresholdMs` (a moving average) the next ones run on a worker thread
// (QtConcurrent) and a result that an edit has made stale is dropped.
//
// Files: new/open/save/save-as of *.weir.json through weir::loadJobFile/weir::formatJob
// (positions are kept in each node's `ui`), dirty tracking by the undo stack's clean state,
// recent files in QSettings, a changedOnDisk flag when another program rewrites the open
// file, and an autosave side file (".<name>.autosave" next to the file) offered back when
// the file is opened again after a crash.
//
// Threading: everything here lives on the UI thread; only validation may run elsewhere, on
// a copy of the job.

#include <QElapsedTimer>
#include <QFileSystemWatcher>
#include <QFutureWatcher>
#include <QHash>
#include <QObject>
#include <QPointF>
#include <QRectF>
#include <QSet>
#include <QStringList>
#include <QTimer>
#include <QUndoStack>
#include <QVariantMap>
#include <QtQml/qqmlregistration.h>
#include <QQmlEngine>

#include <memory>
#include <vector>

#include "core/catalog.h"
#include "core/job.h"
#include "core/validate.h"
#include "graph_models.h"

class InspectorModel;

namespace wb {
struct EditStep;
class EditCommand;
}  // namespace wb

class JobDocument : public QObject {
  Q_OBJECT
  QML_ELEMENT

  // ---- the models QML binds to
  Q_PROPERTY(NodeListModel* nodes READ nodes CONSTANT FINAL)
  Q_PROPERTY(EdgeListModel* edges READ edges CONSTANT FINAL)
  Q_PROPERTY(ProblemListModel* problems READ problems CONSTANT FINAL)
  Q_PROPERTY(InspectorModel* inspector READ inspector CONSTANT FINAL)

  // ---- the job's own fields (edits are undoable)
  Q_PROPERTY(QString name READ name WRITE setName NOTIFY jobFieldsChanged FINAL)
  Q_PROPERTY(int parallelism READ parallelism WRITE setParallelism NOTIFY jobFieldsChanged FINAL)
  Q_PROPERTY(QString mode READ mode WRITE setMode NOTIFY jobFieldsChanged FINAL)

  // ---- file
  Q_PROPERTY(QString path READ path NOTIFY pathChanged FINAL)
  Q_PROPERTY(QString fileName READ fileName NOTIFY pathChanged FINAL)
  Q_PROPERTY(bool dirty READ dirty NOTIFY dirtyChanged FINAL)
  Q_PROPERTY(QStringList recentFiles READ recentFiles NOTIFY recentFilesChanged FINAL)
  Q_PROPERTY(QString lastError READ lastError NOTIFY lastErrorChanged FINAL)
  /// The open file was changed by another program; reload() or keep editing (the next
  /// save overwrites it). Cleared by both.
  Q_PROPERTY(bool changedOnDisk READ changedOnDisk NOTIFY changedOnDiskChanged FINAL)
  /// An autosave newer than the opened file exists: recover() or discardRecovery().
  Q_PROPERTY(bool recoveryAvailable READ recoveryAvailable NOTIFY recoveryAvailableChanged FINAL)
  /// The sample jobs (samples/*.weir.json): [{name, path, description}], for the gallery.
  Q_PROPERTY(QVariantList samples READ samples CONSTANT FINAL)
  /// Grows each time the document is replaced (new, open, reload, recover, a job attached
  /// to): figures of a run belong to the session it was started from.
  Q_PROPERTY(int session READ session NOTIFY loaded FINAL)
  Q_PROPERTY(int autosaveDelay READ autosaveDelay WRITE setAutosaveDelay NOTIFY autosaveDelayChanged FINAL)

  // ---- undo
  Q_PROPERTY(bool canUndo READ canUndo NOTIFY undoStateChanged FINAL)
  Q_PROPERTY(bool canRedo READ canRedo NOTIFY undoStateChanged FINAL)
  Q_PROPERTY(QString undoText READ undoText NOTIFY undoStateChanged FINAL)
  Q_PROPERTY(QString redoText READ redoText NOTIFY undoStateChanged FINAL)

  // ---- selection
  Q_PROPERTY(QStringList selectedNodes READ selectedNodes NOTIFY selectionChanged FINAL)
  /// The node the inspector shows: the only selected node, else "".
  Q_PROPERTY(QString currentNode READ currentNode NOTIFY selectionChanged FINAL)
  Q_PROPERTY(int selectedEdge READ selectedEdge NOTIFY selectionChanged FINAL)

  // ---- validation
  Q_PROPERTY(int problemCount READ problemCount NOTIFY validated FINAL)
  Q_PROPERTY(bool valid READ valid NOTIFY validated FINAL)
  Q_PROPERTY(bool validating READ validating NOTIFY validatingChanged FINAL)
  /// Wall time of the last validation, in milliseconds.
  Q_PROPERTY(double validationMs READ validationMs NOTIFY validated FINAL)
  Q_PROPERTY(ValidationMode validationMode READ validationMode WRITE setValidationMode NOTIFY validationModeChanged FINAL)

  // ---- geometry shared with the canvas (graph_layout.h)
  Q_PROPERTY(double nodeWidth READ nodeWidth CONSTANT FINAL)
  Q_PROPERTY(double headerHeight READ headerHeight CONSTANT FINAL)
  Q_PROPERTY(double portRowHeight READ portRowHeight CONSTANT FINAL)
  /// The box around every node (itemsRect()), for fit-to-view and the minimap.
  Q_PROPERTY(QRectF bounds READ itemsRect NOTIFY boundsChanged FINAL)

 public:
  enum SelectMode { Replace, Toggle, Add };
  Q_ENUM(SelectMode)
  /// Auto: on the UI thread while validations take less than asyncThresholdMs (a moving
  /// average), else on a worker thread.
  enum ValidationMode { Auto, Synchronous, Asynchronous };
  Q_ENUM(ValidationMode)
  static constexpr double asyncThresholdMs = 8.0;

  explicit JobDocument(QObject* parent = nullptr);
  ~JobDocument() override;

  NodeListModel* nodes() { return &nodes_; }
  EdgeListModel* edges() { return &edges_; }
  ProblemListModel* problems() { return &problems_; }
  InspectorModel* inspector() { return inspector_.get(); }

  QString name() const;
  void setName(const QString& name);
  int parallelism() const { return job_.parallelism; }
  void setParallelism(int p);
  QString mode() const;
  void setMode(const QString& mode);

  QString path() const { return path_; }
  QString fileName() const;
  bool dirty() const { return forcedDirty_ || !undo_.isClean(); }
  QStringList recentFiles() const;
  QVariantList samples() const;
  /// Where the samples are: $WEIR_SAMPLES_DIR, else next to the installed or built program,
  /// else the source tree's samples/.
  static QString samplesDir();
  QString lastError() const { return lastError_; }
  int session() const { return session_; }
  bool changedOnDisk() const { return changedOnDisk_; }
  bool recoveryAvailable() const { return !recoveryPath_.isEmpty(); }
  int autosaveDelay() const { return autosave_.interval(); }
  void setAutosaveDelay(int ms);

  bool canUndo() const { return undo_.canUndo(); }
  bool canRedo() const { return undo_.canRedo(); }
  QString undoText() const { return undo_.undoText(); }
  QString redoText() const { return undo_.redoText(); }
  QUndoStack* undoStack() { return &undo_; }

  QStringList selectedNodes() const { return selectionOrder_; }
  QString currentNode() const { return selectionOrder_.size() == 1 ? selectionOrder_.front() : QString(); }
  int selectedEdge() const { return selectedEdge_; }

  int problemCount() const { return static_cast<int>(diags_.size()); }
  bool valid() const { return diags_.empty(); }
  bool validating() const { return pending_ != nullptr; }
  double validationMs() const { return validationMs_; }
  ValidationMode validationMode() const { return validationMode_; }
  void setValidationMode(ValidationMode m);

  double nodeWidth() const;
  double headerHeight() const;
  double portRowHeight() const;

  // ---- files
  /// An empty job ("weir": 1, name "untitled"), no path, clean undo stack.
  Q_INVOKABLE void newJob();
  /// Opens a job file (a local path or a file: URL). False, with lastError set, when it
  /// cannot be read or parsed; the open document is then unchanged.
  Q_INVOKABLE bool open(const QString& pathOrUrl);
  /// Saves to the current path; false when there is none (ask for one, then saveAs) or
  /// the write fails (lastError).
  Q_INVOKABLE bool save();
  Q_INVOKABLE bool saveAs(const QString& pathOrUrl);
  /// Reads the open file again, dropping unsaved edits (after changedOnDisk).
  Q_INVOKABLE bool reload();
  /// Opens a job from its text as a new unsaved document (a job attached to on a cluster:
  /// its submitted file); relative paths resolve against `baseDir`.
  Q_INVOKABLE bool openText(const QString& text, const QString& baseDir);
  /// Keeps the edits after changedOnDisk; the next save overwrites the file.
  Q_INVOKABLE void ignoreDiskChange();
  /// Replaces the document's content by the autosave's (the document becomes dirty).
  Q_INVOKABLE bool recover();
  Q_INVOKABLE void discardRecovery();
  /// The unsaved edits are thrown away (the unsaved-changes question's Discard): their
  /// autosave goes, and none is written when the document goes away, so no recovery is
  /// offered next time. A later edit is kept as usual.
  Q_INVOKABLE void discardChanges();
  /// Writes the autosave now (the timer does it autosaveDelay ms after an edit).
  Q_INVOKABLE bool autosaveNow();
  Q_INVOKABLE QString autosavePath() const;
  Q_INVOKABLE void clearRecentFiles();
  /// The job as formatJob writes it.
  Q_INVOKABLE QString toText() const;
  /// The job as it runs: its text without the nodes' layout (`ui`), so that moving a node
  /// does not make it differ from the job submitted.
  Q_INVOKABLE QString runText() const;

  // ---- edits (each one undoable)
  /// Adds a node of `type` at (x, y) with an id made from the type ("filter", "filter_2",
  /// ...); selects it and returns its id ("" for an unknown type).
  Q_INVOKABLE QString addNode(const QString& type, double x, double y);
  Q_INVOKABLE void removeNodes(const QStringList& ids);
  /// Removes the selected nodes (with their edges) and the selected edge.
  Q_INVOKABLE void removeSelected();
  Q_INVOKABLE void moveNodes(const QStringList& ids, double dx, double dy);
  Q_INVOKABLE void setNodePosition(const QString& id, double x, double y);
  /// Why an edge from (from, fromPort) to (to, toPort) cannot be added, or "" when it can.
  Q_INVOKABLE QString connectionRefusal(const QString& from, const QString& fromPort,
                                        const QString& to, const QString& toPort) const;
  /// Adds the edge unless connectionRefusal says why not; returns that reason or "".
  Q_INVOKABLE QString connectPorts(const QString& from, const QString& fromPort,
                                   const QString& to, const QString& toPort);
  Q_INVOKABLE bool disconnectEdge(int edgeId);
  /// Sets a param of a node by path ("where", "window.size_ms", "aggregates[1].fn"); the
  /// value is coerced to the param's kind (QML numbers are doubles). An undefined value
  /// removes the param (back to its default). False when nothing changed.
  Q_INVOKABLE bool setParam(const QString& nodeId, const QString& path, const QVariant& value);
  /// The same with the value as JSON text; false when it does not parse.
  Q_INVOKABLE bool setParamJson(const QString& nodeId, const QString& path, const QString& json);
  Q_INVOKABLE bool resetParam(const QString& nodeId, const QString& path);
  /// Appends an element to an object_list or schema param (required members filled with
  /// their defaults or first allowed value); returns its path ("aggregates[2]").
  Q_INVOKABLE QString addListItem(const QString& nodeId, const QString& path);
  /// Sets how an edge partitions: auto, forward, rebalance or broadcast. Returns why not
  /// ("" when done or unchanged); validation judges whether it fits the edge.
  Q_INVOKABLE QString setEdgePartition(int edgeId, const QString& partition);
  /// Sets a member of the job's `checkpoint` or `restart` object by path
  /// ("checkpoint.interval_ms", "restart.strategy"); an undefined value removes it. Setting
  /// "checkpoint" to {} turns checkpointing on, to undefined off. False when nothing changed.
  Q_INVOKABLE bool setJobParam(const QString& path, const QVariant& value);
  /// The specs of the job-level objects as params "checkpoint" and "restart" (objects whose
  /// members are weir::checkpointParams() and weir::restartParams()).
  static const std::vector<weir::ParamSpec>& jobParamSpecs();
  /// {"checkpoint": ..., "restart": ...} as the job has them (absent when off).
  nlohmann::json jobParams() const;
  /// Sets a node's own parallelism (0: inherit the job's).
  Q_INVOKABLE bool setNodeParallelism(const QString& nodeId, int parallelism);
  /// Renames a node; its edges follow. Returns why not ("" when done).
  Q_INVOKABLE QString renameNode(const QString& oldId, const QString& newId);
  /// The selected nodes and the edges between them as job JSON text (also put on the
  /// clipboard).
  Q_INVOKABLE QString copySelection();
  Q_INVOKABLE QString cutSelection();
  /// Pastes nodes and edges (copySelection's text, or a whole job file) with ids renamed
  /// where they clash, shifted so their top-left is at (x, y) (NaN: 40 units right and down
  /// from where they were); selects them and returns their ids. Text "" pastes the clipboard.
  Q_INVOKABLE QStringList paste(const QString& text = QString(), double x = qQNaN(), double y = qQNaN());
  /// Layered layout of every node (one undoable step).
  Q_INVOKABLE void autoLayout();
  Q_INVOKABLE void undo() { undo_.undo(); }
  Q_INVOKABLE void redo() { undo_.redo(); }

  // ---- selection (not undoable)
  Q_INVOKABLE void selectNode(const QString& id, SelectMode mode = Replace);
  Q_INVOKABLE void selectNodes(const QStringList& ids, bool additive = false);
  /// Selects the nodes whose box intersects the rectangle (canvas units).
  Q_INVOKABLE void selectInRect(const QRectF& rect, bool additive = false);
  Q_INVOKABLE void selectAll();
  Q_INVOKABLE void clearSelection();
  Q_INVOKABLE void selectEdge(int edgeId);
  /// Selects the node (or edge) of problem `row` and tells the inspector to show its param
  /// (problemSelected).
  Q_INVOKABLE void selectProblem(int row);

  // ---- queries
  Q_INVOKABLE int nodeRow(const QString& id) const;
  Q_INVOKABLE int edgeRow(int edgeId) const;
  Q_INVOKABLE bool hasNode(const QString& id) const { return nodeRow(id) >= 0; }
  /// The port under canvas point (x, y), within `radius`: {node, port, input (bool), x, y}
  /// or an empty map.
  Q_INVOKABLE QVariantMap portAt(double x, double y, double radius = 12) const;
  /// The centre of a port on the canvas.
  Q_INVOKABLE QPointF portPosition(const QString& nodeId, const QString& port, bool input) const;
  /// The box of a node on the canvas (empty when unknown).
  Q_INVOKABLE QRectF nodeRect(const QString& id) const;
  /// Where a new node put at (x, y) touches no other: (x, y) itself, or the first spot
  /// free of cards down and to the right of it (a node added from the keyboard twice must
  /// not land on the first one).
  Q_INVOKABLE QPointF freeSpot(double x, double y) const;
  /// The box around every node (empty for an empty job).
  Q_INVOKABLE QRectF itemsRect() const;
  /// A node's params as JSON text (for tests and the "raw" view).
  Q_INVOKABLE QString paramsText(const QString& nodeId) const;
  Q_INVOKABLE QVariant paramValue(const QString& nodeId, const QString& path) const;
  /// The node's problems, "path: message" each.
  Q_INVOKABLE QStringList nodeProblems(const QString& nodeId) const;
  Q_INVOKABLE QStringList problemTexts() const;
  /// The quick fix of problem `row` when the engine (or the closest field name) knows what
  /// was meant: {label ("Use 'price'"), node, path, from, to}; empty when there is none.
  /// Fixes: a misspelt field in an expression or a field param, an enum value, a param name.
  Q_INVOKABLE QVariantMap quickFix(int row) const;
  /// Applies quickFix(row) as one undoable edit; false when there is none.
  Q_INVOKABLE bool applyQuickFix(int row);
  /// The row of the first problem at (nodeId, path), or -1.
  Q_INVOKABLE int problemRow(const QString& nodeId, const QString& path) const;
  /// Validates now on this thread (any pending worker result is dropped).
  Q_INVOKABLE void validateNow();

  // ---- for the models and the inspector (C++ only)
  const weir::JobGraph& job() const { return job_; }
  const weir::Catalog& catalog() const { return *catalog_; }
  /// The last validation (never null; may be older than the job while validating).
  const weir::ValidatedJob& validatedJob() const { return *validated_; }
  const weir::Diagnostics& diagnostics() const { return diags_; }
  int edgeId(int row) const { return edgeIds_.at(static_cast<std::size_t>(row)); }
  const std::vector<int>& edgeIdList() const { return edgeIds_; }
  int allocateEdgeId() { return nextEdgeId_++; }
  /// {from, fromPort, to, toPort, schema: [{name, type}], partition, keyFields, problem}
  Q_INVOKABLE QVariantMap edgeInfo(int edgeId) const;
  /// The edge (row, JobGraph order) whose records tell what a node does, for its debug view:
  /// a sink's first input (what a print sink prints), another node's first output; -1 when
  /// it has none.
  Q_INVOKABLE int debugEdgeRow(const QString& nodeId) const;
  /// The id of the first edge from node `from` to node `to`, or 0.
  Q_INVOKABLE int findEdge(const QString& from, const QString& to) const;
  /// The node's row in the last validation's result, or -1.
  int validatedNodeRow(const QString& id) const { return validatedRow_.value(id, -1); }
  /// The edge's index in the last validation's result, or -1.
  int validatedEdgeRow(int edgeId) const { return validatedEdgeRow_.value(edgeId, -1); }
  bool isSelected(const QString& id) const { return selected_.contains(id); }
  /// Per node row: indices into diagnostics() about it.
  const std::vector<int>& nodeDiagnostics(int row) const;
  /// Per edge row: index into diagnostics() about it, or -1.
  int edgeDiagnostic(int row) const;
  /// The edge row a diagnostic is about ("edges[3]..." paths), or -1.
  int diagnosticEdgeRow(const weir::Diagnostic& d) const;
  /// The node row a diagnostic is about, or -1 ("job", unknown ids).
  int diagnosticNodeRow(const weir::Diagnostic& d) const;
  QPointF nodePos(int row) const;
  /// Applies one primitive step (EditCommand calls this).
  void apply(const wb::EditStep& step, bool forward);
  /// After a command's redo/undo: revalidate, autosave timer, signals.
  void afterEdit();

 signals:
  void jobFieldsChanged();
  void boundsChanged();
  void pathChanged();
  void dirtyChanged();
  void recentFilesChanged();
  void lastErrorChanged();
  void changedOnDiskChanged();
  void recoveryAvailableChanged();
  void autosaveDelayChanged();
  void undoStateChanged();
  void selectionChanged();
  void validated();
  void validatingChanged();
  void validationModeChanged();
  /// A node's params, id or type changed (by an edit or an undo).
  void nodeChanged(const QString& id);
  /// The document was replaced (new, open, reload, recover).
  void loaded();
  /// A problem was selected: the inspector should show `path` of node `nodeId`.
  void problemSelected(const QString& nodeId, const QString& path);
  /// A short note for the status line ("Saved", "Connection refused: ...").
  void notice(const QString& text);

 private:
  friend class wb::EditCommand;
  void push(wb::EditCommand* cmd);
  void setDocument(weir::JobGraph job, const QString& path);
  void rebuildIndex();
  void placeUnpositioned();
  void scheduleValidation();
  void applyValidation(std::shared_ptr<weir::ValidatedJob> v, weir::Diagnostics diags, double ms,
                       std::vector<int> edgeIds);
  void startWorker();
  void remapDiagnostics();
  void setLastError(const QString& e);
  void setSelectionList(QStringList ids, int edgeId);
  void pruneSelection();
  void addRecent(const QString& path);
  void watch(const QString& path);
  void onFileChanged(const QString& path);
  void checkRecovery();
  bool writeFile(const QString& path, const QString& text, QString* error) const;
  void notifyEdgesOf(const QSet<QString>& nodeIds);
  QString uniqueId(const QString& base, const QSet<QString>& taken) const;
  std::vector<int> edgesTouching(const QSet<QString>& ids) const;

  const weir::Catalog* catalog_;
  weir::JobGraph job_;
  std::vector<int> edgeIds_;  // aligned with job_.edges
  int nextEdgeId_ = 1;
  QHash<QString, int> rowOf_;
  QUndoStack undo_;

  NodeListModel nodes_;
  EdgeListModel edges_;
  ProblemListModel problems_;
  std::unique_ptr<InspectorModel> inspector_;

  QSet<QString> selected_;
  QStringList selectionOrder_;
  int selectedEdge_ = 0;

  std::shared_ptr<weir::ValidatedJob> validated_;
  weir::Diagnostics diags_;
  std::vector<std::vector<int>> nodeDiags_;
  QHash<QString, int> validatedRow_;
  QHash<int, int> validatedEdgeRow_;
  std::vector<int> validatingEdgeIds_;  // edge ids when the running validation started
  std::vector<int> edgeDiag_;
  double validationMs_ = 0;
  double validationAverageMs_ = 0;
  ValidationMode validationMode_ = Auto;
  bool slowValidation_ = false;
  quint64 generation_ = 0;
  struct Pending;
  std::unique_ptr<Pending> pending_;

  QString path_;
  QString lastError_;
  QString diskText_;  // what the file held when opened or last saved
  bool forcedDirty_ = false;
  bool editsDiscarded_ = false;
  int session_ = 0;
  bool changedOnDisk_ = false;
  QString recoveryPath_;
  QFileSystemWatcher watcher_;
  QTimer autosave_;
  QString clipboardText_;
};
