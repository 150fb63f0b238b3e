#include "data_preview.h"

#include <QDir>
#include <QFileInfo>
#include <QtConcurrent>

#include "core/job.h"
#include "core/text.h"
#include "job_document.h"
#include "runtime/preview.h"

using nlohmann::json;

namespace {

QString cell(const json& v) {
  if (v.is_null()) return QStringLiteral("null");
  if (v.is_string()) return QString::fromStdString(v.get<std::string>());
  if (v.is_boolean()) return v.get<bool>() ? QStringLiteral("true") : QStringLiteral("false");
  // Twelve significant digits: 1120.472, not the 1120.4720000000002 of binary arithmetic.
  if (v.is_number_float()) return QString::number(v.get<double>(), 'g', 12);
  return QString::fromStdString(v.dump());
}

/// An edge of the preview's JSON or a live sample: {schema, rows, records?} as a table.
QVariantMap table(const json& e, const QString& note) {
  QStringList columns;
  std::vector<std::string> names;
  if (e.contains("schema"))
    for (const auto& f : e["schema"]) {
      names.push_back(f.value("name", ""));
      columns << QString::fromStdString(f.value("name", "") + ":" + f.value("type", ""));
    }
  columns << "event time" << "op";
  QVariantList rows;
  if (e.contains("rows"))
    for (const auto& r : e["rows"]) {
      QStringList row;
      for (const auto& n : names) row << cell(r.contains(n) ? r[n] : json());
      const json t = r.contains("_event_time") ? r["_event_time"] : json();
      row << (t.is_number() ? QString::fromStdString(weir::formatTimestamp(t.get<std::int64_t>())) : QString("—"));
      row << cell(r.contains("_op") ? r["_op"] : json("+I"));
      rows.push_back(row);
    }
  const QString title = QString::fromStdString(e.value("from", "") + "." + e.value("from_port", "out") + " → " +
                                               e.value("to", "") + "." + e.value("to_port", "in"));
  return {{"title", title},
          {"columns", columns},
          {"rows", rows},
          {"records", e.contains("records") && e["records"].is_number() ? QVariant(e["records"].get<qint64>()) : QVariant()},
          {"note", note}};
}

}  // namespace

DataPreview::DataPreview(QObject* parent) : QObject(parent) {
  connect(&watcher_, &QFutureWatcher<json>::finished, this, [this] {
    preview_ = watcher_.result();
    error_ = preview_.contains("error") && preview_["error"].is_string()
                 ? QString::fromStdString(preview_["error"].get<std::string>())
                 : QString();
    ++revision_;
    emit changed();
  });
}

DataPreview::~DataPreview() { watcher_.waitForFinished(); }

void DataPreview::run(JobDocument* doc) {
  if (!doc || watcher_.isRunning()) return;
  weir::Diagnostics diags;
  auto job = weir::parseJob(doc->toText().toStdString(), "job", diags);
  if (!job) {
    error_ = diags.empty() ? QStringLiteral("the job cannot be read") : QString::fromStdString(diags.front().toString());
    emit changed();
    return;
  }
  job->baseDir = (doc->path().isEmpty() ? QDir::currentPath() : QFileInfo(doc->path()).absolutePath()).toStdString();
  weir::PreviewOptions o;
  o.rowsPerSource = rowsPerSource_;
  o.rowsPerEdge = rowsPerEdge_;
  error_.clear();
  watcher_.setFuture(QtConcurrent::run([job = std::move(*job), o] {
    try {
      return weir::previewToJson(weir::previewJob(job, o));
    } catch (const std::exception& e) {
      return json{{"ok", false}, {"error", e.what()}};
    }
  }));
  emit changed();
}

void DataPreview::clear() {
  preview_ = json();
  error_.clear();
  ++revision_;
  emit changed();
}

QVariantMap DataPreview::edgeTable(int edgeIndex) const {
  if (!available() || !preview_.contains("edges")) return {};
  for (const auto& e : preview_["edges"])
    if (e.value("edge", -1) == edgeIndex)
      return table(e, QString("preview: the first %1 records of each source, nothing written").arg(rowsPerSource_));
  return {};
}

QVariantMap DataPreview::nodeCounts(const QString& id) const {
  if (!available() || !preview_.contains("nodes")) return {};
  for (const auto& n : preview_["nodes"])
    if (n.value("id", "") == id.toStdString())
      return {{"recordsIn", n.value("records_in", 0LL)},
              {"recordsOut", n.value("records_out", 0LL)},
              {"deadLetters", n.value("dead_letters", 0LL)}};
  return {};
}

QVariantMap DataPreview::sampleTable(const json& sample) {
  const int subtasks = sample.value("subtasks", 0);
  return table(sample, QString("live: the latest records from %1 producing subtask(s), sampled").arg(subtasks));
}
