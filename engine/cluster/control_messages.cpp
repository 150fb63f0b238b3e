#include "cluster/control_messages.h"

#include "cluster/limits.h"

namespace weir::cluster {

std::string registerProblem(const nlohmann::json& m) {
  auto isInt = [&](const char* key, std::int64_t lo, std::int64_t hi) {
    const auto it = m.find(key);
    return it != m.end() && it->is_number_integer() && it->get<std::int64_t>() >= lo && it->get<std::int64_t>() <= hi;
  };
  const auto name = m.find("name");
  if (name == m.end() || !name->is_string() || name->get_ref<const std::string&>().empty() ||
      name->get_ref<const std::string&>().size() > kMaxNodeName)
    return "name must be a string of 1 to " + std::to_string(kMaxNodeName) + " bytes";
  if (!isInt("slots", 1, kMaxSlots)) return "slots must be a whole number from 1 to " + std::to_string(kMaxSlots);
  if (const auto h = m.find("data_host");
      h != m.end() && (!h->is_string() || h->get_ref<const std::string&>().size() > kMaxNodeName))
    return "data_host must be a string of at most " + std::to_string(kMaxNodeName) + " bytes";
  if (m.contains("data_port") && !isInt("data_port", 0, 65535)) return "data_port must be a whole number from 0 to 65535";
  if (const auto h = m.find("plugin_hashes"); h != m.end()) {
    if (!h->is_array() || h->size() > 4096) return "plugin_hashes must be an array of at most 4096 strings";
    for (const auto& x : *h)
      if (!x.is_string() || x.get_ref<const std::string&>().size() > 128)
        return "plugin_hashes must hold SHA-256 hex strings";
  }
  return {};
}

}  // namespace weir::cluster
