#pragma once
// Format: how the workbench writes live figures (rates, durations, event times, shares of
// a second), one implementation for the C++ models and QML (the singleton `Format`).

#include <QObject>
#include <QString>
#include <QVariant>
#include <QtQml/qqmlregistration.h>

#include <cstdint>

class Format : public QObject {
  Q_OBJECT
  QML_ELEMENT
  QML_SINGLETON

 public:
  /// Watermarks at or above this (year 10000) mean "end of input" (the engine's is INT64_MAX).
  static constexpr std::int64_t endOfInputMs = 253402300800000LL;
  /// "950/s", "1.2k/s", "26k/s", "3.4M/s" (negative: 0).
  static QString rateText(double perSecond);
  /// "850 ms", "3.2 s", "45 s", "12 min", "5 h", "328 d" (of the absolute value).
  static QString durationText(double ms);
  /// An event time in UTC: "12:00:03" when it falls on the day of `nowMs`, else
  /// "2026-01-01 12:00:03"; "end of input" for the end-of-input watermark (year 10000 on).
  static QString timeText(std::int64_t ms, std::int64_t nowMs);
  /// Milliseconds per second as a whole percentage, clamped to 0..100 ("37%").
  static QString percentText(double msPerS);
  /// A count with thousands separators ("41,230"), whole.
  static QString countText(double n);
  /// A size: "512 B", "5.0 KB", "58.8 KB", "3.4 MB", "1.2 GB" (units of 1024).
  static QString bytesText(double bytes);
  /// A key sequence as the menus write it ("Ctrl+O"): a string, or a QKeySequence::StandardKey
  /// (its first binding on this platform).
  static QString shortcutText(const QVariant& sequence);

  Q_INVOKABLE QString rate(double perSecond) const { return rateText(perSecond); }
  Q_INVOKABLE QString duration(double ms) const { return durationText(ms); }
  /// timeText against the current wall clock.
  Q_INVOKABLE QString time(double ms) const;
  Q_INVOKABLE QString percent(double msPerS) const { return percentText(msPerS); }
  Q_INVOKABLE QString count(double n) const { return countText(n); }
  Q_INVOKABLE QString bytes(double n) const { return bytesText(n); }
  /// An exception's message without what the card already says: the leading "node[i/n]: "
  /// and the trailing " (on taskmanager)".
  Q_INVOKABLE QString cause(const QString& message) const { return causeText(message); }
  static QString causeText(const QString& message);
  /// A file for a menu: "name.weir.json — ~/jobs/…/folder", the folder cut in the middle so
  /// that the whole text has at most `max` characters.
  Q_INVOKABLE QString pathText(const QString& path, int max) const { return pathLabel(path, max); }
  static QString pathLabel(const QString& path, int max);
  Q_INVOKABLE QString shortcut(const QVariant& sequence) const { return shortcutText(sequence); }
};
