import QtQuick
import Weir.Workbench
import QtQuick.Controls
import QtQuick.Layouts

// The records on the selected edge, or of the selected node (its debug view: what a sink
// receives, which is what a print sink prints; what another node emits): while a job runs,
// a live sample from the engine's tap on that edge (refreshed every second); otherwise the
// design-time preview (the job run in this process on the first records of its sources,
// writing nothing).
Rectangle {
    id: panel
    required property JobDocument doc
    required property RunController run
    required property DataPreview preview
    color: Theme.panel

    readonly property string nodeId: doc.selectedEdge > 0 ? "" : doc.currentNode
    readonly property int edgeIndex: doc.selectedEdge > 0 ? doc.edgeRow(doc.selectedEdge)
                                   : nodeId !== "" && doc.nodes.count >= 0 ? doc.debugEdgeRow(nodeId) : -1
    readonly property bool live: run.jobActive
    readonly property var table: live ? run.edgeSample
                                      : (preview.revision >= 0 && edgeIndex >= 0 ? preview.edgeTable(edgeIndex) : ({}))

    // Follow the selection with the live tap while this panel shows.
    function syncWatch() { run.watchEdge(visible && live ? edgeIndex : -1) }
    onEdgeIndexChanged: syncWatch()
    onLiveChanged: syncWatch()
    onVisibleChanged: syncWatch()

    ColumnLayout {
        anchors.fill: parent
        anchors.margins: 8
        spacing: 4
        RowLayout {
            Layout.fillWidth: true
            Button {
                objectName: "previewButton"
                text: panel.preview.running ? "Previewing…" : "Preview"
                enabled: !panel.preview.running && panel.doc.nodes.count > 0
                onClicked: panel.preview.run(panel.doc)
                ToolTip.visible: hovered
                ToolTip.text: "Run the job here on the first " + panel.preview.rowsPerSource
                              + " records of each source and show what flows on every edge (nothing is written)"
            }
            Label {
                Layout.fillWidth: true
                elide: Text.ElideRight
                font.pixelSize: 11
                color: panel.preview.error !== "" && !panel.live ? Theme.error : Theme.textMuted
                text: panel.edgeIndex < 0 ? "Select a node or an edge (click its handle) to see its records."
                    : panel.live ? (panel.table.note !== undefined ? panel.table.note : "waiting for the first live records…")
                    : panel.preview.error !== "" ? panel.preview.error
                    : panel.table.note !== undefined ? panel.table.note
                    : "Press Preview to see this edge's first records."
            }
        }
        Label {
            objectName: "dataTitle"
            visible: panel.table.title !== undefined
            text: panel.table.title !== undefined
                  ? (panel.nodeId !== "" ? panel.nodeId + (panel.doc.debugEdgeRow(panel.nodeId) >= 0 && panel.table.title.indexOf(panel.nodeId + ".") !== 0
                                                           ? " receives: " : " emits: ") : "")
                    + panel.table.title + (panel.table.records !== undefined && panel.table.records !== null
                                         ? "  ·  " + panel.table.records + " records" : "") : ""
            font.bold: true
            color: Theme.text
        }
        Flickable {
            Layout.fillWidth: true
            Layout.fillHeight: true
            clip: true
            contentWidth: grid.width
            contentHeight: grid.height
            ScrollBar.horizontal: ScrollBar {}
            ScrollBar.vertical: ScrollBar {}
            Column {
                id: grid
                objectName: "dataRows"
                readonly property int cellWidth: 110
                // Times are long: their columns are wider (the event time and timestamp fields).
                readonly property var widths: (panel.table.columns || []).map(
                    (c) => c === "event time" || c.endsWith(":timestamp") ? 190 : c === "op" ? 40 : cellWidth)
                Row {
                    Repeater {
                        model: panel.table.columns || []
                        Label {
                            required property string modelData
                            required property int index
                            width: grid.widths[index] || grid.cellWidth
                            text: modelData
                            font.pixelSize: 11
                            font.bold: true
                            color: Theme.textMuted
                            elide: Text.ElideRight
                        }
                    }
                }
                Repeater {
                    model: panel.table.rows || []
                    Row {
                        required property var modelData
                        Repeater {
                            model: modelData
                            Label {
                                required property string modelData
                                required property int index
                                width: grid.widths[index] || grid.cellWidth
                                text: modelData
                                font.pixelSize: 11
                                font.family: Theme.monoFamily
                                color: modelData === "null" ? Theme.textFaint : Theme.text
                                elide: Text.ElideRight
                            }
                        }
                    }
                }
            }
        }
    }
}
