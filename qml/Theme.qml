pragma Singleton
import QtQuick

// Colours and sizes of the workbench: a calm light theme and a dark one (View › Dark Theme).
// Everything that paints reads from here.
QtObject {
    property bool dark: false

    readonly property color window: dark ? "#1d2026" : "#f4f5f7"
    readonly property color panel: dark ? "#23272e" : "#fbfbfc"
    readonly property color panelBorder: dark ? "#353a44" : "#dfe2e7"
    readonly property color field: dark ? "#1a1d22" : "#ffffff"
    readonly property color stripe: dark ? "#282c34" : "#f1f3f6"
    readonly property color canvas: dark ? "#1a1c21" : "#f7f8fa"
    readonly property color grid: dark ? "#23262d" : "#eceef2"
    readonly property color text: dark ? "#e3e6eb" : "#1f2430"
    readonly property color textMuted: dark ? "#a0a7b3" : "#6b7280"
    readonly property color textFaint: dark ? "#6f7682" : "#9aa1ad"
    readonly property color accent: dark ? "#5b8def" : "#2563eb"
    readonly property color accentSoft: dark ? "#263756" : "#dbe7fe"
    readonly property color band: dark ? Qt.rgba(0.36, 0.55, 0.94, 0.12) : Qt.rgba(0.15, 0.39, 0.92, 0.08)
    readonly property color ok: dark ? "#4ade80" : "#15803d"
    readonly property color okSoft: dark ? "#173524" : "#dcfce7"
    readonly property color error: dark ? "#f87171" : "#dc2626"
    readonly property color errorSoft: dark ? "#43201f" : "#fde8e8"
    readonly property color warning: dark ? "#fbbf24" : "#b45309"
    readonly property color warningSoft: dark ? "#3a2f14" : "#fef3c7"
    readonly property color warningBorder: dark ? "#5c4a1c" : "#f3d98b"
    readonly property color node: dark ? "#2a2e36" : "#ffffff"
    readonly property color nodeBorder: dark ? "#414754" : "#cfd4dc"
    readonly property color edge: dark ? "#7d8697" : "#8b95a7"
    readonly property color port: dark ? "#2a2e36" : "#ffffff"
    readonly property color portBorder: dark ? "#8a93a3" : "#7c8799"
    readonly property color minimap: dark ? Qt.rgba(0.14, 0.15, 0.18, 0.92) : Qt.rgba(1, 1, 1, 0.92)
    readonly property color source: "#0f9d76"
    readonly property color transform: dark ? "#5b8def" : "#3b6fd8"
    readonly property color sink: "#8b5cf6"
    readonly property color unknown: "#9ca3af"
    // Expression colours.
    readonly property color keyword: dark ? "#c4a1ff" : "#7c3aed"
    readonly property color string: dark ? "#86d39a" : "#15803d"
    readonly property color number: dark ? "#f0b45c" : "#b45309"
    readonly property color function_: dark ? "#7fb0ff" : "#1d4ed8"

    // Live figures: Flink's scale for busy/backpressured time (ok below 10%, low to 50%, high above).
    readonly property color levelOk: dark ? "#4ade80" : "#16a34a"
    readonly property color levelLow: dark ? "#fbbf24" : "#d97706"
    readonly property color levelHigh: dark ? "#f87171" : "#dc2626"
    function levelColor(level) {
        return level === "high" ? levelHigh : level === "low" ? levelLow : levelOk
    }
    // Backpressured time has its own colours (slate, as Flink's dark grey), so that a busy
    // node (orange, red) and a backpressured one read differently at a glance.
    readonly property color bpLow: dark ? "#94a3b8" : "#64748b"
    readonly property color bpHigh: dark ? "#cbd5e1" : "#334155"
    function bpColor(level) {
        return level === "high" ? bpHigh : level === "low" ? bpLow : levelOk
    }
    // The colour of a node's live bar: what holds it (busy or backpressured), by level.
    function pressureColor(stats) {
        return stats.pressure === "backpressured" ? bpColor(stats.bpLevel)
             : stats.pressure === "busy" ? levelColor(stats.busyLevel) : levelOk
    }
    function categoryColor(category) {
        return category === "source" ? source
             : category === "transform" ? transform
             : category === "sink" ? sink : unknown
    }

    readonly property int fontSize: 13
    readonly property int smallFont: 11
    readonly property string monoFamily: "DejaVu Sans Mono"
}
