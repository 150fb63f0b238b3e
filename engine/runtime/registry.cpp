#include "runtime/registry.h"

namespace weir {

const OperatorRegistry& OperatorRegistry::builtin() {
  static const OperatorRegistry registry = [] {
    OperatorRegistry r;
    registerBasicOperators(r);
    registerStdoutSink(r);
    registerSqliteSink(r);
    registerFileOperators(r);
    registerGeneratorOperators(r);
    registerWatermarkOperator(r);
    registerWindowOperator(r);
    registerAggregateOperator(r);
    registerJoinOperator(r);
    registerUdfOperator(r);
    return r;
  }();
  return registry;
}

void OperatorRegistry::add(std::string type, OperatorFactory factory) {
  factories_[std::move(type)] = std::move(factory);
}

const OperatorFactory* OperatorRegistry::find(std::string_view type) const {
  auto it = factories_.find(type);
  return it == factories_.end() ? nullptr : &it->second;
}

}  // namespace weir
