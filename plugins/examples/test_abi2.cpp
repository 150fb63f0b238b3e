// A plugin that claims ABI version 2: the engine must refuse it with a clear message
// (tests/test_udf.cpp). Not an example to copy.
#include "weir_plugin.h"

static const weir_plugin kPlugin = {2, "weir_test_abi2", "0.0.1", 0, nullptr};

extern "C" WEIR_PLUGIN_EXPORT const weir_plugin* weir_plugin_v1(void) { return &kPlugin; }
