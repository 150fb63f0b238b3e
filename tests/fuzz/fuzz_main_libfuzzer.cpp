// libFuzzer entry point (clang only): `fuzz_net [libFuzzer flags] [corpus dir]` (fuzz_inputs likewise).
#include "fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  weir::fuzz::runOne(data, size);
  return 0;
}
