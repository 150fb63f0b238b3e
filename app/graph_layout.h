#pragma once
// Geometry of nodes on the canvas and the layered auto-layout. Pure functions over the
// engine's JobGraph, so that the QML canvas, hit tests and tests agree on where things are.

#include <string>
#include <vector>

#include <QPointF>
#include <QRectF>

#include "core/catalog.h"
#include "core/job.h"

namespace wb {

/// Sizes of a node on the canvas, in canvas units (the QML delegates use the same numbers
/// through JobDocument's geometry properties).
struct NodeGeometry {
  static constexpr double width = 180;
  static constexpr double headerHeight = 46;   // id and type
  static constexpr double portRowHeight = 22;  // one row per port, inputs left, outputs right
  static constexpr double footerHeight = 8;

  /// Height of a node with this many input and output ports (at least one row).
  static double height(int inputs, int outputs);
  /// Centre of port `index` (0-based) on the node's left (input) or right (output) edge,
  /// relative to the node's top-left corner.
  static QPointF portOffset(bool input, int index);
};

/// The node's position from its `ui` object; nullopt-like (false) when it has none.
bool nodePosition(const weir::JobNode& n, QPointF& pos);
/// A copy of `ui` (an object, or a new one) with x and y set, rounded to whole units.
nlohmann::json withPosition(const nlohmann::json& ui, QPointF pos);

/// The ports of a node's type (catalog order); empty for an unknown type.
std::vector<std::string> inputPorts(const weir::JobNode& n, const weir::Catalog& catalog);
std::vector<std::string> outputPorts(const weir::JobNode& n, const weir::Catalog& catalog);

/// Layered layout: each node goes in the column of its longest path from a source
/// (topological columns; nodes on cycles after the rest), and rows within a column are
/// ordered by the mean row of their predecessors, then spread evenly. Returns a position
/// for every node, aligned with job.nodes.
std::vector<QPointF> layeredLayout(const weir::JobGraph& job, const weir::Catalog& catalog);

/// Column and row spacing of layeredLayout, and where it starts.
inline constexpr double kLayoutColumnGap = 80;
inline constexpr double kLayoutRowGap = 40;
inline constexpr QPointF kLayoutOrigin{40, 40};

}  // namespace wb
