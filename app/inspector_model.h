#pragma once
// InspectorModel: the params of the document's current node, as the catalog describes them
// (weir::OperatorSpec::params), one row per param with nested object members flattened
// ("window.size_ms" under "window"), each with its kind, default, allowed values, doc, the
// value the job sets, the value validation resolved, and the problem on it if any.
//
// It also checks expressions as they are typed (weir::compileExpression against the input
// schema from the last validation, with the engine's own error and its position) and
// offers completions (the input's field names, the language's functions and keywords).
// Edits go through JobDocument::setParam and friends, so they are undoable.

#include <QAbstractListModel>
#include <QtQml/qqmlregistration.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/catalog.h"
#include "core/schema.h"
#include "core/validate.h"

class JobDocument;

class InspectorModel : public QAbstractListModel {
  Q_OBJECT
  QML_ANONYMOUS
  Q_PROPERTY(QString nodeId READ nodeId NOTIFY nodeChanged FINAL)
  Q_PROPERTY(bool active READ active NOTIFY nodeChanged FINAL)
  /// No node selected: the rows are the job's own `checkpoint` and `restart` settings
  /// (edited with JobDocument::setJobParam).
  Q_PROPERTY(bool jobMode READ jobMode NOTIFY nodeChanged FINAL)
  Q_PROPERTY(QString type READ type NOTIFY nodeChanged FINAL)
  Q_PROPERTY(QString title READ title NOTIFY nodeChanged FINAL)
  Q_PROPERTY(QString doc READ doc NOTIFY nodeChanged FINAL)
  Q_PROPERTY(QString outputDoc READ outputDoc NOTIFY nodeChanged FINAL)
  /// [{name, type}] of the (first) input and output, from the last validation.
  Q_PROPERTY(QVariantList inputSchema READ inputSchema NOTIFY refreshed FINAL)
  Q_PROPERTY(QVariantList outputSchema READ outputSchema NOTIFY refreshed FINAL)
  /// Every problem of the node, "path: message".
  Q_PROPERTY(QStringList problems READ problems NOTIFY refreshed FINAL)
  /// The problems no param row shows (unknown fields, ports, the node as a whole).
  Q_PROPERTY(QStringList otherProblems READ otherProblems NOTIFY refreshed FINAL)
  /// The node's own parallelism (0: the job's) and the resolved one.
  Q_PROPERTY(int parallelism READ parallelism NOTIFY refreshed FINAL)
  Q_PROPERTY(int resolvedParallelism READ resolvedParallelism NOTIFY refreshed FINAL)
  /// The param a selected problem points at; the view scrolls to it and highlights it.
  Q_PROPERTY(QString focusPath READ focusPath WRITE setFocusPath NOTIFY focusPathChanged FINAL)

 public:
  enum Role {
    NameRole = Qt::UserRole + 1,  // "name": "size_ms"
    PathRole,                     // "path": "window.size_ms"
    KindRole,                     // "kind": int, double, bool, string, enum, path, expression, ...
    DepthRole,                    // "depth": 0 for a top-level param, 1 for its members
    RequiredRole,                 // "isRequired"
    DefaultTextRole,              // "defaultText": the default as text, "" when none
    EnumValuesRole,               // "enumValues"
    DocRole,                      // "help": the param's doc
    ValueRole,                    // "value": what the job sets (undefined when absent)
    ValueTextRole,                // "valueText": the same as text (strings bare, others JSON)
    IsSetRole,                    // "isSet"
    EffectiveRole,                // "effective": the value validation resolved (default filled)
    EffectiveTextRole,            // "effectiveText"
    ErrorRole,                    // "error": the problem on this param (or inside it), or ""
    MinimumRole,                  // "minimum", "maximum": bounds (NaN when none)
    MaximumRole,
    ChildSpecsRole,               // "childSpecs": [{name, kind, enumValues, doc, required}] of list items
    ItemsRole,                    // "items": the list's elements (object_list, schema, field_list)
    ItemErrorsRole,               // "itemErrors": per element, {member: message} ("" key: the element)
    FieldCandidatesRole,          // "fieldCandidates": field names this param can name
    ParentSetRole,                // "parentSet": the object this member belongs to is present
    SwitchableRole,               // "switchable": an object param turned on and off as a whole
                                  // (optional, with no default: a join's window; job settings)
    ParentOptionalRole,           // "parentOptional": it is a member of a switchable object
    AppliesRole,                  // "applies": the param means something with its siblings'
                                  // values (a window's slide_ms only when its type is sliding)
  };
  Q_ENUM(Role)

