#pragma once
// The runtime's operator registry: job-file type name -> factory (as Arrow's
// ExecFactoryRegistry). The catalog (core/catalog.h) says what a type's ports and params
// are; this says how to run it. Built-in operators register through the explicit list in
// registry.cpp (static initializers in a static library would be dropped by the linker);
// plugins add theirs when they are loaded.

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "runtime/operator.h"

namespace weir {

/// Creates one operator instance for one subtask. `ctx` holds the normalized params and
/// the schemas; the factory may read them (and throw JobError) but open() gets ctx again.
using OperatorFactory = std::function<std::unique_ptr<Operator>(const OperatorContext& ctx)>;

class OperatorRegistry {
 public:
  /// The registry with every built-in operator.
  static const OperatorRegistry& builtin();

  void add(std::string type, OperatorFactory factory);
  /// nullptr when no operator of that type can run (e.g. in the catalog, not yet runnable).
  const OperatorFactory* find(std::string_view type) const;

 private:
  std::map<std::string, OperatorFactory, std::less<>> factories_;
};

// Registration functions of the built-in operator files (called by builtin()).
void registerBasicOperators(OperatorRegistry& r);      // filter, map, union, sink.discard
void registerStdoutSink(OperatorRegistry& r);          // sink.stdout
void registerSqliteSink(OperatorRegistry& r);          // sink.sqlite
void registerFileOperators(OperatorRegistry& r);       // source.file, sink.file
void registerGeneratorOperators(OperatorRegistry& r);  // source.generator
void registerWatermarkOperator(OperatorRegistry& r);   // watermark
void registerWindowOperator(OperatorRegistry& r);      // window
void registerAggregateOperator(OperatorRegistry& r);   // aggregate
void registerJoinOperator(OperatorRegistry& r);        // join
void registerUdfOperator(OperatorRegistry& r);         // udf (plugin functions)

}  // namespace weir
