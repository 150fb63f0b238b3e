pragma Singleton
import QtQuick

// Colours and sizes of the workbench: one calm light theme (a dark one can follow by
// switching these values). Everything that paints reads from here.
QtObject {
    readonly property color window: "#f4f5f7"
    readonly property color panel: "#fbfbfc"
    readonly property color panelBorder: "#dfe2e7"
    readonly property color canvas: "#f7f8fa"
    readonly property color grid: "#eceef2"
    readonly property color gridMajor: "#dcdfe5"
    readonly property color text: "#1f2430"
    readonly property color textMuted: "#6b7280"
    readonly property color textFaint: "#9aa1ad"
    readonly property color accent: "#2563eb"
    readonly property color accentSoft: "#dbe7fe"
    readonly property color ok: "#15803d"
    readonly property color okSoft: "#dcfce7"
    readonly property color error: "#dc2626"
    readonly property color errorSoft: "#fde8e8"
    readonly property color warning: "#b45309"
    readonly property color warningSoft: "#fef3c7"
    readonly property color node: "#ffffff"
    readonly property color nodeBorder: "#cfd4dc"
    readonly property color edge: "#8b95a7"
    readonly property color port: "#ffffff"
    readonly property color portBorder: "#7c8799"
    readonly property color source: "#0f9d76"
    readonly property color transform: "#3b6fd8"
    readonly property color sink: "#8b5cf6"
    readonly property color unknown: "#9ca3af"

    function categoryColor(category) {
        return category === "source" ? source
             : category === "transform" ? transform
             : category === "sink" ? sink : unknown
    }

    readonly property int fontSize: 13
    readonly property int smallFont: 11
    readonly property string monoFamily: "DejaVu Sans Mono"
}
