#pragma once
// What the two daemons and the CLI share about their command lines: reading the cluster
// secret file, and walking "--flag value" arguments with range-checked numbers.
// Asio-free; each program keeps its own usage text (usageExit).

#include <string>

namespace weir::cluster {

/// The first line of a secret file, without trailing spaces or CR (DESIGN.md §2: a secret
/// file holds one line). Throws std::runtime_error when the file cannot be read; an empty
/// line is returned as it is (the daemons refuse it, the CLI then sends no token).
std::string readSecretLine(const std::string& file);

/// Walks argv[1..]: `while (args.next())` then compare args.flag() and take values.
/// Problems go to `usageExit`, which prints the program's usage and does not return.
class DaemonArgs {
 public:
  using UsageExit = void (*)(const std::string& why);
  DaemonArgs(int argc, char** argv, UsageExit usageExit) : argc_(argc), argv_(argv), usageExit_(usageExit) {}

  bool next() {
    if (++i_ >= argc_) return false;
    flag_ = argv_[i_];
    return true;
  }
  const std::string& flag() const { return flag_; }
  /// The argument after the flag ("--bind needs a value" when there is none).
  std::string value();
  /// value() as a whole number in [lo, hi].
  int number(int lo, int hi);

 private:
  int argc_;
  char** argv_;
  UsageExit usageExit_;
  int i_ = 0;
  std::string flag_;
};

}  // namespace weir::cluster
