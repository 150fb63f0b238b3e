#include "catalog_model.h"

#include "json_util.h"

using wb::qs;

CatalogModel::CatalogModel(QObject* parent) : CatalogModel(&weir::Catalog::builtin(), parent) {}

CatalogModel::CatalogModel(const weir::Catalog* catalog, QObject* parent)
    : QAbstractListModel(parent), catalog_(catalog) {
  rebuild();
}

void CatalogModel::rebuild() {
  rows_.clear();
  const QString f = filter_.trimmed();
  for (auto category : {weir::OperatorCategory::Source, weir::OperatorCategory::Transform,
                        weir::OperatorCategory::Sink})
    for (const weir::OperatorSpec& s : catalog_->operators()) {
      if (s.category != category) continue;
      if (!f.isEmpty() && !qs(s.type).contains(f, Qt::CaseInsensitive) &&
          !qs(s.title).contains(f, Qt::CaseInsensitive) && !qs(s.doc).contains(f, Qt::CaseInsensitive))
        continue;
      rows_.push_back(&s);
    }
}

void CatalogModel::setFilter(const QString& f) {
  if (f == filter_) return;
  beginResetModel();
  filter_ = f;
  rebuild();
  endResetModel();
  emit filterChanged();
  emit countChanged();
}

int CatalogModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(rows_.size());
}

QHash<int, QByteArray> CatalogModel::roleNames() const {
  return {{TypeRole, "type"},     {TitleRole, "title"},         {CategoryRole, "category"},
          {CategoryTitleRole, "categoryTitle"}, {DocRole, "doc"}, {OutputDocRole, "outputDoc"},
          {InputsRole, "inputs"}, {OutputsRole, "outputs"},     {ParamsRole, "params"}};
}

QVariant CatalogModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() < 0 || index.row() >= rowCount()) return {};
  const weir::OperatorSpec& s = *rows_[static_cast<std::size_t>(index.row())];
  auto names = [](const auto& list) {
    QStringList l;
    for (const auto& p : list) l << qs(p.name);
    return l;
  };
  switch (role) {
    case TypeRole: return qs(s.type);
    case TitleRole: return qs(s.title);
    case CategoryRole: return qs(std::string(weir::categoryName(s.category)));
    case CategoryTitleRole:
      return s.category == weir::OperatorCategory::Source    ? tr("Sources")
             : s.category == weir::OperatorCategory::Transform ? tr("Transforms")
                                                               : tr("Sinks");
    case DocRole: return qs(s.doc);
    case OutputDocRole: return qs(s.outputDoc);
    case InputsRole: return names(s.inputs);
    case OutputsRole: return names(s.outputs);
    case ParamsRole: return names(s.params);
    default: return {};
  }
}

QVariantMap CatalogModel::get(const QString& type) const {
  for (std::size_t i = 0; i < rows_.size(); ++i)
    if (qs(rows_[i]->type) == type) {
      QVariantMap m;
      const auto roles = roleNames();
      for (auto it = roles.begin(); it != roles.end(); ++it)
        m.insert(QString::fromUtf8(it.value()), data(index(static_cast<int>(i)), it.key()));
      return m;
    }
  return {};
}

QStringList CatalogModel::types() const {
  QStringList l;
  for (const auto* s : rows_) l << qs(s->type);
  return l;
}
