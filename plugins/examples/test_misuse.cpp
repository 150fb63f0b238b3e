// A plugin that misbehaves on purpose (tests/test_udf.cpp): the engine must fail the job
// with a message, not crash. Not an example to copy.
//   wrong_type  output `s` (string); appends an int64 into it
//   give_up     output as input; process returns an error
#include <cstdio>

#include "weir_plugin.h"

namespace {

int stringOut(const weir_schema*, const char*, const weir_schema_out* out, weir_error*) {
  out->add_field(out->host, "s", WEIR_STRING);
  return 0;
}
int sameOut(const weir_schema* in, const char*, const weir_schema_out* out, weir_error*) {
  for (size_t i = 0; i < in->num_fields; ++i) out->add_field(out->host, in->fields[i].name, in->fields[i].type);
  return 0;
}
void* create(const weir_schema*, const char*, weir_error*) {
  static int state;
  return &state;
}
void destroy(void*) {}
int wrongType(void*, const weir_batch* b, const weir_emitter* out, weir_error*) {
  for (uint32_t r = 0; r < b->num_rows; ++r) {
    out->append_int64(out->host, 0, 42);
    out->end_row(out->host, r);
  }
  return 0;
}
int giveUp(void*, const weir_batch*, const weir_emitter*, weir_error* err) {
  std::snprintf(err->message, WEIR_ERROR_CAPACITY, "cannot go on");
  return 1;
}

const weir_function kFunctions[] = {
    {"wrong_type", "Appends an int64 into a string column.", stringOut, create, destroy, wrongType},
    {"give_up", "Fails every batch.", sameOut, create, destroy, giveUp},
};
const weir_plugin kPlugin = {WEIR_PLUGIN_ABI_VERSION, "weir_test_misuse", "0.0.1", 2, kFunctions};

}  // namespace

extern "C" WEIR_PLUGIN_EXPORT const weir_plugin* weir_plugin_v1(void) { return &kPlugin; }
