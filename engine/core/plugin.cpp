#include "core/plugin.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <map>
#include <mutex>

namespace weir {
namespace fs = std::filesystem;

PluginLibrary::PluginLibrary(fs::path path, const weir_plugin* table)
    : path_(std::move(path)), table_(table), name_(table->name ? table->name : ""),
      version_(table->version ? table->version : "") {}

std::shared_ptr<const PluginLibrary> PluginLibrary::load(const fs::path& path, std::string& error) {
  static std::mutex mu;
  static std::map<fs::path, std::shared_ptr<const PluginLibrary>> loaded;
  std::error_code ec;
  fs::path key = fs::weakly_canonical(path, ec);
  if (ec) key = path;
  std::lock_guard lock(mu);
  if (auto it = loaded.find(key); it != loaded.end()) return it->second;
  if (!fs::exists(key, ec)) {
    error = "cannot load " + path.string() + ": no such file";
    return nullptr;
  }
  void* handle = ::dlopen(key.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* why = ::dlerror();
    error = "cannot load " + path.string() + ": " + (why ? why : "unknown error");
    return nullptr;
  }
  auto entry = reinterpret_cast<weir_plugin_entry>(::dlsym(handle, WEIR_PLUGIN_ENTRY));
  if (!entry) {
    ::dlclose(handle);
    error = path.string() + " is not a Weir plugin (it exports no " WEIR_PLUGIN_ENTRY ")";
    return nullptr;
  }
  const weir_plugin* table = entry();
  if (!table) {
    error = path.string() + ": " WEIR_PLUGIN_ENTRY "() returned no table";
    return nullptr;
  }
  if (table->abi_version != WEIR_PLUGIN_ABI_VERSION) {
    error = path.string() + " was built for plugin ABI " + std::to_string(table->abi_version) +
            "; this engine loads ABI " + std::to_string(WEIR_PLUGIN_ABI_VERSION) + " (rebuild it against this weir_plugin.h)";
    return nullptr;  // the handle stays open: its code may not be safe to unload
  }
  auto lib = std::make_shared<const PluginLibrary>(key, table);
  loaded.emplace(key, lib);
  return lib;
}

const weir_function* PluginLibrary::function(std::string_view name) const {
  for (std::size_t i = 0; i < table_->num_functions; ++i)
    if (table_->functions[i].name && name == table_->functions[i].name) return &table_->functions[i];
  return nullptr;
}

std::vector<std::string> PluginLibrary::functionNames() const {
  std::vector<std::string> names;
  for (std::size_t i = 0; i < table_->num_functions; ++i)
    if (table_->functions[i].name) names.emplace_back(table_->functions[i].name);
  return names;
}

std::vector<fs::path> pluginSearchPath(const fs::path& baseDir) {
  std::vector<fs::path> dirs;
  if (!baseDir.empty()) dirs.push_back(baseDir / "plugins");
  if (const char* env = std::getenv("WEIR_PLUGIN_PATH")) {
    std::string_view s = env;
    while (!s.empty()) {
      const auto colon = s.find(':');
      const std::string_view part = s.substr(0, colon);
      if (!part.empty()) dirs.emplace_back(std::string(part));
      if (colon == std::string_view::npos) break;
      s.remove_prefix(colon + 1);
    }
  }
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    dirs.push_back(exe.parent_path().parent_path() / "plugins");
    dirs.push_back(exe.parent_path() / "plugins");
  }
  return dirs;
}

std::optional<fs::path> findPlugin(const std::string& plugin, const fs::path& baseDir, std::string& error) {
  if (plugin.empty()) {
    error = "must not be empty";
    return std::nullopt;
  }
  std::error_code ec;
  if (plugin.find('/') != std::string::npos || plugin.ends_with(".so")) {
    fs::path p = plugin;
    if (p.is_relative() && !baseDir.empty()) p = baseDir / p;
    if (fs::is_regular_file(p, ec)) return p;
    error = "no plugin library at " + p.string();
    return std::nullopt;
  }
  std::string searched;
  for (const fs::path& dir : pluginSearchPath(baseDir)) {
    for (const std::string& file : {"lib" + plugin + ".so", plugin + ".so"})
      if (fs::is_regular_file(dir / file, ec)) return dir / file;
    searched += (searched.empty() ? "" : ", ") + dir.lexically_normal().string();
  }
  error = "no plugin named '" + plugin + "' (looked for lib" + plugin + ".so and " + plugin + ".so in " + searched +
          ")";
  return std::nullopt;
}

PluginSchemaView::PluginSchemaView(const Schema& schema) {
  fields_.reserve(schema.size());
  for (const Field& f : schema.fields()) fields_.push_back({f.name.c_str(), static_cast<std::int32_t>(f.type)});
  view_ = {fields_.data(), fields_.size()};
}

namespace {
struct SchemaCollector {
  std::vector<Field> fields;
  std::string error;
  static void add(void* host, const char* name, std::int32_t type) {
    auto* self = static_cast<SchemaCollector*>(host);
    if (!name || !*name) {
      if (self->error.empty()) self->error = "the plugin declared an output field without a name";
      return;
    }
    if (type < 0 || type > static_cast<std::int32_t>(Type::Timestamp)) {
      if (self->error.empty()) self->error = std::string("the plugin declared field '") + name + "' with unknown type " + std::to_string(type);
      return;
    }
    for (const Field& f : self->fields)
      if (f.name == name && self->error.empty()) self->error = std::string("the plugin declared field '") + name + "' twice";
    self->fields.push_back({name, static_cast<Type>(type)});
  }
};
}  // namespace

SchemaPtr pluginOutputSchema(const weir_function& fn, const Schema& input, const nlohmann::json& params,
                             std::string& error) {
  PluginSchemaView in(input);
  SchemaCollector out;
  const weir_schema_out sink{&out, &SchemaCollector::add};
  weir_error err{};
  const std::string text = params.is_null() ? std::string("{}") : params.dump();
  if (!fn.output_schema) {
    error = "the function declares no output schema";
    return nullptr;
  }
  if (fn.output_schema(in.get(), text.c_str(), &sink, &err) != 0) {
    err.message[WEIR_ERROR_CAPACITY - 1] = 0;
    error = err.message[0] ? err.message : "the function refused its input or params (no message)";
    return nullptr;
  }
  if (!out.error.empty()) {
    error = out.error;
    return nullptr;
  }
  return makeSchema(std::move(out.fields));
}

}  // namespace weir
