import QtQuick
import Weir.Workbench
import QtQuick.Controls
import QtQuick.Layouts

// Past runs of the open job (by its name) on the current cluster, from the JobManager's
// metadata: status and duration; for the chosen run its exceptions and, for the selected
// node, its metric history.
Rectangle {
    id: panel
    required property JobDocument doc
    required property RunController run
    property string chosen: ""
    color: Theme.panel

    function refresh() { run.loadRuns(doc.name) }
    onVisibleChanged: if (visible) refresh()
    Connections {
        target: panel.run
        function onJobEnded() { if (panel.visible) panel.refresh() }
    }
    Connections {  // another document (or this one opened again): none of the old run shows
        target: panel.doc
        function onLoaded() { panel.chosen = ""; if (panel.visible) panel.refresh() }
    }

    readonly property var nodeHistory: run.runDetail.nodes && doc.currentNode !== "" ? run.runDetail.nodes[doc.currentNode] : undefined

    RowLayout {
        anchors.fill: parent
        anchors.margins: 8
        spacing: 10

        ColumnLayout {
            Layout.preferredWidth: 300
            Layout.fillHeight: true
            RowLayout {
                Label { text: "Runs of " + panel.doc.name; font.bold: true; color: Theme.text }
                Item { Layout.fillWidth: true }
                ToolButton { text: "↻"; onClicked: panel.refresh() }
            }
            ListView {
                objectName: "runList"
                Layout.fillWidth: true
                Layout.fillHeight: true
                clip: true
                model: panel.run.runList
                delegate: ItemDelegate {
                    required property var modelData
                    width: ListView.view.width
                    height: 24
                    highlighted: panel.chosen === modelData.id
                    onClicked: { panel.chosen = modelData.id; panel.run.loadRun(modelData.id) }
                    contentItem: RowLayout {
                        Label {
                            text: modelData.status
                            font.pixelSize: 11; font.bold: true
                            color: modelData.status === "FAILED" ? Theme.error : modelData.status === "FINISHED" ? Theme.ok : Theme.accent
                            Layout.preferredWidth: 70
                        }
                        Label {
                            Layout.fillWidth: true
                            font.pixelSize: 11; color: Theme.text
                            text: (modelData.startedMs ? new Date(modelData.startedMs).toLocaleString(Qt.locale(), "yyyy-MM-dd HH:mm:ss") : "never started")
                                  + (modelData.durationMs !== undefined && modelData.durationMs !== null ? "  " + Format.duration(modelData.durationMs) : "")
                        }
                    }
                }
            }
        }

        ColumnLayout {
            Layout.fillWidth: true
            Layout.fillHeight: true
            visible: panel.chosen !== ""
            Label {
                color: Theme.textMuted; font.pixelSize: 11
                text: panel.run.runDetail.exceptions && panel.run.runDetail.exceptions.length
                      ? panel.run.runDetail.exceptions.length + " exception(s)" : "no exceptions"
            }
            Repeater {
                model: panel.run.runDetail.exceptions || []
                delegate: Label {
                    required property var modelData
                    Layout.fillWidth: true
                    wrapMode: Text.Wrap
                    maximumLineCount: 3
                    elide: Text.ElideRight
                    font.pixelSize: 11
                    color: modelData.rootCause ? Theme.error : Theme.textMuted
                    text: (modelData.rootCause ? "root cause: " : "") + modelData.message
                }
            }
            Label {
                color: Theme.textMuted; font.pixelSize: 11
                text: panel.doc.currentNode === "" ? "Select a node to see its history." : "History of " + panel.doc.currentNode
            }
            RowLayout {
                visible: panel.nodeHistory !== undefined
                spacing: 10
                Sparkline { title: "records in/s"; values: panel.nodeHistory ? panel.nodeHistory.recordsInPerS : []; format: (v) => Format.rate(v); Layout.fillWidth: true }
                Sparkline { title: "records out/s"; values: panel.nodeHistory ? panel.nodeHistory.recordsOutPerS : []; format: (v) => Format.rate(v); Layout.fillWidth: true }
                Sparkline { title: "busy ms/s"; values: panel.nodeHistory ? panel.nodeHistory.busy : []; color: Theme.levelLow; Layout.fillWidth: true }
                Sparkline { title: "backpressured ms/s"; values: panel.nodeHistory ? panel.nodeHistory.backpressured : []; color: Theme.levelHigh; Layout.fillWidth: true }
                Sparkline { title: "watermark lag"; values: panel.nodeHistory ? panel.nodeHistory.watermarkLagMs : []; format: (v) => Format.duration(v); Layout.fillWidth: true }
            }
            Item { Layout.fillHeight: true }
        }
    }
}
