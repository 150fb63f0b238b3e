#include "format.h"

#include <QDateTime>


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

QString Format::timeText(std::int64_t ms, std::int64_t nowMs) {
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