  explicit InspectorModel(JobDocument* doc);

  int rowCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  QHash<int, QByteArray> roleNames() const override;

  QString nodeId() const { return nodeId_; }
  /// A node is inspected (its type may be unknown: then it has no param rows).
  bool active() const { return !jobMode_; }
  bool jobMode() const { return jobMode_; }
  QString type() const;
  QString title() const;
  QString doc() const;
  QString outputDoc() const;
  QVariantList inputSchema() const;
  QVariantList outputSchema() const;
  QStringList problems() const;
  QStringList otherProblems() const;
  int parallelism() const;
  int resolvedParallelism() const;
  QString focusPath() const { return focusPath_; }
  void setFocusPath(const QString& p);

  /// The row of a param path, or -1.
  Q_INVOKABLE int rowOf(const QString& path) const;
  /// The row's roles as a map (tests, and editors outside a delegate).
  Q_INVOKABLE QVariantMap get(int row) const;
  /// Checks expression text for the param at `path` against the node's input schema:
  /// {ok, message, offset, length, type} (type: the result type when ok); `schemaKnown`
  /// false when the input schema is not known yet (then unknown fields are not errors).
  Q_INVOKABLE QVariantMap checkExpression(const QString& path, const QString& text) const;
  /// Completion at `cursor` in `text`: {start, prefix, candidates: [{text, kind, detail}]}
  /// with kind field / function / keyword, fields first, matching the word before the
  /// cursor case-insensitively.
  Q_INVOKABLE QVariantMap completions(const QString& path, const QString& text, int cursor) const;
  /// The schema arriving at input `port`. Validation leaves ValidatedNode::inputSchemas empty
  /// for a node whose own params are wrong (a new filter without `where`), but the edge into
  /// it still carries its upstream's schema: exactly what an editor of those params needs.
  static weir::SchemaPtr inputSchemaOf(const weir::ValidatedJob& job, const weir::ValidatedNode& vn, std::size_t port);
  /// The field names the param at `path` can use (its input's fields; a source's own).
  Q_INVOKABLE QStringList fieldNames(const QString& path) const;

 signals:
  void nodeChanged();
  void refreshed();
  void focusPathChanged();

 private:
  struct Row {
    std::string path;
    const weir::ParamSpec* spec = nullptr;
    int depth = 0;
    const weir::ParamSpec* parent = nullptr;  // the object it is a member of
  };
  void setNode(const QString& id);
  void refresh();
  void addRows(const std::vector<weir::ParamSpec>& specs, const std::string& prefix, int depth,
               const weir::ParamSpec* parent, std::vector<Row>& out) const;
  /// Whether the member at `path` applies given the object it belongs to: a window shape's
  /// size_ms (tumbling, sliding), slide_ms (sliding), gap_ms (session).
  static bool applies(const std::string& path, const nlohmann::json& params);
  weir::SchemaPtr schemaFor(const std::string& path) const;
  QString errorFor(const std::string& path, bool includeInside) const;
  /// The diagnostics about what the rows show (the node's, or the job's own).
  std::vector<const weir::Diagnostic*> rowDiagnostics() const;
  /// The params the rows read: the node's, or {"checkpoint", "restart"} of the job.
  nlohmann::json currentParams() const;
  nlohmann::json effectiveParams() const;

  JobDocument* doc_;
  QString nodeId_;
  const weir::OperatorSpec* spec_ = nullptr;
  bool jobMode_ = false;
  QString key_;  // what the rows were built for
  std::vector<Row> rows_;
  QString focusPath_;
};
