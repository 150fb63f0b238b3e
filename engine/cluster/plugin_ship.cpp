#include "cluster/plugin_ship.h"

#include <openssl/evp.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "core/file_util.h"
#include "core/plugin.h"

namespace weir::cluster {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

bool readFile(const fs::path& path, std::string& bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  bytes = std::move(ss).str();
  return static_cast<bool>(in) || in.eof();
}

std::string base64Encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::string base64Decode(std::string_view text) {
  if (text.size() % 4 != 0) throw std::runtime_error("data is not base64");
  std::string out(3 * (text.size() / 4), '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) throw std::runtime_error("data is not base64");
  std::size_t size = static_cast<std::size_t>(n);
  // EVP_DecodeBlock counts the padding's zero bytes.
  if (!text.empty() && text.back() == '=') --size;
  if (text.size() >= 2 && text[text.size() - 2] == '=') --size;
  out.resize(size);
  return out;
}

bool isHash(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

}  // namespace

std::string sha256Hex(std::string_view bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), md, &len, EVP_sha256(), nullptr);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += hex[md[i] >> 4];
    out += hex[md[i] & 15];
  }
  return out;
}

std::string collectPlugins(JobPlan& plan, std::map<std::string, PluginBlob>& blobs) {
  for (PlanNode& n : plan.nodes) {
    if (n.type != "udf") continue;
    std::string error;
    const auto path = findPlugin(n.params.value("plugin", ""), plan.baseDir, error);
    if (!path) return n.id + ": plugin: " + error;
    PluginBlob blob;
    if (!readFile(*path, blob.bytes)) return n.id + ": plugin: cannot read " + path->string();
    if (blob.bytes.size() > kMaxPluginBytes)
      return n.id + ": plugin: " + path->string() + " is " + std::to_string(blob.bytes.size()) +
             " bytes; at most " + std::to_string(kMaxPluginBytes) + " travel with a deployment";
    blob.sha256 = sha256Hex(blob.bytes);
    blob.name = path->filename().string();
    n.params["_plugin_sha256"] = blob.sha256;
    blobs.emplace(blob.sha256, std::move(blob));
  }
  return "";
}

json pluginToJson(const PluginBlob& blob) {
  return {{"sha256", blob.sha256}, {"name", blob.name}, {"size", blob.bytes.size()}, {"data", base64Encode(blob.bytes)}};
}

void installPlugins(JobPlan& plan, const json& shipped, const fs::path& cacheDir) {
  std::error_code ec;
  if (shipped.is_array() && !shipped.empty()) {
    fs::create_directories(cacheDir, ec);
    if (ec) throw std::runtime_error("cannot create the plugin cache " + cacheDir.string() + ": " + ec.message());
  }
  if (shipped.is_array())
    for (const json& p : shipped) {
      const std::string sha = p.value("sha256", "");
      const std::string name = p.value("name", "?");
      if (!isHash(sha)) throw std::runtime_error("plugin " + name + ": '" + sha + "' is not a SHA-256");
      const std::string bytes = base64Decode(p.value("data", ""));
      const std::string actual = sha256Hex(bytes);
      if (actual != sha)
        throw std::runtime_error("plugin " + name + ": the bytes received hash to " + actual + ", not " + sha +
                                 "; refusing to load it");
      const fs::path target = cacheDir / (sha + ".so");
      if (fs::exists(target, ec)) continue;
      // Written atomically: a concurrent deployment never sees half a file.
      try {
        writeFileAtomically(target, bytes);
      } catch (const std::exception& e) {
        throw std::runtime_error("plugin " + name + ": " + e.what());
      }
    }
  for (PlanNode& n : plan.nodes) {
    if (n.type != "udf") continue;
    const std::string sha = n.params.value("_plugin_sha256", "");
    const std::string name = n.params.value("plugin", "");
    if (!isHash(sha))
      throw std::runtime_error(n.id + ": plugin " + name + " came without its SHA-256 (a JobManager of another version?)");
    const fs::path file = cacheDir / (sha + ".so");
    std::string bytes;
    if (!readFile(file, bytes))
      throw std::runtime_error(n.id + ": plugin " + name + " (" + sha + ") was not shipped and is not in " + cacheDir.string());
    const std::string actual = sha256Hex(bytes);
    if (actual != sha)
      throw std::runtime_error(n.id + ": plugin " + name + ": the cached " + file.string() + " hashes to " + actual +
                               ", not its name; refusing to load it");
    n.params["_library"] = fs::absolute(file).string();
  }
}

std::vector<std::string> cachedPluginHashes(const fs::path& cacheDir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (fs::directory_iterator it(cacheDir, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path& p = it->path();
    if (p.extension() == ".so" && isHash(p.stem().string())) out.push_back(p.stem().string());
  }
  return out;
}

}  // namespace weir::cluster
