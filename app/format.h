#pragma once
// Format: how the workbench writes live figures (rates, durations, event times, shares of
// a second), one implementation for the C++ models and QML (the singleton `Format`).

#include <QObject>
#include <QString>
#include <QtQml/qqmlregistration.h>

#include <cstdint>

class Format : public QObject {
  Q_OBJECT
  QML_ELEMENT
  QML_SINGLETON

 public:
  /// "950/s", "1.2k/s", "26k/s", "3.4M/s" (negative: 0).
  static QString rateText(double perSecond);
  /// "850 ms", "3.2 s", "45 s", "12 min", "5 h", "328 d" (of the absolute value).
  static QString durationText(double ms);
  /// An event time in UTC: "12:00:03" when it falls on the day of `nowMs`, else
  /// "2026-01-01 12:00:03".
  static QString timeText(std::int64_t ms, std::int64_t nowMs);
  /// Milliseconds per second as a whole percentage, clamped to 0..100 ("37%").
  static QString percentText(double msPerS);

  Q_INVOKABLE QString rate(double perSecond) const { return rateText(perSecond); }
  Q_INVOKABLE QString duration(double ms) const { return durationText(ms); }
  /// timeText against the current wall clock.
  Q_INVOKABLE QString time(double ms) const;
  Q_INVOKABLE QString percent(double msPerS) const { return percentText(msPerS); }
};
