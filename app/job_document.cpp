#include "job_document.h"

#include <QFileInfo>
#include <QVariantMap>

#include "core/validate.h"

JobDocument::JobDocument(QObject* parent) : QObject(parent) {}

bool JobDocument::load(const QString& path) {
  path_ = QFileInfo(path).absoluteFilePath();
  name_.clear();
  nodes_.clear();
  edges_.clear();
  problems_.clear();

  weir::Diagnostics diags;
  auto job = weir::loadJobFile(path_.toStdString(), diags);
  if (!job) {
    for (const auto& d : diags) problems_ << QString::fromStdString(d.toString());
    emit loaded();
    return false;
  }
  const weir::ValidatedJob v = weir::validateJob(*job, diags);
  name_ = QString::fromStdString(job->name);
  QSet<QString> withProblems;
  for (const auto& d : diags) {
    problems_ << QString::fromStdString(d.toString());
    withProblems << QString::fromStdString(d.node);
  }
  for (std::size_t i = 0; i < job->nodes.size(); ++i) {
    const auto& n = job->nodes[i];
    QVariantMap m;
    m["id"] = QString::fromStdString(n.id);
    m["type"] = QString::fromStdString(n.type);
    // Nodes without a saved position are laid out left to right in file order.
    const bool placed = n.ui.is_object() && n.ui.contains("x") && n.ui.contains("y");
    m["x"] = placed ? n.ui["x"].get<double>() : 40.0 + 240.0 * static_cast<double>(i);
    m["y"] = placed ? n.ui["y"].get<double>() : 80.0;
    m["problem"] = withProblems.contains(m["id"].toString());
    QString schema;
    if (i < v.nodes.size() && !v.nodes[i].outputSchemas.empty() && v.nodes[i].outputSchemas[0])
      schema = QString::fromStdString(v.nodes[i].outputSchemas[0]->toString());
    m["schema"] = schema;
    nodes_ << m;
  }
  for (const auto& e : job->edges) {
    QVariantMap m;
    m["from"] = QString::fromStdString(e.from);
    m["fromPort"] = QString::fromStdString(e.fromPort);
    m["to"] = QString::fromStdString(e.to);
    m["toPort"] = QString::fromStdString(e.toPort);
    edges_ << m;
  }
  emit loaded();
  return true;
}
