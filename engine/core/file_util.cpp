#include "core/file_util.h"

#include <unistd.h>

#include <atomic>
#include <fstream>
#include <stdexcept>
#include <string>
#include <system_error>

namespace weir {

void writeFileAtomically(const std::filesystem::path& target, std::string_view content) {
  static std::atomic<unsigned long> calls{0};
  const std::filesystem::path tmp =
      target.string() + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(calls++);
  std::error_code ec;
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    out.close();
    if (!out) {
      std::filesystem::remove(tmp, ec);
      throw std::runtime_error("cannot write " + tmp.string());
    }
  }
  std::filesystem::rename(tmp, target, ec);
  if (ec) {
    const std::string why = ec.message();
    std::filesystem::remove(tmp, ec);
    throw std::runtime_error("cannot store " + target.string() + ": " + why);
  }
}

}  // namespace weir
