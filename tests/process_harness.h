#pragma once
// What the suites that start real processes share: a free loopback port, waiting for a
// condition with a deadline (no timing assertions: only a generous upper bound), and
// whether a process still runs.

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QtTest>

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <functional>
#include <string>

namespace weir::test {

/// A loopback port nobody listens on right now.
inline int freePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  const int port = ntohs(a.sin_port);
  ::close(fd);
  return port;
}

/// Polls `cond` (processing events meanwhile) until it holds or `ms` have passed.
inline bool waitUntil(const std::function<bool()>& cond, int ms = 60000) {
  QElapsedTimer t;
  t.start();
  while (t.elapsed() < ms) {
    if (cond()) return true;
    QTest::qWait(100);
  }
  return cond();
}

/// Whether process `pid` runs (a zombie has ended).
inline bool pidAlive(pid_t pid) {
  if (::kill(pid, 0) != 0) return false;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string s;
  std::getline(stat, s);
  const auto p = s.rfind(')');
  return !(p != std::string::npos && p + 2 < s.size() && s[p + 2] == 'Z');
}

/// Every line of every file in `dir` whose name matches `pattern` (a job's part files,
/// "q1*.jsonl"), sorted.
inline QStringList sortedFileLines(const QString& dir, const QString& pattern) {
  QStringList lines;
  for (const auto& f : QDir(dir).entryInfoList({pattern}, QDir::Files)) {
    QFile file(f.absoluteFilePath());
    if (!file.open(QIODevice::ReadOnly)) continue;
    for (const auto& l : QString::fromUtf8(file.readAll()).split('\n', Qt::SkipEmptyParts)) lines << l;
  }
  lines.sort();
  return lines;
}

/// Writes `jobText` to <base>/<folder>/job.weir.json (the folder is made); its path.
inline QString writeJobFile(const QString& base, const QString& folder, const std::string& jobText) {
  QDir(base).mkpath(folder);
  const QString path = base + "/" + folder + "/job.weir.json";
  std::ofstream(path.toStdString()) << jobText;
  return path;
}

}  // namespace weir::test
