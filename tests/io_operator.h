#pragma once
// Creating one source or sink instance directly, as the I/O suites drive them: a context
// with the fewest fields a test needs, and the operator made by its registered factory.

#include <memory>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "runtime/operator.h"
#include "runtime/registry.h"

/// A context for node "n", subtask `subtask` of `parallelism`, with `params` as given.
inline weir::OperatorContext makeContext(std::string type, nlohmann::json params, int subtask = 0,
                                         int parallelism = 1) {
  weir::OperatorContext ctx;
  ctx.nodeId = "n";
  ctx.type = std::move(type);
  ctx.subtask = subtask;
  ctx.parallelism = parallelism;
  ctx.params = std::move(params);
  return ctx;
}

/// The file, generator and SQLite operators' instance for `ctx` (throws for another type).
inline std::unique_ptr<weir::Operator> create(const weir::OperatorContext& ctx) {
  weir::OperatorRegistry r;
  weir::registerFileOperators(r);
  weir::registerGeneratorOperators(r);
  weir::registerSqliteSink(r);
  const weir::OperatorFactory* f = r.find(ctx.type);
  if (!f) throw std::runtime_error("no operator " + ctx.type);
  return (*f)(ctx);
}
