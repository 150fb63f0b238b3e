import QtQuick
import Weir.Workbench
import QtQuick.Controls
import QtQuick.Layouts

// The run of the open job on the local cluster: its status, and for the selected node
// (or every node) the live figures per subtask; and the daemons' logs.
Rectangle {
    id: panel
    required property JobDocument doc
    required property RunController run
    property bool showLogs: false
    color: Theme.panel

    readonly property var live: run.live
    readonly property string nodeId: doc.currentNode
    readonly property var stats: live.revision >= 0 && nodeId !== "" ? live.node(nodeId) : ({})

    ColumnLayout {
        anchors.fill: parent
        anchors.margins: 10
        spacing: 6

        RowLayout {
            Layout.fillWidth: true
            spacing: 10
            Label {
                objectName: "runStatus"
                font.bold: true
                color: panel.run.jobStatus === "FAILED" ? Theme.error
                     : panel.run.jobStatus === "FINISHED" ? Theme.ok : Theme.text
                text: panel.run.jobStatus !== "" ? panel.run.jobName + " " + panel.run.jobStatus
                    : panel.run.jobActive ? "Submitting…" : "Not running"
            }
            Label {
                color: Theme.textMuted; font.pixelSize: 11
                text: panel.run.clusterState === "running" ? "local cluster " + panel.run.clusterUrl + " · "
                      + (panel.run.logNames.length - 1) + " TaskManagers"
                      : panel.run.clusterState === "starting" ? "starting the local cluster…"
                      : panel.run.clusterState === "failed" ? "the local cluster did not start" : "local cluster stopped"
            }
            Item { Layout.fillWidth: true }
            Button { text: panel.showLogs ? "Figures" : "Logs"; flat: true; onClicked: panel.showLogs = !panel.showLogs }
        }
        Label {
            objectName: "runError"
            visible: text !== ""
            Layout.fillWidth: true
            wrapMode: Text.Wrap
            color: Theme.error
            font.pixelSize: 11
            text: panel.run.failure !== "" ? panel.run.failure : panel.run.lastError
        }

        // Figures: per subtask of the selected node.
        ColumnLayout {
            visible: !panel.showLogs
            Layout.fillWidth: true
            Layout.fillHeight: true
            spacing: 2
            Label {
                color: Theme.textMuted; font.pixelSize: 11
                text: panel.nodeId === "" ? "Select a node to see its subtasks."
                    : panel.stats.busy === undefined ? panel.nodeId + ": no figures yet"
                    : panel.nodeId + ": " + Format.rate(panel.stats.recordsInPerS) + " in, "
                      + Format.rate(panel.stats.recordsOutPerS) + " out · " + panel.stats.recordsOut + " records out"
                      + (panel.stats.deadLetters > 0 ? " · " + panel.stats.deadLetters + " dead letters" : "")
                      + (panel.stats.lateRecords > 0 ? " · " + panel.stats.lateRecords + " late" : "")
            }
            RowLayout {  // the selected node's figures over the last minutes
                visible: panel.stats.busy !== undefined
                Layout.fillWidth: true
                spacing: 10
                Sparkline { title: "records in/s"; values: panel.live.revision >= 0 ? panel.live.history(panel.nodeId, "recordsInPerS") : []; format: (v) => Format.rate(v); Layout.fillWidth: true; implicitHeight: 48 }
                Sparkline { title: "records out/s"; values: panel.live.revision >= 0 ? panel.live.history(panel.nodeId, "recordsOutPerS") : []; format: (v) => Format.rate(v); Layout.fillWidth: true; implicitHeight: 48 }
                Sparkline { title: "busy ms/s"; values: panel.live.revision >= 0 ? panel.live.history(panel.nodeId, "busy") : []; color: Theme.levelLow; Layout.fillWidth: true; implicitHeight: 48 }
                Sparkline { title: "backpressured ms/s"; values: panel.live.revision >= 0 ? panel.live.history(panel.nodeId, "backpressured") : []; color: Theme.levelHigh; Layout.fillWidth: true; implicitHeight: 48 }
                Sparkline { title: "watermark lag"; values: panel.live.revision >= 0 ? panel.live.history(panel.nodeId, "watermarkLagMs") : []; format: (v) => Format.duration(v); Layout.fillWidth: true; implicitHeight: 48 }
            }
            Row {
                visible: panel.stats.subtasks !== undefined
                spacing: 0
                Repeater {
                    model: ["#", "TaskManager", "in/s", "out/s", "busy", "backpressure", "idle", "input queue", "watermark"]
                    Label { required property string modelData; width: index === 1 ? 130 : index === 8 ? 170 : index === 5 ? 100 : 84; font.pixelSize: 11; font.bold: true; color: Theme.textMuted; text: modelData; required property int index }
                }
            }
            ListView {
                Layout.fillWidth: true
                Layout.fillHeight: true
                clip: true
                model: panel.stats.subtasks !== undefined ? panel.stats.subtasks : []
                delegate: Row {
                    required property var modelData
                    spacing: 0
                    component Cell: Label { width: 84; font.pixelSize: 11; color: Theme.text }
                    Cell { text: modelData.subtask; font.bold: panel.stats.holdingSubtask === modelData.subtask }
                    Cell { width: 130; text: modelData.taskmanager; elide: Text.ElideRight }
                    Cell { text: Format.rate(modelData.recordsInPerS) }
                    Cell { text: Format.rate(modelData.recordsOutPerS) }
                    Cell { text: Format.percent(modelData.busy); color: modelData.busy > 500 ? Theme.levelHigh : modelData.busy > 100 ? Theme.levelLow : Theme.text }
                    Cell { width: 100; text: Format.percent(modelData.backpressured); color: modelData.backpressured > 500 ? Theme.levelHigh : modelData.backpressured > 100 ? Theme.levelLow : Theme.text }
                    Cell { text: Format.percent(modelData.idle) }
                    Cell { text: Math.round(modelData.inputUsage * 100) + "%" }
                    Cell {
                        width: 170
                        text: modelData.inputWatermark !== null && modelData.inputWatermark !== undefined ? Format.time(modelData.inputWatermark)
                            : modelData.outputWatermark !== null && modelData.outputWatermark !== undefined ? Format.time(modelData.outputWatermark) : "—"
                    }
                }
            }
        }

        // Logs of the daemons.
        ColumnLayout {
            visible: panel.showLogs
            Layout.fillWidth: true
            Layout.fillHeight: true
            ComboBox {
                id: logChoice
                model: panel.run.logNames
                implicitWidth: 200
            }
            ScrollView {
                Layout.fillWidth: true
                Layout.fillHeight: true
                TextArea {
                    id: logText
                    objectName: "logText"
                    readOnly: true
                    font.family: Theme.monoFamily
                    font.pixelSize: 11
                    wrapMode: TextEdit.NoWrap
                    text: panel.showLogs && logChoice.currentText !== "" && panel.live.revision >= 0
                          ? panel.run.logTail(logChoice.currentText, 200) : ""
                }
            }
        }
    }
}
