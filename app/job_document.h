#pragma once
// JobDocument: the job file open in the workbench, as QML sees it. A thin Qt wrapper over
// the engine's job graph (core/job.h) and validation (core/validate.h); the workbench issue
// grows it into the editable graph model with an undo stack.

#include <QObject>
#include <QString>
#include <QStringList>
#include <QUrl>
#include <QVariantList>
#include <QtQml/qqmlregistration.h>

class JobDocument : public QObject {
  Q_OBJECT
  QML_ELEMENT

  Q_PROPERTY(QString path READ path NOTIFY loaded FINAL)
  Q_PROPERTY(QString name READ name NOTIFY loaded FINAL)
  /// [{id, type, x, y, inputs: [port], outputs: [port], schema: "a:int64, ..."}]
  Q_PROPERTY(QVariantList nodes READ nodes NOTIFY loaded FINAL)
  /// [{from, fromPort, to, toPort, partition}]
  Q_PROPERTY(QVariantList edges READ edges NOTIFY loaded FINAL)
  /// Every problem of the job, "node: path: message"; empty when it is valid.
  Q_PROPERTY(QStringList problems READ problems NOTIFY loaded FINAL)

 public:
  explicit JobDocument(QObject* parent = nullptr);

  QString path() const { return path_; }
  QString name() const { return name_; }
  QVariantList nodes() const { return nodes_; }
  QVariantList edges() const { return edges_; }
  QStringList problems() const { return problems_; }

  /// Loads and validates a job file; false (with problems set) when it cannot be read.
  Q_INVOKABLE bool load(const QString& path);

 signals:
  void loaded();

 private:
  QString path_, name_;
  QVariantList nodes_, edges_;
  QStringList problems_;
};
