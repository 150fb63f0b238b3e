#include "cluster/daemon_args.h"

#include "core/json_limits.h"
#include "core/text.h"
#include "net/tls.h"

#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace weir::cluster {

std::string readSecretLine(const std::string& file) {
  std::ifstream in(file);
  if (!in) throw std::runtime_error("cannot read secret file " + file);
  std::string line;
  std::getline(in, line);
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  return line;
}

std::string secretFileWarnings(const std::string& file, const std::string& secret) {
  std::string out;
  struct stat st {};
  if (::stat(file.c_str(), &st) == 0 && (st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    out += "warning: secret file " + file + " is readable by others (mode " + mode + "); chmod 600 it\n";
  }
  if (secret.size() < kMinSecretLength)
    out += "warning: the secret in " + file + " is only " + std::to_string(secret.size()) + " characters; use at least " +
           std::to_string(kMinSecretLength) + " (openssl rand -hex 32 makes one)\n";
  return out;
}

std::string clusterSecret(const std::string& secretFile) {
  if (!secretFile.empty()) {
    std::string line = readSecretLine(secretFile);
    if (line.empty()) throw std::runtime_error("secret file " + secretFile + " is empty");
    std::fputs(secretFileWarnings(secretFile, line).c_str(), stderr);
    return line;
  }
  const char* env = std::getenv("WEIR_SECRET");
  return env ? env : "";
}

namespace {

/// The flags of a config file, in the file's key order, as "--key value" tokens.
std::vector<std::string> configTokens(const std::string& file, DaemonArgs::UsageExit usageExit) {
  std::ifstream in(file, std::ios::binary);
  if (!in) usageExit("cannot read config file " + file);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  nlohmann::ordered_json j;
  if (std::string deep = jsonDepthError(text); !deep.empty()) usageExit("config file " + file + ": " + deep);
  try {
    j = nlohmann::ordered_json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    usageExit("config file " + file + ": not JSON: " + toValidUtf8(e.what()));
  }
  if (!j.is_object()) usageExit("config file " + file + ": expected a JSON object of flags");
  std::vector<std::string> out;
  for (const auto& [key, v] : j.items()) {
    if (key.empty() || key.starts_with("-") || key == "config")
      usageExit("config file " + file + ": '" + key + "' is not a flag name (write \"api-port\", not \"--api-port\")");
    out.push_back("--" + key);
    if (v.is_string()) out.push_back(v.get<std::string>());
    else if (v.is_number_integer()) out.push_back(std::to_string(v.get<long long>()));
    else if (v.is_boolean()) out.push_back(v.get<bool>() ? "true" : "false");
    else usageExit("config file " + file + ": '" + key + "' must be a string, a whole number or a boolean");
  }
  return out;
}

}  // namespace

DaemonArgs::DaemonArgs(int argc, char** argv, UsageExit usageExit) : usageExit_(usageExit) {
  std::vector<Token> line;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--config") {
      if (i + 1 >= argc) usageExit_("--config needs a value");
      const std::string file = argv[++i];
      for (auto& t : configTokens(file, usageExit_)) tokens_.push_back({std::move(t), file});
    } else {
      line.push_back({a, ""});
    }
  }
  for (auto& t : line) tokens_.push_back(std::move(t));
}

bool DaemonArgs::next() {
  if (i_ >= tokens_.size()) return false;
  flag_ = tokens_[i_].text;
  origin_ = tokens_[i_].origin;
  ++i_;
  return true;
}

std::string DaemonArgs::where() const { return origin_.empty() ? flag_ : flag_ + " (from " + origin_ + ")"; }

std::string DaemonArgs::value() {
  if (i_ >= tokens_.size()) usageExit_(where() + " needs a value");
  return tokens_[i_++].text;
}

int DaemonArgs::number(int lo, int hi) {
  const std::string v = value();
  try {
    std::size_t n = 0;
    const int x = std::stoi(v, &n);
    if (n == v.size() && x >= lo && x <= hi) return x;
  } catch (...) {
  }
  usageExit_(where() + " must be a whole number from " + std::to_string(lo) + " to " + std::to_string(hi) +
             ", not '" + v + "'");
  return lo;  // not reached: usageExit does not return
}

bool takeTlsFlag(DaemonArgs& args, net::TlsFiles& tls) {
  const std::string& a = args.flag();
  if (a == "--tls-cert") tls.cert = args.value();
  else if (a == "--tls-key") tls.key = args.value();
  else if (a == "--tls-ca") tls.ca = args.value();
  else return false;
  return true;
}

}  // namespace weir::cluster
