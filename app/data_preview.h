#pragma once
// DataPreview: the records on an edge, for the Data tab (the workbench issue, item 8).
//
// Design time: run() previews the open job — the engine's previewJob (runtime/preview.h)
// on the first `rowsPerSource` records of each source, in this process, writing nothing —
// on a worker thread, and keeps every edge's first records. While a job runs, the run
// controller's live tap samples (RunController::watchEdge) arrive through showSample().
// Either way edgeTable() gives the selected edge as a table of strings: its schema's
// columns, then the event time and the row kind, one row per record.

#include <QFutureWatcher>
#include <QObject>
#include <QVariantList>
#include <QVariantMap>
#include <QtQml/qqmlregistration.h>

#include <nlohmann/json.hpp>

#include "job_document.h"

class DataPreview : public QObject {
  Q_OBJECT
  QML_ELEMENT
  Q_PROPERTY(bool running READ running NOTIFY changed FINAL)
  Q_PROPERTY(bool available READ available NOTIFY changed FINAL)  // a preview has results
  Q_PROPERTY(QString error READ error NOTIFY changed FINAL)
  Q_PROPERTY(int revision READ revision NOTIFY changed FINAL)
  Q_PROPERTY(int rowsPerSource MEMBER rowsPerSource_ NOTIFY settingsChanged FINAL)
  Q_PROPERTY(int rowsPerEdge MEMBER rowsPerEdge_ NOTIFY settingsChanged FINAL)

 public:
  explicit DataPreview(QObject* parent = nullptr);
  ~DataPreview() override;

  bool running() const { return watcher_.isRunning(); }
  bool available() const { return preview_.is_object() && !preview_.empty(); }
  QString error() const { return error_; }
  int revision() const { return revision_; }

  /// Previews the document's job as it is now (unsaved edits included).
  Q_INVOKABLE void run(JobDocument* doc);
  /// Forgets the preview (the job changed).
  Q_INVOKABLE void clear();
  /// The preview's edge `edgeIndex` (JobGraph order) as {title, columns: [..], rows: [[..]],
  /// records, note}; empty when there is none.
  Q_INVOKABLE QVariantMap edgeTable(int edgeIndex) const;
  /// A node's counts in the preview: {recordsIn, recordsOut, deadLetters}; empty if none.
  Q_INVOKABLE QVariantMap nodeCounts(const QString& id) const;
  /// A live sample (GET /v1/jobs/{id}/edges/{edge}/sample) as the same kind of table.
  static QVariantMap sampleTable(const nlohmann::json& sample);

 signals:
  void changed();
  void settingsChanged();

 private:
  QFutureWatcher<nlohmann::json> watcher_;
  nlohmann::json preview_;
  QString error_;
  int revision_ = 0;
  int rowsPerSource_ = 100;
  int rowsPerEdge_ = 20;
};
