#include "format.h"

#include <QDateTime>
#include <QDir>
#include <QFileInfo>
#include <QKeySequence>
#include <QLocale>
#include <QRegularExpression>


#include <algorithm>
#include <cmath>

QString Format::rateText(double v) {
  v = std::max(0.0, v);
  if (v >= 1e6) return QString::number(v / 1e6, 'f', v >= 1e7 ? 0 : 1) + "M/s";
  if (v >= 1e3) return QString::number(v / 1e3, 'f', v >= 1e4 ? 0 : 1) + "k/s";
  return QString::number(v, 'f', v >= 10 || v == 0 ? 0 : 1) + "/s";
}

QString Format::durationText(double ms) {
  ms = std::abs(ms);
  const double s = ms / 1000;
  if (s < 1) return QString::number(std::llround(ms)) + " ms";
  if (s < 120) return QString::number(s, 'f', s < 10 ? 1 : 0) + " s";
  if (s < 7200) return QString::number(std::llround(s / 60)) + " min";
  if (s < 172800) return QString::number(std::llround(s / 3600)) + " h";
  return QString::number(std::llround(s / 86400)) + " d";
}

QString Format::bytesText(double bytes) {
  if (bytes < 1024) return QString::number(static_cast<qint64>(bytes)) + " B";
  const char* units[] = {"KB", "MB", "GB", "TB"};
  double v = bytes / 1024;
  int u = 0;
  while (v >= 1024 && u < 3) {
    v /= 1024;
    ++u;
  }
  return QString::number(v, 'f', 1) + " " + units[u];
}

QString Format::timeText(std::int64_t ms, std::int64_t nowMs) {
  if (ms >= endOfInputMs) return QStringLiteral("end of input");
  const QDateTime t = QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC);
  const QDateTime now = QDateTime::fromMSecsSinceEpoch(nowMs, Qt::UTC);
  return t.date() == now.date() ? t.toString("HH:mm:ss") : t.toString("yyyy-MM-dd HH:mm:ss");
}

QString Format::time(double ms) const {
  return timeText(static_cast<std::int64_t>(ms), QDateTime::currentMSecsSinceEpoch());
}

QString Format::percentText(double msPerS) {
  return QString::number(std::llround(std::clamp(msPerS, 0.0, 1000.0) / 10)) + "%";
}

QString Format::countText(double n) {
  QLocale c(QLocale::English);
  return c.toString(static_cast<qlonglong>(std::llround(n)));
}

QString Format::shortcutText(const QVariant& sequence) {
  if (sequence.typeId() == QMetaType::QString) return QKeySequence(sequence.toString()).toString(QKeySequence::NativeText);
  bool isNumber = false;
  const int key = sequence.toInt(&isNumber);
  if (!isNumber) return {};
  const auto list = QKeySequence::keyBindings(static_cast<QKeySequence::StandardKey>(key));
  return list.isEmpty() ? QString() : list.front().toString(QKeySequence::NativeText);
}

QString Format::causeText(const QString& message) {
  static const QRegularExpression subtask(QStringLiteral("^[^\\s:\\[]+\\[\\d+/\\d+\\]: "));
  static const QRegularExpression where(QStringLiteral(" \\(on [^()]+\\)$"));
  QString m = message;
  m.remove(subtask);
  m.remove(where);
  return m;
}

QString Format::pathLabel(const QString& path, int max) {
  const QFileInfo fi(path);
  QString folder = fi.path();
  const QString home = QDir::homePath();
  if (!home.isEmpty() && (folder == home || folder.startsWith(home + "/"))) folder = "~" + folder.mid(home.size());
  const QString name = fi.fileName();
  const int room = std::max(8, max - static_cast<int>(name.size()) - 3);
  if (folder.size() > room) {
    const int keep = room - 1;
    folder = folder.left(keep / 2) + QStringLiteral("…") + folder.right(keep - keep / 2);
  }
  return name + QStringLiteral(" — ") + folder;
}
