// libFuzzer entry point (clang only): `fuzz_net [libFuzzer flags] [corpus dir]`.
#include "fuzz_net.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  weir::net::fuzz::runOne(data, size);
  return 0;
}
