#pragma once
// CatalogModel: the operator palette, generated from the engine's catalog
// (weir::Catalog::builtin(), plugins included once they register there). One row per
// operator type, grouped by category (source, transform, sink) in catalog order, narrowed
// by `filter` (matched against type, title and doc).

#include <QAbstractListModel>
#include <QtQml/qqmlregistration.h>

#include <vector>

#include "core/catalog.h"

class CatalogModel : public QAbstractListModel {
  Q_OBJECT
  QML_ELEMENT
  Q_PROPERTY(QString filter READ filter WRITE setFilter NOTIFY filterChanged FINAL)
  Q_PROPERTY(int count READ rowCount NOTIFY countChanged FINAL)

 public:
  enum Role {
    TypeRole = Qt::UserRole + 1,  // "type": "source.file"
    TitleRole,                    // "title": "File source"
    CategoryRole,                 // "category": source / transform / sink
    CategoryTitleRole,            // "categoryTitle": "Sources", "Transforms", "Sinks"
    DocRole,                      // "doc"
    OutputDocRole,                // "outputDoc"
    InputsRole,                   // "inputs": port names
    OutputsRole,                  // "outputs"
    ParamsRole,                   // "params": param names
  };
  Q_ENUM(Role)

  explicit CatalogModel(QObject* parent = nullptr);
  /// A model over another catalog (tests, plugins).
  explicit CatalogModel(const weir::Catalog* catalog, QObject* parent = nullptr);

  int rowCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  QHash<int, QByteArray> roleNames() const override;

  QString filter() const { return filter_; }
  void setFilter(const QString& f);

  /// The row's roles as a map, by type ({} when unknown).
  Q_INVOKABLE QVariantMap get(const QString& type) const;
  Q_INVOKABLE QStringList types() const;

 signals:
  void filterChanged();
  void countChanged();

 private:
  void rebuild();
  const weir::Catalog* catalog_;
  QString filter_;
  std::vector<const weir::OperatorSpec*> rows_;
};
