#pragma once
// Shipping plugin libraries with a deployment (docs/plugins.md, "Shipping"; docs/protocol.md).
//
// At submission the JobManager finds the library of every udf node (core/plugin.h, against
// the job's base_dir), reads it and marks the node with `_plugin_sha256`. The deploy
// message to a TaskManager carries, in "plugins", each library the TaskManager has not got
// yet (it lists the hashes in its cache when it registers): {"sha256", "name", "size",
// "data" (base64)}. The TaskManager writes each one to <data dir>/plugin-cache/<sha256>.so
// after checking that the bytes hash to the name, checks the cached file of every hash
// the plan needs again before use, and points the node's `_library` param at it. So a
// TaskManager loads only bytes whose hash the JobManager chose, never a library found on
// its own search path; any mismatch refuses the deployment with the reason.

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/plan.h"

namespace weir::cluster {

struct PluginBlob {
  std::string sha256;  // lowercase hex of the library's bytes
  std::string name;    // the file name it was found as ("libweir_example.so")
  std::string bytes;
};

/// The largest library that may travel: base64 makes it 4/3 bigger, and a deploy message
/// (one control frame, cluster/control.h) holds at most 16 MiB with the plan.
inline constexpr std::size_t kMaxPluginBytes = 8u << 20;

/// SHA-256 of `bytes` as 64 lowercase hex digits.
std::string sha256Hex(std::string_view bytes);

/// JobManager, at submission: reads the library of each udf node of `plan` into `blobs`
/// (by hash) and sets the node's `_plugin_sha256`. "" when done, else why not, naming
/// the node ("m: plugin: ...").
std::string collectPlugins(JobPlan& plan, std::map<std::string, PluginBlob>& blobs);

/// One blob as the deploy message's "plugins" entry.
nlohmann::json pluginToJson(const PluginBlob& blob);

/// TaskManager, at deployment: stores the shipped plugins (the deploy message's "plugins"
/// array) in `cacheDir`, checks the cached library of each udf node's `_plugin_sha256` and
/// sets the node's `_library` to it. Throws std::runtime_error with the reason ("plugin
/// libweir_example.so: the bytes received hash to ..., not ...").
void installPlugins(JobPlan& plan, const nlohmann::json& shipped, const std::filesystem::path& cacheDir);

/// The hashes of the libraries in `cacheDir` (from their file names), for the register message.
std::vector<std::string> cachedPluginHashes(const std::filesystem::path& cacheDir);

}  // namespace weir::cluster
