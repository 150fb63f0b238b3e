#include "graph_layout.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <unordered_map>

namespace wb {

double NodeGeometry::height(int inputs, int outputs) {
  int rows = std::max({inputs, outputs, 1});
  return headerHeight + rows * portRowHeight + footerHeight;
}

QPointF NodeGeometry::portOffset(bool input, int index) {
  return {input ? 0.0 : width, headerHeight + (index + 0.5) * portRowHeight};
}

bool nodePosition(const weir::JobNode& n, QPointF& pos) {
  if (!n.ui.is_object()) return false;
  auto x = n.ui.find("x"), y = n.ui.find("y");
  if (x == n.ui.end() || y == n.ui.end() || !x->is_number() || !y->is_number()) return false;
  pos = {x->get<double>(), y->get<double>()};
  return true;
}

nlohmann::json withPosition(const nlohmann::json& ui, QPointF pos) {
  nlohmann::json out = ui.is_object() ? ui : nlohmann::json::object();
  out["x"] = static_cast<std::int64_t>(std::lround(pos.x()));
  out["y"] = static_cast<std::int64_t>(std::lround(pos.y()));
  return out;
}

std::vector<std::string> inputPorts(const weir::JobNode& n, const weir::Catalog& catalog) {
  std::vector<std::string> out;
  if (const weir::OperatorSpec* s = catalog.find(n.type))
    for (const auto& p : s->inputs) out.push_back(p.name);
  return out;
}

std::vector<std::string> outputPorts(const weir::JobNode& n, const weir::Catalog& catalog) {
  std::vector<std::string> out;
  if (const weir::OperatorSpec* s = catalog.find(n.type))
    for (const auto& p : s->outputs) out.push_back(p.name);
  return out;
}

std::vector<QPointF> layeredLayout(const weir::JobGraph& job, const weir::Catalog& catalog) {
  const std::size_t n = job.nodes.size();
  std::unordered_map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < n; ++i) index.emplace(job.nodes[i].id, i);  // first wins
  std::vector<std::vector<std::size_t>> preds(n), succs(n);
  for (const weir::JobEdge& e : job.edges) {
    auto f = index.find(e.from), t = index.find(e.to);
    if (f == index.end() || t == index.end() || f->second == t->second) continue;
    preds[t->second].push_back(f->second);
    succs[f->second].push_back(t->second);
  }
  // Kahn's algorithm in file order; column = longest path from a source.
  std::vector<int> indegree(n), column(n, 0);
  for (std::size_t i = 0; i < n; ++i) indegree[i] = static_cast<int>(preds[i].size());
  std::vector<std::size_t> order, ready;
  for (std::size_t i = 0; i < n; ++i)
    if (indegree[i] == 0) ready.push_back(i);
  std::vector<bool> placed(n, false);
  while (!ready.empty()) {
    std::size_t u = ready.front();
    ready.erase(ready.begin());
    placed[u] = true;
    order.push_back(u);
    for (std::size_t v : succs[u]) {
      column[v] = std::max(column[v], column[u] + 1);
      if (--indegree[v] == 0) ready.push_back(v);
    }
  }
  int lastColumn = 0;
  for (std::size_t u : order) lastColumn = std::max(lastColumn, column[u]);
  for (std::size_t i = 0; i < n; ++i)  // on or behind a cycle
    if (!placed[i]) {
      column[i] = lastColumn + 1;
      order.push_back(i);
    }

  // Rows: columns left to right; within one, by the mean row of the predecessors already
  // placed (barycenter), ties in file order.
  std::map<int, std::vector<std::size_t>> columns;
  for (std::size_t u : order) columns[column[u]].push_back(u);
  std::vector<double> row(n, 0.0);
  std::vector<double> heights(n);
  for (std::size_t i = 0; i < n; ++i)
    heights[i] = NodeGeometry::height(static_cast<int>(inputPorts(job.nodes[i], catalog).size()),
                                      static_cast<int>(outputPorts(job.nodes[i], catalog).size()));
  std::vector<QPointF> pos(n);
  for (auto& [col, members] : columns) {
    std::vector<std::pair<double, std::size_t>> keyed;
    for (std::size_t k = 0; k < members.size(); ++k) {
      std::size_t u = members[k];
      double key = static_cast<double>(k);
      std::vector<double> rows;
      for (std::size_t p : preds[u])
        if (column[p] < col) rows.push_back(row[p]);
      if (!rows.empty()) key = std::accumulate(rows.begin(), rows.end(), 0.0) / rows.size();
      keyed.emplace_back(key, u);
    }
    std::stable_sort(keyed.begin(), keyed.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    double y = kLayoutOrigin.y();
    for (std::size_t k = 0; k < keyed.size(); ++k) {
      std::size_t u = keyed[k].second;
      row[u] = static_cast<double>(k);
      pos[u] = {kLayoutOrigin.x() + col * (NodeGeometry::width + kLayoutColumnGap), y};
      y += heights[u] + kLayoutRowGap;
    }
  }
  return pos;
}

}  // namespace wb
