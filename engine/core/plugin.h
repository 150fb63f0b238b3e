#pragma once
// Operator plugins (docs/plugins.md): finding, loading and asking a plugin library of the
// C ABI in plugins/weir_plugin.h. Used by validation (the `udf` node's output schema comes
// from the plugin) and by the runtime's udf operator.
//
// Loading: dlopen(RTLD_NOW | RTLD_LOCAL), then weir_plugin_v1() and an ABI version check.
// A library is loaded once per process and path and never unloaded (operators, states and
// function pointers may outlive any one job); loading is thread-safe. Plugins run in the
// process: a crash in plugin code cannot be caught.

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/schema.h"
#include "../../plugins/weir_plugin.h"  // the SDK header, beside the engine (no include path)

namespace weir {

class PluginLibrary {
 public:
  /// Loads (or returns the already loaded) library at `path`; nullptr with `error` set
  /// ("cannot load ...: <dlerror>", "... is not a Weir plugin (no weir_plugin_v1)",
  /// "... was built for plugin ABI 2; this engine loads ABI 1").
  static std::shared_ptr<const PluginLibrary> load(const std::filesystem::path& path, std::string& error);

  const std::string& name() const { return name_; }
  const std::string& version() const { return version_; }
  const std::filesystem::path& path() const { return path_; }
  /// The function of that name, or nullptr.
  const weir_function* function(std::string_view name) const;
  std::vector<std::string> functionNames() const;

  PluginLibrary(std::filesystem::path path, const weir_plugin* table);

 private:
  std::filesystem::path path_;
  const weir_plugin* table_;
  std::string name_, version_;
};

/// Where the `plugin` param of a udf node points. A value with a '/' (or ending in ".so")
/// is a path, relative to `baseDir`; a name is looked up as lib<name>.so, then <name>.so,
/// in: baseDir/plugins, each folder of $WEIR_PLUGIN_PATH (':'-separated), and the plugins
/// folder beside the running program's (<program dir>/../plugins, <program dir>/plugins).
/// nullopt with `error` naming the folders searched.
std::optional<std::filesystem::path> findPlugin(const std::string& plugin, const std::filesystem::path& baseDir,
                                                std::string& error);

/// The folders findPlugin searches for a name, in order.
std::vector<std::filesystem::path> pluginSearchPath(const std::filesystem::path& baseDir);

/// The input schema as the C ABI sees it; valid while `schema` lives.
class PluginSchemaView {
 public:
  explicit PluginSchemaView(const Schema& schema);
  const weir_schema* get() const { return &view_; }

 private:
  std::vector<weir_field> fields_;
  weir_schema view_{};
};

/// Asks `fn` for its output schema given `input` and the node's params; nullptr with
/// `error` set to the plugin's message when it refuses.
SchemaPtr pluginOutputSchema(const weir_function& fn, const Schema& input, const nlohmann::json& params,
                             std::string& error);

}  // namespace weir
