#pragma once
// What the two daemons and the CLI share about their command lines: the cluster secret
// (a file or the environment), "--flag value" arguments with range-checked numbers,
// config files (--config F) that hold the same flags as a JSON object, and the daemons'
// TLS flags. Asio-free; each program keeps its own usage text (usageExit).

#include <string>
#include <vector>

namespace weir::net {
struct TlsFiles;
}

namespace weir::cluster {

/// The first line of a secret file, without trailing spaces or CR (DESIGN.md §2: a secret
/// file holds one line). Throws std::runtime_error when the file cannot be read; an empty
/// line is returned as it is (the daemons refuse it, the CLI then sends no token).
std::string readSecretLine(const std::string& file);

/// The cluster secret: the first line of `secretFile` when one is given (an empty line is
/// an error; secretFileWarnings go to stderr), otherwise the environment variable
/// WEIR_SECRET, otherwise "" (no secret).
std::string clusterSecret(const std::string& secretFile);

/// A secret shorter than this is accepted with a warning (docs/security.md).
constexpr std::size_t kMinSecretLength = 16;
/// Warning lines (each ending in a newline; "" when none) about a secret file: readable or
/// writable by group or others, or holding a secret shorter than kMinSecretLength.
std::string secretFileWarnings(const std::string& file, const std::string& secret);

/// Walks the arguments: `while (args.next())` then compare args.flag() and take values.
/// `--config FILE` (anywhere on the line) reads FILE, a JSON object whose keys are flag
/// names without the dashes and whose values are strings, numbers or booleans
/// ({"bind": "0.0.0.0", "api-port": 8081}); those flags come first, so the command line
/// overrides the file. Problems go to `usageExit`, which prints the program's usage and
/// does not return; a flag from a config file is named with the file ("--api-port (from
/// weir.json)").
class DaemonArgs {
 public:
  using UsageExit = void (*)(const std::string& why);
  DaemonArgs(int argc, char** argv, UsageExit usageExit);

  bool next();
  const std::string& flag() const { return flag_; }
  /// The argument after the flag ("--bind needs a value" when there is none).
  std::string value();
  /// value() as a whole number in [lo, hi].
  int number(int lo, int hi);
  /// For messages: the flag, and the config file it came from if any.
  std::string where() const;

 private:
  struct Token {
    std::string text;
    std::string origin;  // the config file, or empty for the command line
  };
  std::vector<Token> tokens_;
  UsageExit usageExit_;
  std::size_t i_ = 0;  // index of the next token
  std::string flag_;
  std::string origin_;
};

/// The TLS flags both daemons take (net/tls.h): when args.flag() is --tls-cert, --tls-key
/// or --tls-ca, takes its value into `tls` and returns true; otherwise returns false and
/// takes nothing. Whether the files make a usable configuration is checkTlsFiles' job.
bool takeTlsFlag(DaemonArgs& args, net::TlsFiles& tls);

}  // namespace weir::cluster
