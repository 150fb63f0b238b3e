#include "cluster/daemon_args.h"

#include <fstream>
#include <stdexcept>

namespace weir::cluster {

std::string readSecretLine(const std::string& file) {
  std::ifstream in(file);
  if (!in) throw std::runtime_error("cannot read secret file " + file);
  std::string line;
  std::getline(in, line);
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  return line;
}

std::string DaemonArgs::value() {
  if (i_ + 1 >= argc_) usageExit_(flag_ + " needs a value");
  return argv_[++i_];
}

int DaemonArgs::number(int lo, int hi) {
  const std::string v = value();
  try {
    std::size_t n = 0;
    const int x = std::stoi(v, &n);
    if (n == v.size() && x >= lo && x <= hi) return x;
  } catch (...) {
  }
  usageExit_(flag_ + " must be a whole number from " + std::to_string(lo) + " to " + std::to_string(hi) +
             ", not '" + v + "'");
  return lo;  // not reached: usageExit does not return
}

}  // namespace weir::cluster
